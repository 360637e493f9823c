"""The service feature: which service the workstation uses, the embedded one, and the
``stockscanner serve`` CLI verb.

With ``service/url`` empty (the default) the workstation starts the same service itself after
the first frame, in a child process on 127.0.0.1 with its own SQLite file in the data folder,
and stops it when it closes (``sync.link.ServiceLink``, ``sync.embedded``). With a URL, the
embedded one is not started. Nothing heavy is imported until the verb runs or the window is up.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.features import CliVerb, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    from app.context import AppContext
    from sync.link import ServiceLink

DEFAULT_PORT = 8765
URL_KEY = "service/url"
EMBEDDED_KEY = "service/embedded"
#: whether a window's start-up starts the embedded service (the test suite turns it off so the
#: hundreds of workstations it builds do not each spawn a child; tests of it turn it back on)
AUTOSTART = True


def _url_problem(value: Any) -> str | None:
    from sync.link import service_url_problem

    return service_url_problem(str(value))


def _link(ctx: "AppContext") -> "ServiceLink":
    from engine import paths
    from sync.link import ServiceLink

    return ServiceLink(ctx.bus, paths.data_dir(), url=str(ctx.settings.get(URL_KEY) or ""),
                       embedded=bool(ctx.settings.get(EMBEDDED_KEY)))


def link(ctx: "AppContext") -> "ServiceLink":
    """This workstation's service link (built on first use)."""
    from sync.link import ServiceLink

    return ctx.service(ServiceLink)


def _start(ctx: "AppContext") -> None:
    if not AUTOSTART:
        return
    after = getattr(ctx.window, "after_start_up", None)
    (after or (lambda fn: fn()))(lambda: link(ctx).connect())


def _apply_url(ctx: "AppContext", value: Any) -> None:
    link(ctx).reconfigure(str(value or ""))


def _on_available(ctx: "AppContext", event: Any) -> None:
    import logging

    logging.getLogger(__name__).info("service ready at %s (%s)", event.base_url,
                                     "built-in" if event.embedded else "configured")


def _on_unavailable(ctx: "AppContext", event: Any) -> None:
    ctx.notifier.notify("Service unavailable", event.reason, "warning")


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
    services=(ServiceSpec("sync.link:ServiceLink", _link),),
    settings=(
        SettingKey(URL_KEY, str, "",
                   "the address of a hosted Stock Scanner service (https://HOST[:PORT]); empty = the built-in "
                   "service this app starts on 127.0.0.1 with its data in the data folder",
                   validator=_url_problem, apply=_apply_url),
        SettingKey(EMBEDDED_KEY, bool, True,
                   "start the built-in service when no service address is set (off: shared features need a "
                   "hosted service)"),
    ),
    subscriptions=(
        Subscription("sync.events:ServiceAvailable", _on_available),
        Subscription("sync.events:ServiceUnavailable", _on_unavailable),
    ),
    start=_start,
    cli_verbs=(CliVerb("serve", "run the REST service (accounts, tokens, 2FA)", _configure, run_serve,
                       description="Run the Stock Scanner REST service with uvicorn. Settings come from "
                                   "the environment (STOCKSCANNER_ENV, SECRET_KEY, DATABASE_URL; see the "
                                   "README's service section)."),),
)
