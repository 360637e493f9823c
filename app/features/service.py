"""The service feature: only the ``stockscanner serve`` CLI verb for now (the account UI and the
embedded child process come next). Nothing heavy is imported until the verb runs."""
from __future__ import annotations

import argparse

from app.features import CliVerb, Feature

DEFAULT_PORT = 8765


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a whole number, not {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, not {value}")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"workers must be a whole number, not {text!r}") from None
    if not 1 <= value <= 32:
        raise argparse.ArgumentTypeError(f"workers must be between 1 and 32, not {value}")
    return value


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    p.add_argument("--database-url", metavar="URL",
                   help="sqlite:///PATH or postgresql://… (default: DATABASE_URL, else server.sqlite3 "
                        "in the data folder)")
    p.add_argument("--workers", type=_workers, default=1, help="worker processes (default 1)")
    p.add_argument("--access-log", action="store_true",
                   help="log every request (off by default: security events go to the audit log)")


def run_serve(args: argparse.Namespace) -> int:
    """Check the settings, migrate the database once, then run uvicorn with ``--workers``
    processes (each builds its app from the environment)."""
    import os

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    from server.config import Settings
    from server.db import make_engine, migrate

    settings = Settings.from_env()  # ConfigError (a ValueError): one sentence, exit 1
    if "SECRET_KEY" not in os.environ:
        os.environ["SECRET_KEY"] = settings.secret_key  # workers share the generated key
    os.environ["DATABASE_URL"] = settings.database_url
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    import uvicorn

    trusted = settings.trusted_proxies or None
    uvicorn.run("server.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, proxy_headers=trusted is not None,
                forwarded_allow_ips=trusted, server_header=False, log_level="info",
                access_log=args.access_log)
    return 0


FEATURE = Feature(
    id="service",
    title="Service",
    cli_verbs=(CliVerb("serve", "run the REST service (accounts, tokens, 2FA)", _configure, run_serve,
                       description="Run the Stock Scanner REST service with uvicorn. Settings come from "
                                   "the environment (STOCKSCANNER_ENV, SECRET_KEY, DATABASE_URL; see the "
                                   "README's service section)."),),
)
