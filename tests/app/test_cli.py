"""The headless CLI, run as a user would (a child process with --data-dir)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args, home=None, check=True):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("STOCKSCANNER_HOME", None)
    cmd = [sys.executable, "-m", "app"] + ([f"--data-dir={home}"] if home else []) + list(args)
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def test_version():
    from engine import __version__

    assert run_cli("--version").stdout.strip() == f"stockscanner {__version__}"


def test_import_json_reports_rows_and_range(tmp_path, shared_data):
    r = run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), "--json", home=tmp_path)
    out = json.loads(r.stdout)
    assert {k: out[k] for k in ("symbol", "timeframe", "rows", "first", "last")} == {
        "symbol": "ORCL", "timeframe": "1d", "rows": 5036, "first": "1995-01-03", "last": "2014-12-31"}
    assert out["notes"] == ["Adj Close was not used (bars keep the Close as traded)."] and out["skipped"] == 0


def test_import_of_the_8_column_futures_file(tmp_path, shared_data):
    r = run_cli("import", str(shared_data / "FUT-2006-1min.csv"), "--symbol", "FUT", "--json", home=tmp_path)
    out = json.loads(r.stdout)
    assert out["rows"] == 30889 and out["timeframe"] == "1m" and out["symbol"] == "FUT"


def test_import_of_a_bad_csv_fails_cleanly_with_the_row(tmp_path):
    bad = tmp_path / "BAD.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,100\n2020-01-03,1,0.5,2,1.5,100\n")
    r = run_cli("import", str(bad), home=tmp_path / "home", check=False)
    assert r.returncode == 1
    assert "line 3" in r.stderr.lower() or "row 3" in r.stderr.lower()
    assert "Traceback" not in r.stderr


def test_unwritable_data_dir_is_a_clear_error(tmp_path, shared_data):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), home=blocker / "sub", check=False)
    assert r.returncode == 1 and "cannot be written" in r.stderr and "Traceback" not in r.stderr


def test_screenshot_renders_the_demo_workspace(tmp_path):
    out = tmp_path / "shot.png"
    run_cli("screenshot", str(out), "--size", "1200x800", home=tmp_path / "home")
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (1200, 800)
    # not a blank image: many distinct colours (candles, text, badge)
    colors = {img.pixel(x, y) for x in range(0, 1200, 7) for y in range(0, 800, 7)}
    assert len(colors) > 50


def test_window_refuses_a_damaged_database_and_leaves_it_untouched(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "stockscanner.sqlite3"
    junk = b"definitely not sqlite" * 64
    db.write_bytes(junk)
    r = run_cli(home=home, check=False)  # no verb: the window
    assert r.returncode == 1
    assert "damaged" in r.stderr and "has not been changed" in r.stderr
    assert db.read_bytes() == junk


def test_window_refuses_a_foreign_sqlite_file_and_leaves_it_untouched(tmp_path):
    import sqlite3

    home = tmp_path / "home"
    home.mkdir()
    db = home / "stockscanner.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    r = run_cli(home=home, check=False)  # no verb: the window
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "Stock Scanner" in r.stderr
    assert db.read_bytes() == before


def test_window_on_an_unwritable_data_dir_explains(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli(home=blocker / "sub", check=False)
    assert r.returncode == 1 and "cannot be written" in r.stderr


# --------------------------------------------------------------------------- usage errors (exit 2)

def _one_error_line(stderr: str) -> str:
    """The single ``error: ...`` line of a failed verb (warnings about the log file aside)."""
    assert "Traceback" not in stderr and "Logging error" not in stderr, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip() and not ln.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize("size, why", [
    ("0x0", "outside"),            # silently became 949x530
    ("40000x40000", "outside"),    # took 67 s
    ("319x1000", "outside"),
    ("1600x4321", "outside"),
    ("abc", "must look like 1600x1000"),
    ("1600x", "must look like 1600x1000"),
    ("-5x100", "must look like 1600x1000"),
])
def test_screenshot_refuses_sizes_before_starting(tmp_path, size, why):
    out = tmp_path / "shot.png"
    r = run_cli("screenshot", str(out), f"--size={size}", home=tmp_path / "home", check=False)
    assert r.returncode == 2 and "argument --size" in r.stderr and why in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    assert not (tmp_path / "home").exists()  # refused before anything was opened


def test_the_screenshot_function_refuses_sizes_too():
    from app.main import screenshot

    with pytest.raises(ValueError, match="320x240 to 7680x4320 pixels, not 0x0"):
        screenshot("never.png", 0, 0)


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_data_dir_is_refused(value):
    r = run_cli(f"--data-dir={value}", "scan", "--data", ".", "--where", "close > 1", check=False)
    assert r.returncode == 2
    assert "argument --data-dir: is empty" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_scan_refuses_a_rule_that_is_a_number(tmp_path, shared_data):
    r = run_cli("scan", "--data", str(shared_data), "--where", "5", home=tmp_path, check=False)
    assert r.returncode == 1 and r.stdout == ""
    line = _one_error_line(r.stderr)
    assert line == ("error: --where must be a condition that is true or false, such as 'rsi(close) < 30' "
                    "or 'close > sma(close, 50)'; '5' gives numbers")


def test_formula_errors_quote_odd_characters_once(tmp_path, shared_data):
    r = run_cli("compute", str(shared_data / "ORCL-1995-2014.csv"), "--expr", "close\xa0> 1",
                "--out", str(tmp_path / "o.csv"), home=tmp_path, check=False)
    assert r.returncode == 1
    assert "unexpected character U+00A0 (no-break space) at column 6" in r.stderr
    assert "''" not in r.stderr


# --------------------------------------------------------------------------- store and disk faults (exit 1)

def _imported_home(tmp_path, shared_data):
    home = tmp_path / "home"
    run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), home=home)
    return home, home / "stockscanner.sqlite3"


def _series(db_file):
    import sqlite3

    c = sqlite3.connect(db_file)
    try:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return sorted(r[0] for r in c.execute("SELECT symbol FROM bar_series"))
    finally:
        c.close()


def test_a_newer_database_is_refused_and_left_alone(tmp_path, shared_data):
    import sqlite3

    home, db_file = _imported_home(tmp_path, shared_data)
    with sqlite3.connect(db_file) as c:
        c.execute("UPDATE alembic_version SET version_num='9999'")
    r = run_cli("import", str(shared_data / "NVDA-1999-2014.csv"), home=home, check=False)
    assert r.returncode == 1
    line = _one_error_line(r.stderr)
    assert "newer Stock Scanner (schema 9999" in line and "has not been changed" in line
    with sqlite3.connect(db_file) as c:
        assert c.execute("SELECT version_num FROM alembic_version").fetchall() == [("9999",)]
    assert _series(db_file) == ["ORCL"]


def test_a_missing_table_is_one_sentence(tmp_path, shared_data):
    import sqlite3

    home, db_file = _imported_home(tmp_path, shared_data)
    with sqlite3.connect(db_file) as c:
        c.execute("DROP TABLE bar_chunks")
    r = run_cli("import", str(shared_data / "NVDA-1999-2014.csv"), home=home, check=False)
    assert r.returncode == 1
    line = _one_error_line(r.stderr)
    assert "is damaged (table bar_chunks is missing)" in line and "has not been changed" in line


@pytest.fixture
def in_process(monkeypatch):
    """Run ``app.cli.main`` in this process without touching global logging or paths for good."""
    import logging

    import app.logging_setup
    from engine import paths

    monkeypatch.setattr(app.logging_setup, "_configured", True)
    monkeypatch.setattr(logging, "raiseExceptions", True)
    monkeypatch.setattr(paths, "_override", None)
    monkeypatch.delenv("STOCKSCANNER_HOME", raising=False)
    from app.cli import main

    return main


def test_a_locked_database_is_one_sentence_and_unchanged(tmp_path, shared_data, monkeypatch, capsys, in_process):
    import sqlite3

    import engine.store.db as store_db

    home, db_file = _imported_home(tmp_path, shared_data)
    original = store_db._on_connect

    def short_timeout(conn, record):
        original(conn, record)
        conn.execute("PRAGMA busy_timeout=200")

    monkeypatch.setattr(store_db, "_on_connect", short_timeout)
    holder = sqlite3.connect(db_file, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        rc = in_process([f"--data-dir={home}", "import", str(shared_data / "NVDA-1999-2014.csv")])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert rc == 1
    assert "is locked by another process" in _one_error_line(err)
    assert _series(db_file) == ["ORCL"]


def test_integrity_check_output_is_summarised(tmp_path, monkeypatch, capsys, in_process, shared_data):
    import engine.store.db as store_db

    home = tmp_path / "home"
    home.mkdir()
    problems = "\n".join(f"row {i} missing from index bar_idx" for i in range(40))

    def damaged(path):
        raise store_db.DatabaseCorrupt(path, f"integrity check:\n{problems}", [])

    monkeypatch.setattr(store_db, "probe_file", damaged)
    rc = in_process([f"--data-dir={home}", "import", str(shared_data / "ORCL-1995-2014.csv")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 4, err
    assert err[0].startswith("error: The database") and err[-1] == "… (38 more lines)"


def _mount(args, target):
    r = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount here ({r.stderr.strip() or 'not root'}): the fault needs a real mount")


def test_a_read_only_database_file_is_one_sentence(tmp_path, shared_data):
    home, db_file = _imported_home(tmp_path, shared_data)
    _mount(["--bind", str(db_file)], db_file)  # root ignores chmod: a read-only bind mount does not
    try:
        _mount(["-o", "remount,bind,ro"], db_file)
        r = run_cli("import", str(shared_data / "NVDA-1999-2014.csv"), home=home, check=False)
    finally:
        subprocess.run(["umount", str(db_file)], check=False)
    assert r.returncode == 1
    assert "is read-only, so nothing was saved" in _one_error_line(r.stderr)
    assert _series(db_file) == ["ORCL"]


def test_a_full_disk_during_import_is_one_sentence_and_changes_nothing(tmp_path, shared_data):
    home = tmp_path / "home"
    home.mkdir()
    _mount(["-t", "tmpfs", "-o", "size=1m", "tmpfs"], home)  # room for ORCL's daily bars, not for 30,889 minutes
    try:
        run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), home=home)
        before = _series(home / "stockscanner.sqlite3")
        r = run_cli("import", str(shared_data / "FUT-2006-1min.csv"), "--symbol", "FUT", home=home, check=False)
        after = _series(home / "stockscanner.sqlite3")
    finally:
        subprocess.run(["umount", str(home)], check=False)
    assert r.returncode == 1
    line = _one_error_line(r.stderr)
    assert "stockscanner.sqlite3 is full, so nothing was saved" in line
    assert before == after == ["ORCL"]


def test_screenshot_refuses_a_folder_a_running_window_holds(tmp_path):
    from PySide6.QtCore import QLockFile

    home = tmp_path / "home"
    home.mkdir()
    window = QLockFile(str(home / ".instance.lock"))  # the lock a running window holds (app.single_instance)
    assert window.tryLock(100)
    try:
        before = sorted(p.name for p in home.iterdir())  # logs/ is shared with the window: not counted
        out = tmp_path / "shot.png"
        r = run_cli("screenshot", str(out), "--size", "640x480", home=home, check=False)
        after = sorted(p.name for p in home.iterdir() if p.name != "logs")
    finally:
        window.unlock()
    assert r.returncode == 1, r.stderr
    assert "is running on the data folder" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    assert after == before  # no database, settings or layout written into the window's folder
    # once the window is gone the same command works
    run_cli("screenshot", str(out), "--size", "640x480", home=home)
    assert out.exists()


def _bad_csv(tmp_path, n_bad=12):
    """A daily CSV whose rows 3 .. 2+n_bad each have High below Low, plus one bad date."""
    rows = ["Date,Open,High,Low,Close,Volume", "2020-01-01,1,2,0.5,1.5,100"]
    rows += [f"2020-02-{d:02d},1,0.5,2,1.5,100" for d in range(1, n_bad + 1)]
    rows += ["2020-13-45,1,2,0.5,1.5,100"]
    bad = tmp_path / "BAD.csv"
    bad.write_text("\n".join(rows) + "\n")
    return bad, n_bad + 1


def test_import_lists_every_problem_with_its_line(tmp_path):
    bad, n = _bad_csv(tmp_path)
    r = run_cli("import", str(bad), home=tmp_path / "home", check=False)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    err = r.stderr.splitlines()
    assert err[0] == f"error: BAD.csv cannot be imported ({n} problems; nothing was changed)."
    for line in range(3, 3 + n - 1):
        assert f"  line {line}: High 0.5 is below Low 2" in err
    assert f"  line {n + 2}: cannot read the date '2020-13-45'" in err
    assert "more problem" not in r.stderr


def test_import_json_errors_are_json_with_every_problem(tmp_path):
    bad, n = _bad_csv(tmp_path)
    r = run_cli("import", str(bad), "--json", home=tmp_path / "home", check=False)
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert set(out) == {"error", "problems", "notes"}
    assert out["error"] == f"BAD.csv cannot be imported ({n} problems; nothing was changed)."
    assert len(out["problems"]) == n
    assert out["problems"][0] == {"line": 3, "message": "High 0.5 is below Low 2"}
    assert out["problems"][-1] == {"line": n + 2, "message": "cannot read the date '2020-13-45'"}
    assert out["notes"] == []


def test_import_json_error_for_a_missing_file(tmp_path):
    r = run_cli("import", str(tmp_path / "nope.csv"), "--json", home=tmp_path / "home", check=False)
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["problems"] == [] and out["notes"] == [] and "nope.csv" in out["error"]


def test_import_json_notes_of_the_futures_file(tmp_path, shared_data):
    r = run_cli("import", str(shared_data / "FUT-2006-1min.csv"), "--symbol", "FUT", "--json", home=tmp_path)
    out = json.loads(r.stdout)
    assert {k: out[k] for k in ("symbol", "timeframe", "rows")} == {"symbol": "FUT", "timeframe": "1m", "rows": 30889}
    assert any("header" in n.lower() for n in out["notes"]), out["notes"]
    assert out["skipped"] == 0


def test_a_bad_file_keeps_its_notes_in_the_json_error(tmp_path, shared_data):
    lines = (shared_data / "FUT-2006-1min.csv").read_text().splitlines()[:50]
    parts = lines[10].split(",")
    parts[3], parts[4] = "1", "999999"  # High below Low on line 11
    lines[10] = ",".join(parts)
    bad = tmp_path / "FUT.csv"
    bad.write_text("\n".join(lines) + "\n")
    r = run_cli("import", str(bad), "--json", home=tmp_path / "home", check=False)
    out = json.loads(r.stdout)
    assert r.returncode == 1 and {p["line"] for p in out["problems"]} == {11}
    assert any("header" in n.lower() for n in out["notes"]), out
