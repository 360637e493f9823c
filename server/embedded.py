"""The embedded service: the child process the workstation starts when no service URL is set.

``python -m server.embedded --data-dir DIR`` runs the same service as ``stockscanner serve``
(development mode, one worker) on 127.0.0.1 with the data folder's SQLite file
(``DIR/server.sqlite3``) and its private key file (``DIR/server-secret.key``, mode 0600, made on
first start by ``Settings.from_env``). It differs from ``serve`` in three ways:

* it binds an ephemeral port itself and announces it as one JSON line on stdout
  (``{"port": N, "pid": P}``) once the database is migrated and the socket listens, so the
  parent never races another program for a port and never talks to an impostor;
* it stops when its standard input reaches end of file: the parent holds the write end, so
  the child also stops when the parent is killed (no orphan on SIGKILL, on any OS);
* only loopback: the host is not an option.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
from pathlib import Path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m server.embedded",
                                description="Run the embedded Stock Scanner service for one workstation.")
    p.add_argument("--data-dir", required=True, type=Path, help="the workstation's data folder")
    return p.parse_args(argv)


def _watch_stdin(server: object) -> None:
    """Block on stdin until the parent closes it (or dies), then ask uvicorn to stop."""
    try:
        while sys.stdin.buffer.read(1):
            pass
    except (OSError, ValueError):
        pass
    server.should_exit = True  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    data_dir: Path = args.data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["STOCKSCANNER_HOME"] = str(data_dir)
    os.environ["STOCKSCANNER_ENV"] = "development"
    os.environ.pop("SECRET_KEY", None)  # always the data folder's own private key
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'server.sqlite3'}"

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    os.environ["STOCKSCANNER_PUBLIC_URL"] = f"http://127.0.0.1:{port}"

    from server.config import Settings
    from server.db import make_engine, migrate

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()

    import uvicorn

    from server.app import create_app

    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False,
                            server_header=False, lifespan="off")
    server = uvicorn.Server(config)
    threading.Thread(target=_watch_stdin, args=(server,), name="parent-watch", daemon=True).start()

    sock.listen(128)
    # announced after listen(): the parent's first request is queued by the kernel until the
    # event loop accepts it
    sys.stdout.write(json.dumps({"port": port, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
