"""The health, backup, restore and diagnostics verbs, run as a user would."""
from __future__ import annotations

import json
import sqlite3
import zipfile

from tests.app.test_cli import run_cli


def test_health_json_shape_and_exit_codes(tmp_path, shared_data):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("health", "--json", home=empty, check=False)
    out = json.loads(r.stdout)
    assert list(out) == ["checks"]
    assert all(list(c) == ["name", "status", "value", "unit"] for c in out["checks"])
    assert {c["status"] for c in out["checks"]} <= {"healthy", "degraded", "unhealthy"}
    assert r.returncode == 0  # nothing stored, nothing unhealthy
    names = [c["name"] for c in out["checks"]]
    for n in ("database_integrity", "database_size", "database_latency", "disk_used", "process_memory",
              "background_work", "last_backup_age", "sync_status"):
        assert n in names

    home = tmp_path / "home"
    run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), home=home)
    r = run_cli("health", "--json", home=home, check=False)
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["database_integrity"] == {"name": "database_integrity", "status": "healthy",
                                            "value": "ok", "unit": ""}
    stale = checks["data_freshness:csv:ORCL:1d"]
    assert stale["status"] == "unhealthy" and stale["value"] > 2000  # last bar 2014-12-31
    assert checks["last_backup_age"]["status"] == "unhealthy"  # no backup yet
    assert r.returncode == 1
    human = run_cli("health", home=home, check=False).stdout.splitlines()
    assert len(human) == len(checks) and human[0].split()[:3] == ["database_integrity", "healthy", "ok"]


def test_backup_then_restore_keeps_the_current_store_aside(tmp_path, shared_data):
    home = tmp_path / "home"
    run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), home=home)
    path = run_cli("backup", home=home).stdout.strip()
    assert path.startswith(str(home / "backups" / "stockscanner-"))
    assert sqlite3.connect(path).execute("SELECT rows FROM bar_series").fetchone()[0] == 5036
    out = tmp_path / "mine.sqlite3"
    assert run_cli("backup", "--out", str(out), home=home).stdout.strip() == str(out)
    r = run_cli("backup", "--out", str(out), home=home, check=False)
    assert r.returncode == 1 and "already exists" in r.stderr

    db = home / "stockscanner.sqlite3"
    c = sqlite3.connect(db)
    c.execute("DELETE FROM bar_chunks")
    c.execute("DELETE FROM bar_series")
    c.commit()
    c.close()
    r = run_cli("restore", path, home=home)
    assert "kept as" in r.stdout
    assert sqlite3.connect(db).execute("SELECT rows FROM bar_series").fetchone()[0] == 5036
    aside = list(home.glob("stockscanner.sqlite3.before-restore-*"))
    assert len([a for a in aside if not a.name.endswith(("-wal", "-shm"))]) == 1


def test_restore_refuses_a_foreign_file_and_a_running_workstation(tmp_path, shared_data):
    home = tmp_path / "home"
    run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), home=home)
    foreign = tmp_path / "other.sqlite3"
    c = sqlite3.connect(foreign)
    c.execute("CREATE TABLE t(x)")
    c.commit()
    c.close()
    r = run_cli("restore", str(foreign), home=home, check=False)
    assert r.returncode == 1 and "not a Stock Scanner store" in r.stderr and "Traceback" not in r.stderr
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"hello")
    r = run_cli("restore", str(garbage), home=home, check=False)
    assert r.returncode == 1 and r.stderr.startswith("error:") and "cannot be restored" in r.stderr

    path = run_cli("backup", home=home).stdout.strip()
    from app.single_instance import SingleInstance

    lock = SingleInstance(home)
    assert lock.acquire(listen=False)
    try:
        r = run_cli("restore", path, home=home, check=False)
    finally:
        lock.release()
    assert r.returncode == 1 and "workstation has this data folder open" in r.stderr
    assert not list(home.glob("*.before-restore-*"))


SECRETS = [
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlc2lnbmF0dXJl",
    "s3cr3t-Bearer-Value-123",
    "hunter2hunter2",
    "AKIA1234567890SECRET",
    "bob.trader@example.com",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "refresh-tok-998877",
]


def test_diagnostics_zip_contains_no_planted_secret(tmp_path):
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "stockscanner.log").write_text(
        f"INFO sign-in ok token={SECRETS[0]}\n"
        f"DEBUG GET /api Authorization: Bearer {SECRETS[1]}\n"
        f"INFO login password={SECRETS[2]} user={SECRETS[4]}\n"
        f"-----BEGIN PRIVATE KEY-----\n{SECRETS[5]}\n-----END PRIVATE KEY-----\n"
        "INFO an ordinary line that must stay\n", encoding="utf-8")
    (home / "settings.ini").write_text(
        "[General]\nversion=1\n[service]\n"
        f"api_key={SECRETS[3]}\nrefresh_token=\"{SECRETS[6]}\"\naccount={SECRETS[4]}\n", encoding="utf-8")
    out = tmp_path / "diag.zip"
    r = run_cli("diagnostics", "--out", str(out), home=home)
    assert r.stdout.strip() == str(out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        blob = "\n".join(zf.read(n).decode("utf-8") for n in names)
    assert {"logs/stockscanner.log", "settings.ini", "health.json", "system.txt"} <= set(names)
    for s in SECRETS:
        assert s not in blob, s
    assert "an ordinary line that must stay" in blob and "[REDACTED]" in blob
    assert json.loads(zipfile.ZipFile(out).read("health.json"))["checks"][0]["name"] == "database_integrity"
