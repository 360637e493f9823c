"""Service throughput on loopback: login, refresh and an authenticated read (GET /me) against
``stockscanner serve`` on PostgreSQL with 1 and 2 worker processes.

Each figure is requests/s with p50/p99 latency, ``CONCURRENCY`` requests in flight over as
many keep-alive connections, bounded by a request count and a time limit; every phase runs
``REPEATS`` times and the medians are reported. ``service.read_rps_1w`` is the named goal:
≥ 1,000 req/s with p99 ≤ 50 ms. Login is bounded by argon2id (m=19 MiB, t=2) by design.

The load generator is a minimal HTTP/1.1 client on asyncio streams (uvloop when installed):
httpx spends more CPU per request than the server does, and client and server share the
machine's cores, so a heavy client would measure itself. Alongside the rate the bench reports
the server's CPU time per request (all its processes, from psutil), which does not depend on
how busy the machine is: ``1 / cpu_per_request`` is what one idle core would give.

``service.read_rps_1w_nocache`` repeats the read with the auth cache off
(``STOCKSCANNER_AUTH_CACHE_S=0``: one database round trip per read).

PostgreSQL comes from ``DATABASE_URL_TEST`` (``CI_ONLY=postgres bash .ci/run`` provides one);
the bench drops and recreates its schema."""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bench.core import REPO, Result, benchmark

CONCURRENCY = 16
READS, REFRESHES, LOGINS = 5000, 1500, 48
REPEATS = int(os.environ.get("BENCH_SERVICE_REPEATS", "3"))
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


class Connection:
    """One keep-alive HTTP/1.1 connection: ``request`` sends a request and reads the whole
    answer (``Content-Length`` bodies, which is all the service sends)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> "Connection":
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: Any = None) -> tuple[int, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        for k, v in (headers or {}).items():
            head.append(f"{k}: {v}")
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length) if length else b""

    def close(self) -> None:
        self.writer.close()


class Server:
    def __init__(self, url: str, workers: int, env: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.home = tempfile.mkdtemp(prefix="bench-service-")
        full_env = {**os.environ, "STOCKSCANNER_HOME": self.home, "SECRET_KEY": secrets.token_urlsafe(32),
                    **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(self.port), "--database-url", url,
             "--workers", str(workers)], cwd=REPO, env=full_env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.workers = workers
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                status, _ = asyncio.run(self._once("GET", "/ready"))
                if status == 200 and len(self._processes()) >= workers:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("the service did not become ready within 90 s")

    async def _once(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        conn = await Connection.open("127.0.0.1", self.port)
        try:
            return await conn.request(method, path, body=body)
        finally:
            conn.close()

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        status, raw = asyncio.run(self._once("POST", path, body))
        return status, json.loads(raw) if raw else None

    def _processes(self) -> list[Any]:
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server's processes so far."""
        total = 0.0
        for p in self._processes():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except Exception:  # noqa: BLE001 - a process that just ended
                pass
        return total

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@dataclass
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    n: int


Send = Callable[[Connection, int], Awaitable[tuple[int, bytes]]]


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def _load(server: Server, total: int, send: Send) -> Run:
    """``total`` requests (``send(conn, i)`` sends number ``i``), ``CONCURRENCY`` in flight."""

    async def main() -> Run:
        conns = [await Connection.open("127.0.0.1", server.port) for _ in range(CONCURRENCY)]
        latencies: list[float] = []
        counter = iter(range(total))
        stop_at = time.monotonic() + TIME_LIMIT_S

        async def worker(conn: Connection) -> None:
            for i in counter:
                if time.monotonic() > stop_at:
                    return
                t0 = time.perf_counter()
                status, body = await send(conn, i)
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    raise RuntimeError(f"request {i} answered {status}: {body[:200]!r}")

        cpu0, t0 = server.cpu_s(), time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        elapsed, cpu = time.perf_counter() - t0, server.cpu_s() - cpu0
        for c in conns:
            c.close()
        return Run(len(latencies) / elapsed, _pct(latencies, 50) * 1e3, _pct(latencies, 99) * 1e3,
                   cpu / len(latencies) * 1e3, len(latencies))

    try:
        import uvloop

        return uvloop.run(main())
    except ImportError:
        return asyncio.run(main())


def _median_result(name: str, runs: list[Run], goal: str = "") -> Result:
    rps = statistics.median(r.rps for r in runs)
    p50 = statistics.median(r.p50_ms for r in runs)
    p99 = statistics.median(r.p99_ms for r in runs)
    cpu = statistics.median(r.cpu_ms for r in runs)
    each = ", ".join(f"{r.rps:,.0f}" for r in runs)
    note = (f"{rps:,.0f} req/s (runs: {each}), p50 {p50:.1f} ms, p99 {p99:.1f} ms, server CPU "
            f"{cpu:.3f} ms/req (= {1e3 / cpu:,.0f} req/s per idle core), n={runs[0].n}x{len(runs)}{goal}")
    return Result(name, 1 / rps, note=note)


def _signed_in(server: Server) -> tuple[list[str], list[dict[str, str]], list[str]]:
    emails = [f"bench{i}@example.com" for i in range(CONCURRENCY)]
    for e in emails:
        server.post("/auth/register", {"email": e, "password": PW})
    pairs = [server.post("/auth/login", {"email": e, "password": PW})[1] for e in emails]
    heads = [{"Authorization": f"Bearer {p['access_token']}"} for p in pairs]
    return emails, heads, [p["refresh_token"] for p in pairs]


def _reads(server: Server, heads: list[dict[str, str]]) -> list[Run]:
    async def read(conn: Connection, i: int) -> tuple[int, bytes]:
        return await conn.request("GET", "/me", heads[i % CONCURRENCY])

    _load(server, 500, read)  # warm-up: imports, pool, caches
    return [_load(server, READS, read) for _ in range(REPEATS)]


def run(workers: int, url: str) -> list[Result]:
    _reset(url)
    server = Server(url, workers)
    try:
        emails, heads, refresh = _signed_in(server)
        out = []
        reads = _reads(server, heads)
        goal = ""
        if workers == 1:
            rps, p99 = statistics.median(r.rps for r in reads), statistics.median(r.p99_ms for r in reads)
            ok = rps >= 1000 and p99 <= 50
            goal = f"; goal ≥ 1,000 req/s and p99 ≤ 50 ms: {'met' if ok else 'NOT met'}"
        out.append(_median_result(f"service.read_rps_{workers}w", reads, goal))

        # each connection owns one session and rotates its own refresh chain (a connection
        # sends one request at a time, so no two requests race for the same token)
        slot_of: dict[int, int] = {}

        async def rotate(conn: Connection, _i: int) -> tuple[int, bytes]:
            slot = slot_of.setdefault(id(conn), len(slot_of) % CONCURRENCY)
            status, body = await conn.request("POST", "/auth/refresh", body={"refresh_token": refresh[slot]})
            if status == 200:
                refresh[slot] = json.loads(body)["refresh_token"]
            return status, body

        runs = []
        for _ in range(REPEATS):
            slot_of.clear()
            runs.append(_load(server, REFRESHES, rotate))
        out.append(_median_result(f"service.refresh_rps_{workers}w", runs))

        async def login(conn: Connection, i: int) -> tuple[int, bytes]:
            return await conn.request("POST", "/auth/login",
                                      body={"email": emails[i % CONCURRENCY], "password": PW})

        runs = [_load(server, LOGINS, login) for _ in range(REPEATS)]
        out.append(_median_result(f"service.login_rps_{workers}w", runs, " (argon2id m=19 MiB t=2)"))
        return out
    finally:
        server.stop()


def run_nocache(url: str) -> Result:
    _reset(url)
    server = Server(url, 1, {"STOCKSCANNER_AUTH_CACHE_S": "0"})
    try:
        _, heads, _ = _signed_in(server)
        return _median_result("service.read_rps_1w_nocache", _reads(server, heads))
    finally:
        server.stop()


@benchmark("service")
def bench_service() -> list[Result]:
    url = os.environ.get("DATABASE_URL_TEST") or PG_DEFAULT
    return run(1, url) + [run_nocache(url)] + run(2, url)


if __name__ == "__main__":
    for r in bench_service():
        print(f"{r.name:30} {r.note}", flush=True)
