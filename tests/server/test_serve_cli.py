"""``stockscanner serve``: a real uvicorn process on loopback (both databases), and the
one-sentence refusal of unsafe production settings."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_migrates_and_answers(db_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "STOCKSCANNER_HOME": str(tmp_path / "home")}
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port),
                             "--database-url", db_url], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert ready is not None, proc.stdout.read().decode() if proc.stdout and proc.poll() is not None else "no answer"
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        key = tmp_path / "home" / "server-secret.key"
        assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_refuses_weak_production_key(tmp_path: Path) -> None:
    env = {**os.environ, "STOCKSCANNER_ENV": "production", "SECRET_KEY": "django-insecure-development-key",
           "STOCKSCANNER_HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "app", "serve", "--database-url", "sqlite:///x.db"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip().startswith("error: SECRET_KEY is a known default") and "Traceback" not in r.stderr
