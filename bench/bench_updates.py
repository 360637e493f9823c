"""Update checks over TUF on loopback (``engine/updates``): what python-tuf's verification costs.

* ``updates.check_fresh`` -- a first check by a new install (empty cache, bootstrap root):
  root, timestamp, snapshot, targets, the channel role and the pointer, all verified. Peer: the
  same GETs on one keep-alive urllib3 pool with no verification at all.
* ``updates.download_20mb`` -- the verified download of a 20 MB bundle (length, sha256 and
  sha512). Peer: the same GET plus one sha256.

The repository is made with the release code, served by ``http.server`` on 127.0.0.1.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import secrets
import shutil
import tarfile
import tempfile
import threading
from pathlib import Path

from bench.core import Result, benchmark, median_of


SEEN: list[str] = []  # the paths the server was asked for


def _repo(base: Path, bundle_bytes: int) -> tuple[str, bytes, http.server.ThreadingHTTPServer]:
    from engine.updates import current_platform
    from engine.updates import repository as R

    os.environ.setdefault(R.PASSPHRASE_ENV, secrets.token_urlsafe(24))
    ws, keys = R.Workspace(base / "ws"), R.KeyStore.open(base / "keys", create=True)
    R.init(ws, keys)
    b = base / f"stockscanner-1.1.0-{current_platform()}.tar.gz"
    payload = os.urandom(bundle_bytes)
    with tarfile.open(b, "w:gz", compresslevel=1) as t:
        ti = tarfile.TarInfo("stockscanner/stockscanner")
        ti.size = len(payload)
        t.addfile(ti, io.BytesIO(payload))
    R.add(ws, keys, b, "stable", "bench")
    R.publish(ws, keys, base / "site")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            SEEN.append(self.path)
            super().do_GET()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(base / "site")))
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return f"http://127.0.0.1:{srv.server_port}", (ws.meta_dir / "root_history" / "1.root.json").read_bytes(), srv


@benchmark("updates")
def bench_updates() -> list[Result]:
    import urllib3

    from engine.updates.client import UpdateClient

    base = Path(tempfile.mkdtemp(prefix="bench-updates-"))
    url, root, srv = _repo(base, 20 * 1024 * 1024)
    try:
        n = [0]

        def fresh() -> UpdateClient:
            n[0] += 1
            return UpdateClient(url, base / f"c{n[0]}", "stable", root=root, current_version="1.0.0")

        c = fresh()
        offer = c.check()
        assert offer is not None
        SEEN.clear()
        fresh().check()
        paths = list(SEEN)  # exactly the requests a fresh check makes
        bundle = next((base / "site" / "targets" / "stable").glob("*.tar.gz"))
        pool = urllib3.PoolManager()

        def peer_check() -> None:
            for p in paths:
                pool.request("GET", url + p, preload_content=True)

        def ours_check() -> None:
            fresh().check()

        def ours_download() -> None:
            cl = fresh()
            o = cl.check()
            assert o is not None
            cl.download(o)

        def peer_download() -> None:
            peer_check()
            r = pool.request("GET", f"{url}/targets/stable/{bundle.name}", preload_content=True)
            hashlib.sha256(r.data).hexdigest()

        check_s, peer_check_s = median_of(ours_check, 7), median_of(peer_check, 7)
        dl_s, peer_dl_s = median_of(ours_download, 5), median_of(peer_download, 5)
        return [
            Result("updates.check_fresh", check_s, "urllib3 GETs, unverified", peer_check_s,
                   f"{len(paths)} files, root chain + 4 roles + pointer verified"),
            Result("updates.download_20mb", dl_s, "urllib3 GET + sha256", peer_dl_s,
                   f"{offer.length / 1e6:.1f} MB bundle, length + sha256 + sha512"),
        ]
    finally:
        srv.shutdown()
        srv.server_close()
        shutil.rmtree(base, ignore_errors=True)
