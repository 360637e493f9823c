"""A real TUF repository made with our release code, served by a real HTTP server on
127.0.0.1, and an install root with version 1.0.0 installed (a bundle whose executable is a
small script that prints its version, as the real one's ``--version`` does)."""
from __future__ import annotations

import functools
import http.server
import io
import secrets
import tarfile
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from engine.updates import current_platform
from engine.updates import repository as R
from engine.updates.client import UpdateClient
from engine.updates.install import Installation

PLATFORM = current_platform()


def make_bundle(folder: Path, version: str, *, exit_code: int = 0, prints: str | None = None,
                platform: str = PLATFORM, pad: int = 0) -> Path:
    """``stockscanner-<version>-<platform>.tar.gz`` with ``stockscanner/stockscanner``."""
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / f"stockscanner-{version}-{platform}.tar.gz"
    printed = prints if prints is not None else f"stockscanner {version}"
    script = f"#!/bin/sh\necho '{printed}'\nexit {exit_code}\n# {secrets.token_hex(pad)}\n".encode()
    with tarfile.open(p, "w:gz") as t:
        d = tarfile.TarInfo("stockscanner")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        t.addfile(d)
        f = tarfile.TarInfo("stockscanner/stockscanner")
        f.size, f.mode = len(script), 0o755
        t.addfile(f, io.BytesIO(script))
    return p


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the published folder; ``overrides`` (URL path → bytes, or "endless") stand for
    what an attacker on the network or a compromised mirror would serve instead."""

    overrides: dict[str, bytes | str] = {}
    requests: list[str] = []

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        o = self.overrides.get(self.path)
        if o is None:
            return super().do_GET()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if o == "endless":
            self.end_headers()
            try:
                for _ in range(20_000):  # 20 MB at most, far beyond any limit the client sets
                    self.wfile.write(b"\0" * 1024)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        assert isinstance(o, bytes)
        self.send_header("Content-Length", str(len(o)))
        self.end_headers()
        self.wfile.write(o)


class Repo:
    def __init__(self, base: Path, url: str, handler: type[Handler]) -> None:
        self.base = base
        self.ws = R.Workspace(base / "workspace")
        self.keys = R.KeyStore.open(base / "keys", create=True)
        self.out = base / "published"
        self.url = url
        self.handler = handler
        self.bundles = base / "bundles"

    @property
    def root_v1(self) -> bytes:
        return (self.ws.meta_dir / "root_history" / "1.root.json").read_bytes()

    def release(self, version: str, channel: str = "stable", notes: str = "", **bundle: object) -> Path:
        b = make_bundle(self.bundles, version, **bundle)  # type: ignore[arg-type]
        R.add(self.ws, self.keys, b, channel, notes)
        R.publish(self.ws, self.keys, self.out)
        return b

    def client(self, channel: str = "stable", current: str = "1.0.0", cache: str = "client") -> UpdateClient:
        return UpdateClient(self.url, self.base / cache, channel, root=self.root_v1, current_version=current)

    def served(self, rel: str) -> Path:
        return self.out / rel

    def override(self, url_path: str, body: bytes | str) -> None:
        self.handler.overrides[url_path] = body

    def target_url_path(self, target_path: str) -> str:
        t = self.ws.load(target_path.split("/")[0]).signed
        h = t.targets[target_path].hashes["sha256"]
        d, _, name = target_path.rpartition("/")
        return f"/targets/{d}/{h}.{name}"


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(R.PASSPHRASE_ENV, "a test passphrase, not a real one")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path], tuple[str, type[Handler]]]]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(folder: Path) -> tuple[str, type[Handler]]:
        folder.mkdir(parents=True, exist_ok=True)
        handler = type("H", (Handler,), {"overrides": {}, "requests": []})
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_port}", handler

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def repo(tmp_path: Path, serve: Callable[[Path], tuple[str, type[Handler]]]) -> Repo:
    url, handler = serve(tmp_path / "published")
    r = Repo(tmp_path, url, handler)
    R.init(r.ws, r.keys)
    R.publish(r.ws, r.keys, r.out)
    return r


@pytest.fixture
def installed(tmp_path: Path) -> Installation:
    """An install root running 1.0.0."""
    src = tmp_path / "unpacked-1.0.0"
    b = make_bundle(tmp_path / "b", "1.0.0")
    with tarfile.open(b) as t:
        t.extractall(src, filter="data")
    inst = Installation(tmp_path / "install")
    inst.adopt("1.0.0", src)
    return inst


def assert_still_running(inst: Installation, version: str = "1.0.0") -> None:
    assert inst.current() == version
    ok, out = inst.version_runs(version)
    assert ok, out
    assert inst.pending() is None


def frozen_workspace(path: Path, when: datetime) -> R.Workspace:
    return R.Workspace(path, now=when)
