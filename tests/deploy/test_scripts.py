"""The shell scripts and systemd units of deploy/: shellcheck, ``systemd-analyze verify``, the
Debian setup script in its dry-run mode (every file it writes, rendered under a folder, then
read by nginx -t, systemd-analyze and the service's own settings check), gen-secrets.sh, and
pg-backup.sh against the real PostgreSQL with its rotation."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.conftest import DEPLOY, need
from tests.deploy.test_nginx import nginx_test, render

SCRIPTS = sorted(DEPLOY.rglob("*.sh"))
SMTP = ["--smtp-host", "smtp.example.com"]


def test_shellcheck_is_clean() -> None:
    assert {p.name for p in SCRIPTS} >= {"setup-debian.sh", "gen-secrets.sh", "pg-backup.sh"}
    r = subprocess.run([need("shellcheck"), "--severity=style", *map(str, SCRIPTS)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for script in SCRIPTS:
        assert os.access(script, os.X_OK), f"{script} is not executable"


def _verify_units(folder: Path) -> None:
    """Copies of the units with the install paths pointed at files that exist here."""
    exe = shutil.which("stockscanner") or str(Path(sys.executable).with_name("stockscanner"))
    out = folder / "units"
    out.mkdir()
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text().replace("/opt/stockscanner/venv/bin/stockscanner", exe) \
            .replace("/opt/stockscanner/src/deploy", str(DEPLOY))
        (out / unit.name).write_text(text)
    # a template is verified through an instance
    shutil.copy(out / "stockscanner@.service", out / "stockscanner@8001.service")
    names = ["stockscanner@8001.service", "stockscanner.target", "stockscanner-backup.service",
             "stockscanner-backup.timer"]
    r = subprocess.run([need("systemd-analyze"), "verify", *names], cwd=out, capture_output=True,
                       text=True, timeout=60)
    # systemd-analyze exits 0 on unknown keys and bad values; it only says so: require silence
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), r.stdout + r.stderr


def test_systemd_units_verify(tmp_path: Path) -> None:
    _verify_units(tmp_path)
    unit = (DEPLOY / "systemd" / "stockscanner@.service").read_text()
    assert "User=stockscanner" in unit and "NoNewPrivileges=yes" in unit and "ProtectSystem=strict" in unit
    assert "--port %i" in unit and "EnvironmentFile=/etc/stockscanner/stockscanner.env" in unit


def _setup(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOMAIN", "SMTP_HOST", "INSTANCES", "ROOT")}
    r = subprocess.run(["bash", str(DEPLOY / "setup-debian.sh"), "--dry-run", "--root", str(root), *args],
                       capture_output=True, text=True, timeout=120, env=env)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {k: v for k, v in pairs}


def test_setup_debian_dry_run_renders_a_working_configuration(tmp_path: Path) -> None:
    from server.config import Settings, secret_key_problem

    root = tmp_path / "root"
    root.mkdir()
    r = _setup(root, "--domain", "api.example.com", *SMTP, "--instances", "3")
    # nothing outside the root was changed: the system commands were only printed
    for line in ("would run: systemctl enable stockscanner@8003.service", "would run: nginx -t",
                 "would run: runuser -u postgres -- createdb --owner=stockscanner stockscanner",
                 "would run: /opt/stockscanner/venv/bin/pip install --quiet --requirement "
                 "/opt/stockscanner/requirements-server.txt"):
        assert line in r.stdout, r.stdout
    env_path = root / "etc/stockscanner/stockscanner.env"
    assert stat.S_IMODE(env_path.stat().st_mode) == 0o600
    env = _env_file(env_path)
    assert secret_key_problem(env["SECRET_KEY"]) is None
    # the service accepts it as production settings (the same check that refuses to start)
    settings = Settings.from_env(env)
    assert settings.production and settings.public_url == "https://api.example.com"
    assert settings.database_url == "postgresql+psycopg://stockscanner@/stockscanner?host=/var/run/postgresql"
    assert settings.trusted_proxies == "127.0.0.1" and settings.smtp_host == "smtp.example.com"
    assert (root / "opt/stockscanner/requirements-server.txt").read_text().startswith("fastapi")
    assert (root / "opt/stockscanner/src/server/app.py").is_file()
    assert not (root / "opt/stockscanner/src/tests").exists()

    upstream = root / "etc/nginx/snippets/stockscanner-upstream.conf"
    lines = [line for line in upstream.read_text().splitlines() if line.startswith("server ")]
    assert lines == [f"server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in (8001, 8002, 8003)]
    site = root / "etc/nginx/sites-available/stockscanner"
    assert os.readlink(root / "etc/nginx/sites-enabled/stockscanner") == "../sites-available/stockscanner"
    tls = root / "etc/stockscanner/tls"
    assert stat.S_IMODE((tls / "privkey.pem").stat().st_mode) == 0o600
    folder = tmp_path / "nginx"
    folder.mkdir()
    t = nginx_test(render(site.read_text(), folder, upstream, tls / "fullchain.pem", tls / "privkey.pem"))
    assert t.returncode == 0, t.stderr
    for unit in ("stockscanner@.service", "stockscanner.target", "stockscanner-backup.service",
                 "stockscanner-backup.timer"):
        assert (root / "etc/systemd/system" / unit).read_text() == (DEPLOY / "systemd" / unit).read_text()

    # idempotent: a second run keeps the secret and the certificate, applies the new options
    cert_before = (tls / "fullchain.pem").read_bytes()
    _setup(root, "--domain", "api.example.com", "--smtp-host", "mail.example.net", "--instances", "2")
    again = _env_file(env_path)
    assert again["SECRET_KEY"] == env["SECRET_KEY"] and again["SMTP_HOST"] == "mail.example.net"
    assert (tls / "fullchain.pem").read_bytes() == cert_before
    assert upstream.read_text().count("server 127.0.0.1:") == 2
    # an option left out keeps the value from the last run
    _setup(root, "--domain", "api.example.com")
    assert _env_file(env_path)["SMTP_HOST"] == "mail.example.net"


@pytest.mark.parametrize(("args", "message"), [
    ([], "--domain is required"),
    (["--domain", "bad domain!"], "is not a host name"),
    (["--domain", "a.example.com", "--instances", "0"], "--instances must be between 1 and 32"),
    (["--domain", "a.example.com", "--letsencrypt"], "--letsencrypt needs --email"),
    (["--domain", "a.example.com"], "--smtp-host is required"),
])
def test_setup_debian_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    r = _setup(tmp_path, *args, check=False)
    assert r.returncode == 1 and message in r.stderr, r.stdout + r.stderr


def test_setup_debian_root_option_is_only_for_dry_runs(tmp_path: Path) -> None:
    r = subprocess.run(["bash", str(DEPLOY / "setup-debian.sh"), "--root", str(tmp_path), "--domain", "a.example.com"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and ("--root is only for --dry-run" in r.stderr or "run as root" in r.stderr)
    assert not any(tmp_path.iterdir())


def test_gen_secrets_makes_private_files_once(tmp_path: Path) -> None:
    from server.config import secret_key_problem

    need("openssl")
    shutil.copy(DEPLOY / "gen-secrets.sh", tmp_path / "gen-secrets.sh")
    run = ["sh", str(tmp_path / "gen-secrets.sh"), "api.example.com"]
    subprocess.run(run, check=True, capture_output=True, timeout=60)
    env, db = _env_file(tmp_path / "stockscanner.env"), _env_file(tmp_path / "secrets/db.env")
    for f in ("stockscanner.env", "secrets/db.env", "tls/privkey.pem"):
        assert stat.S_IMODE((tmp_path / f).stat().st_mode) == 0o600, f
    assert secret_key_problem(env["SECRET_KEY"]) is None
    assert db["POSTGRES_PASSWORD"] == db["PGPASSWORD"] and len(db["PGPASSWORD"]) == 43
    assert env["DATABASE_URL"] == f"postgresql://stockscanner:{db['PGPASSWORD']}@db:5432/stockscanner"
    before = {f: (tmp_path / f).read_bytes() for f in ("stockscanner.env", "secrets/db.env", "tls/fullchain.pem")}
    subprocess.run(run, check=True, capture_output=True, timeout=60)
    assert before == {f: (tmp_path / f).read_bytes() for f in before}


def test_pg_backup_dumps_checks_and_rotates(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from tests.server.conftest import _pg_url

    need("pg_dump")
    try:
        url = make_url(_pg_url())
    except Exception as exc:  # noqa: BLE001 - PostgreSQL unreachable (a worker database not made)
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no PostgreSQL: {exc}")
    env = {**os.environ, "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
           "PGUSER": url.username or "", "PGDATABASE": url.database or "", "BACKUP_DIR": str(tmp_path / "b"),
           "BACKUP_KEEP": "2"}
    secret = tmp_path / "pw"
    secret.write_text(url.password or "")
    env["PGPASSWORD_FILE"] = str(secret)
    env.pop("PGPASSWORD", None)
    try:
        for _ in range(3):
            subprocess.run([str(DEPLOY / "backup/pg-backup.sh")], env=env, check=True, capture_output=True,
                           text=True, timeout=120)
    except subprocess.CalledProcessError as exc:
        if "could not connect" in exc.stderr or "Connection refused" in exc.stderr:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip(f"no PostgreSQL at {url.render_as_string()}")
        raise AssertionError(exc.stderr) from None
    dumps = sorted((tmp_path / "b").glob("stockscanner-*.dump"))
    assert len(dumps) == 2 and not list((tmp_path / "b").glob("*.partial"))
    for dump in dumps:
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600
        listing = subprocess.run([need("pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=True)
        assert "Archive created at" in listing.stdout
    bad = subprocess.run([str(DEPLOY / "backup/pg-backup.sh")], env={**env, "BACKUP_KEEP": "x"},
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "BACKUP_KEEP must be a whole number" in bad.stderr
