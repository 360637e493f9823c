"""Service throughput on loopback: login, refresh and an authenticated read (GET /me) against
``stockscanner serve`` on PostgreSQL with 1 and 2 worker processes.

Each figure is requests/s with p50/p99 latency from an asyncio httpx client (concurrency
``CONCURRENCY``), bounded by a request count and a time limit. ``service.read_rps_1w`` is the
named goal: ≥ 1,000 req/s with p99 ≤ 50 ms. Login is bounded by argon2id (m=19 MiB, t=2) by
design. The load generator shares the 2 cores with the server, so the figures are a floor.

PostgreSQL comes from ``DATABASE_URL_TEST`` (``CI_ONLY=postgres bash .ci/run`` provides one)."""
from __future__ import annotations

import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.core import REPO, Result, benchmark

CONCURRENCY = 16
READS, REFRESHES, LOGINS = 3000, 600, 40
TIME_LIMIT_S = 20.0
PG_DEFAULT = "postgresql://stockscanner:stockscanner@127.0.0.1:5432/stockscanner_test"
PW = "bench passphrase that is long 2026"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    from server.config import normalise_database_url

    engine = create_engine(normalise_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class Server:
    def __init__(self, url: str, workers: int) -> None:
        self.port = _free_port()
        self.home = tempfile.mkdtemp(prefix="bench-service-")
        env = {**os.environ, "STOCKSCANNER_HOME": self.home, "SECRET_KEY": secrets.token_urlsafe(32)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port), "--database-url", url,
             "--workers", str(workers)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the service did not become ready within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def _load(base: str, total: int, make: Any) -> tuple[float, list[float]]:
    """Send ``total`` requests (``make(client, i)`` sends one) with ``CONCURRENCY`` in flight;
    returns (requests per second, latencies in seconds)."""
    import httpx

    latencies: list[float] = []
    counter = iter(range(total))
    stop_at = time.monotonic() + TIME_LIMIT_S
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        async def worker() -> None:
            for i in counter:
                if time.monotonic() > stop_at:
                    return
                t0 = time.perf_counter()
                r = await make(client, i)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(f"{r.request.url.path} answered {r.status_code}: {r.text[:200]}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - t0
    return len(latencies) / elapsed, latencies


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def _result(name: str, rps: float, lat: list[float], goal: str = "") -> Result:
    p50, p99 = _pct(lat, 50) * 1e3, _pct(lat, 99) * 1e3
    return Result(name, 1 / rps, note=f"{rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
                                       f"n={len(lat)}{goal}")


def run(workers: int, url: str) -> list[Result]:
    import httpx

    _reset(url)
    server = Server(url, workers)
    try:
        emails = [f"bench{i}@example.com" for i in range(CONCURRENCY)]
        for e in emails:
            httpx.post(server.base + "/auth/register", json={"email": e, "password": PW}, timeout=30)
        pairs = [httpx.post(server.base + "/auth/login", json={"email": e, "password": PW}, timeout=30).json()
                 for e in emails]
        heads = [{"Authorization": f"Bearer {p['access_token']}"} for p in pairs]
        refresh = [p["refresh_token"] for p in pairs]
        out = []

        async def read(client: Any, i: int) -> Any:
            return await client.get("/me", headers=heads[i % CONCURRENCY])

        rps, lat = asyncio.run(_load(server.base, READS, read))
        goal = ""
        if workers == 1:
            ok = rps >= 1000 and _pct(lat, 99) * 1e3 <= 50
            goal = f"; goal ≥ 1,000 req/s and p99 ≤ 50 ms: {'met' if ok else 'NOT met'}"
        out.append(_result(f"service.read_rps_{workers}w", rps, lat, goal))

        # each in-flight slot owns one session and rotates its own refresh chain
        async def rotate(client: Any, i: int) -> Any:
            slot = i % CONCURRENCY
            r = await client.post("/auth/refresh", json={"refresh_token": refresh[slot]})
            if r.status_code == 200:
                refresh[slot] = r.json()["refresh_token"]
            return r

        slots_busy: list[asyncio.Lock] = []

        async def rotate_locked(client: Any, i: int) -> Any:
            if not slots_busy:
                slots_busy.extend(asyncio.Lock() for _ in range(CONCURRENCY))
            async with slots_busy[i % CONCURRENCY]:
                return await rotate(client, i)

        rps, lat = asyncio.run(_load(server.base, REFRESHES, rotate_locked))
        out.append(_result(f"service.refresh_rps_{workers}w", rps, lat))

        async def login(client: Any, i: int) -> Any:
            return await client.post("/auth/login", json={"email": emails[i % CONCURRENCY], "password": PW})

        rps, lat = asyncio.run(_load(server.base, LOGINS, login))
        out.append(_result(f"service.login_rps_{workers}w", rps, lat, " (argon2id m=19 MiB t=2)"))
        return out
    finally:
        server.stop()


@benchmark("service")
def bench_service() -> list[Result]:
    url = os.environ.get("DATABASE_URL_TEST") or PG_DEFAULT
    return run(1, url) + run(2, url)


if __name__ == "__main__":
    for r in bench_service():
        print(f"{r.name:28} {r.note}")
