"""A restore chosen in the running window is carried out by the next start, before the store
opens, with the current store kept aside and the restore in the security log."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = """
import app.main as m
orig = m.ensure_app
def ensure_app(*a):
    q = orig(*a)
    q.exec = lambda: 0  # start, then leave at once
    return q
m.ensure_app = ensure_app
raise SystemExit(m.run_gui())
"""


def test_the_next_start_applies_a_scheduled_restore(tmp_path):
    from engine.health.backups import schedule_restore, take_backup
    from engine.store.db import open_database

    home = tmp_path / "home"
    home.mkdir()
    db = open_database(home / "stockscanner.sqlite3")
    with db.connect() as c:
        c.execute("INSERT INTO kv(key, value) VALUES ('mark', ?)", ('"before"',))
    bk = take_backup(db.path)
    with db.connect() as c:
        c.execute("UPDATE kv SET value=? WHERE key='mark'", ('"after"',))
    schedule_restore(db.path, bk)
    db.dispose()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STOCKSCANNER_HOME=str(home))
    r = subprocess.run([sys.executable, "-c", CHILD], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    conn = sqlite3.connect(db.path)
    assert conn.execute("SELECT value FROM kv WHERE key='mark'").fetchone()[0] == '"before"'
    log = conn.execute("SELECT value FROM kv WHERE key='health.security_log'").fetchone()[0]
    assert '"restore"' in log
    aside = [p for p in home.glob("stockscanner.sqlite3.before-restore-*") if p.suffix != ".sqlite3-wal"]
    assert aside and not (home / "restore-pending.json").exists()
