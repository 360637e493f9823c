"""Scaling out: two real service processes (``stockscanner serve``) on one PostgreSQL, on
loopback ports, serve one user consistently -- the deployment of deploy/ (N stateless workers
behind nginx) in miniature.

Both processes start at the same moment on an empty database, so their migrations race (the
advisory lock in ``server.db.migrate`` makes one wait). What the tests show:

* login on one, refresh on the other; the old refresh token replayed on the first is reuse;
* a logout on one is honoured by the other within ``STOCKSCANNER_AUTH_CACHE_S`` (1 s);
* the rate limits are one count across both (fixed window and login back-off);
* an idempotent write (``Idempotency-Key`` on ``PUT /sync/items``) sent to both, one after the
  other and at the same instant, is applied once.

PostgreSQL only: it is the database a scaled-out deployment runs on (SQLite is one host's file)."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import PASSWORD, _pg_url, _reset_pg
from tests.server.test_serve_cli import REPO, _free_port

AUTH_CACHE_S = 1.0


class Worker:
    def __init__(self, name: str, proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.name, self.proc, self.port, self.log = name, proc, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def __repr__(self) -> str:
        return f"Worker({self.name}, {self.url})"


def start_workers(url: str, home: Path, n: int = 2, extra_env: dict[str, str] | None = None,
                  extra_args: list[str] | None = None) -> list[Worker]:
    """``n`` ``stockscanner serve`` processes on ``url``, started together, sharing one secret."""
    env = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(32), "STOCKSCANNER_HOME": str(home),
           "STOCKSCANNER_AUTH_CACHE_S": str(int(AUTH_CACHE_S)), "DATABASE_URL": url, **(extra_env or {})}
    workers = []
    for i in range(n):
        port, log = _free_port(), home / f"worker{i}.log"
        home.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port), *(extra_args or [])],
                                    cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        workers.append(Worker("AB"[i] if i < 2 else str(i), proc, port, log))
    deadline = time.monotonic() + 90
    try:
        for w in workers:
            while True:
                assert w.proc.poll() is None, f"{w} exited:\n{w.log.read_text()}"
                assert time.monotonic() < deadline, f"{w} not ready:\n{w.log.read_text()}"
                try:
                    r = w.http.get("/ready", timeout=5)
                    if r.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
    except BaseException:
        stop_workers(workers)  # no process outlives a failed start
        raise
    return workers


def stop_workers(workers: list[Worker]) -> None:
    for w in workers:
        w.http.close()
        w.proc.terminate()
    for w in workers:
        try:
            w.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()


@pytest.fixture(scope="module")
def pg_url() -> str:
    url = "DATABASE_URL_TEST"
    try:
        url = _pg_url()
        _reset_pg(url)
    except Exception as exc:  # noqa: BLE001 - any connection failure
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable at {url}: {exc}")
        pytest.skip(f"no PostgreSQL at {url} (set DATABASE_URL_TEST)")
    return url


@pytest.fixture(scope="module")
def two(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Worker, Worker]]:
    workers = start_workers(pg_url, tmp_path_factory.mktemp("scale-out"))
    try:
        yield workers[0], workers[1]
    finally:
        stop_workers(workers)
    for w in workers:
        assert "Traceback" not in w.log.read_text(), w.log.read_text()


def _register(w: Worker, email: str) -> None:
    r = w.http.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text


def _login(w: Worker, email: str) -> dict[str, Any]:
    r = w.http.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


def test_both_started_together_and_migrated_once(two: tuple[Worker, Worker]) -> None:
    a, b = two
    ra, rb = a.http.get("/ready").json(), b.http.get("/ready").json()
    assert ra == rb and ra["status"] == "ready" and ra["revision"] == ra["head"]


def test_login_on_one_refresh_on_the_other(two: tuple[Worker, Worker]) -> None:
    a, b = two
    _register(a, "roam@example.com")
    pair = _login(b, "roam@example.com")  # registered on A, signs in on B
    assert a.http.get("/me", headers=_bearer(pair)).json()["email"] == "roam@example.com"
    r = b.http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 200, r.text
    new = r.json()
    for w in (a, b):  # the rotated pair works on both
        assert w.http.get("/me", headers=_bearer(new)).status_code == 200
    # the used refresh token replayed on the *other* worker is reuse: the family ends everywhere
    r = a.http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "token_reused"
    r = b.http.post("/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert r.status_code == 401, r.text


def test_logout_on_one_is_honoured_by_the_other_within_the_cache_ttl(two: tuple[Worker, Worker]) -> None:
    a, b = two
    _register(a, "leave@example.com")
    pair = _login(a, "leave@example.com")
    assert b.http.get("/me", headers=_bearer(pair)).status_code == 200  # B now caches the session
    assert a.http.post("/auth/logout", headers=_bearer(pair)).status_code == 200
    revoked_at = time.monotonic()
    assert a.http.get("/me", headers=_bearer(pair)).status_code == 401  # at once on A
    while b.http.get("/me", headers=_bearer(pair)).status_code != 401:
        assert time.monotonic() - revoked_at < AUTH_CACHE_S + 0.5, "B kept a revoked session past the TTL"
        time.sleep(0.05)
    assert time.monotonic() - revoked_at < AUTH_CACHE_S + 0.5


def test_fixed_window_limit_counts_hits_on_both(two: tuple[Worker, Worker]) -> None:
    a, b = two
    limit = 20  # /auth/verify-email: 20 per address per window
    for i in range(limit):
        w = (a, b)[i % 2]
        r = w.http.post("/auth/verify-email", json={"token": secrets.token_urlsafe(32)})
        assert r.status_code == 400, r.text  # a bad token, but counted
    for w in (a, b):  # 10 on each: alone neither is over 20, together both are
        r = w.http.post("/auth/verify-email", json={"token": secrets.token_urlsafe(32)})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text


def test_concurrent_burst_on_both_is_counted_exactly(two: tuple[Worker, Worker]) -> None:
    """30 requests at once, half to each process, against a limit of 20 per address
    (``/auth/password-reset``): exactly 20 pass, whatever the interleaving (row lock)."""
    from concurrent.futures import ThreadPoolExecutor

    a, b = two
    gate = threading.Barrier(10)

    def send(i: int) -> int:
        if i < 10:
            gate.wait()
        w = (a, b)[i % 2]
        return w.http.post("/auth/password-reset", json={"email": f"nobody{i}@example.com"}).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(send, range(30)))
    assert codes.count(202) == 20 and codes.count(429) == 10, codes


def test_login_backoff_is_shared(two: tuple[Worker, Worker]) -> None:
    a, b = two
    _register(b, "guess@example.com")
    free = 5  # Settings.login_free_failures
    for i in range(free + 1):
        w = (a, b)[i % 2]
        r = w.http.post("/auth/login", json={"email": "guess@example.com", "password": "wrong password 1"})
        assert r.status_code == 401, r.text
    for w in (a, b):
        r = w.http.post("/auth/login", json={"email": "guess@example.com", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1, r.text


def _put(w: Worker, pair: dict[str, Any], key: str, idem: str, data: dict[str, Any]) -> httpx.Response:
    return w.http.put(f"/sync/items/watchlist/{key}", json={"data": data},
                      headers={**_bearer(pair), "Idempotency-Key": idem})


def test_idempotent_write_sent_to_both_is_applied_once(two: tuple[Worker, Worker]) -> None:
    a, b = two
    _register(a, "sync@example.com")
    pair = _login(a, "sync@example.com")
    data = {"name": "Tech", "symbols": ["AAPL", "MSFT"]}
    first = _put(a, pair, "wl-1", "idem-key-0001", data)
    again = _put(b, pair, "wl-1", "idem-key-0001", data)  # the client's retry went to B
    assert first.status_code == again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == first.json()
    assert first.json()["version"] == 1
    r = _put(b, pair, "wl-1", "idem-key-0001", {"name": "Other", "symbols": []})
    assert r.status_code == 422 and r.json()["error"]["code"] == "idempotency_key_reused"

    # the same write to both at the same instant, for several new items: each applied once
    for n in range(6):
        key, idem = f"race-{n}", f"race-key-{n:04d}"
        gate, out = threading.Barrier(2), {}

        def send(w: Worker) -> None:
            gate.wait()
            out[w.name] = _put(w, pair, key, idem, {"name": f"Race {n}", "symbols": ["SPY"]})

        threads = [threading.Thread(target=send, args=(w,)) for w in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ra, rb = out["A"], out["B"]
        assert ra.status_code == rb.status_code == 200, (ra.text, rb.text)
        assert ra.json() == rb.json() and ra.json()["version"] == 1
        # exactly one of them applied it; the other got the stored answer back
        assert sorted(str(r.headers.get("idempotent-replayed")) for r in (ra, rb)) == ["None", "true"]
        stored = a.http.get(f"/sync/items/watchlist/{key}", headers=_bearer(pair)).json()
        assert stored["version"] == 1 and stored["id"] == ra.json()["id"]
    page = b.http.get("/sync/items", headers=_bearer(pair)).json()
    assert sorted(i["key"] for i in page["items"]) == ["race-0", "race-1", "race-2", "race-3", "race-4",
                                                        "race-5", "wl-1"]



def test_migrate_waits_for_the_migration_lock(pg_url: str) -> None:
    """``migrate`` takes the advisory lock before it touches the schema: while another
    session holds it, nothing is created; once it is released, the migration runs."""
    from sqlalchemy import create_engine, inspect, text

    from server.db import MIGRATION_LOCK_ID, make_engine, migrate

    holder, engine = create_engine(pg_url), make_engine(pg_url)
    migrate(engine)  # once unlocked: alembic and the migration scripts are imported and warm
    engine.dispose()
    _reset_pg(pg_url)
    done = threading.Event()
    try:
        with holder.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            conn.commit()
            thread = threading.Thread(target=lambda: (migrate(engine), done.set()))
            thread.start()
            assert not done.wait(2.0)  # an unlocked migration takes well under a second here
            assert "alembic_version" not in inspect(holder).get_table_names()
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            conn.commit()
        thread.join(timeout=60)
        assert done.is_set() and "users" in inspect(holder).get_table_names()
    finally:
        holder.dispose()
        engine.dispose()
