"""The image installs only the ``server`` extra (deploy/Dockerfile): ``stockscanner serve`` must
run and answer with nothing else importable. A child Python refuses to import any installed
distribution outside the extra's dependency closure (PySide6, numpy, pandas, ...), then runs
``serve`` in-process on PostgreSQL; the test drives a real sign-in and a sync write through it."""
from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import secrets
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from tests.deploy.conftest import REPO
from tests.server.conftest import PASSWORD, _pg_url, _reset_pg
from tests.server.test_serve_cli import _free_port


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def server_closure() -> set[str]:
    """Normalised names of the server extra's distributions and everything they require."""
    with (REPO / "pyproject.toml").open("rb") as f:
        todo = [(Requirement(r), "") for r in tomllib.load(f)["project"]["optional-dependencies"]["server"]]
    seen: set[str] = set()
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = _norm(req.name)
        key = f"{name}[{','.join(sorted(req.extras))}]"
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        try:
            requires = md.requires(req.name) or []
        except md.PackageNotFoundError:
            continue
        for sub in requires:
            sub_req = Requirement(sub)
            for e in ("", *req.extras):
                if sub_req.marker is None or sub_req.marker.evaluate({"extra": e}):
                    todo.append((sub_req, e))
                    break
    return {s for s in seen if "[" not in s}


def blocked_modules() -> list[str]:
    allowed = server_closure() | {"stockscanner"}
    blocked = set()
    for module, dists in md.packages_distributions().items():
        if not any(_norm(d) in allowed for d in dists):
            blocked.add(module)
    return sorted(blocked)


CHILD = r"""
import json, sys
blocked = frozenset(json.loads(sys.argv[1]))

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ImportError(f"{name} is not in the server extra (the image does not have it)")
        return None

sys.meta_path.insert(0, Refuse())
from app.cli import main
sys.exit(main(["serve", "--port", sys.argv[2]]))
"""


def test_closure_leaves_out_the_desktop_stack() -> None:
    closure, blocked = server_closure(), set(blocked_modules())
    assert {"fastapi", "uvicorn", "psycopg", "sqlalchemy", "alembic", "argon2-cffi", "pyjwt"} <= closure
    assert {"PySide6", "pyqtgraph", "numpy", "pandas", "numba", "scipy", "yfinance"} <= blocked
    assert not {"fastapi", "sqlalchemy", "psycopg", "uvicorn"} & blocked


def test_serve_runs_with_only_the_server_extra_importable(tmp_path: Path) -> None:
    url = "DATABASE_URL_TEST"
    try:
        url = _pg_url()
        _reset_pg(url)
    except Exception as exc:  # noqa: BLE001 - any connection failure
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {url}: {exc}")
        pytest.skip(f"no PostgreSQL at {url}")
    port = _free_port()
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(32), "DATABASE_URL": url,
           "STOCKSCANNER_HOME": str(tmp_path)}
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(blocked_modules()), str(port)],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.post("/auth/register", json={"email": "img@example.com", "password": PASSWORD}).status_code == 202
            pair = http.post("/auth/login", json={"email": "img@example.com", "password": PASSWORD}).json()
            auth = {"Authorization": f"Bearer {pair['access_token']}"}
            assert http.get("/me", headers=auth).json()["email"] == "img@example.com"
            setup = http.post("/me/2fa/setup", headers=auth)  # pyotp and segno (the QR code)
            assert setup.status_code == 200 and setup.json()["qr_svg"].startswith("data:image/svg+xml"), setup.text
            r = http.put("/sync/items/watchlist/w1", json={"data": {"name": "W", "symbols": ["SPY"]}},
                         headers={**auth, "Idempotency-Key": "image-test-0001"})
            assert r.status_code == 200, r.text
            assert http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text()
    assert "not in the server extra" not in text and "Traceback" not in text, text
