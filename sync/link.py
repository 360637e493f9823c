"""Which service the workstation talks to, and the embedded one's life cycle.

``service/url`` empty (the default) means *embedded*: the workstation starts the service
itself (``sync.embedded.EmbeddedService``) on 127.0.0.1 with its own SQLite file in the data
folder, and stops it with the app. A URL means a hosted service; the embedded one is then not
started. ``ServiceLink`` publishes ``ServiceAvailable`` / ``ServiceUnavailable`` on the bus so
the status bar, the account UI and the sync client learn the base URL without asking.

``connect`` starts the work on a background thread and returns at once: the child takes one
to a few seconds to start, and the window must not wait for it.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from urllib.parse import urlsplit

from engine.events import EventBus
from sync.embedded import EmbeddedService, EmbeddedServiceError
from sync.events import ServiceAvailable, ServiceUnavailable

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def service_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the service URL (``None`` when it can). Empty means embedded.
    Plain http is refused except to this machine: passwords and tokens travel on it."""
    text = url.strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"Service URL {text!r} is not a service address: write https://HOST[:PORT] (or leave it empty for the built-in service)"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return f"Service URL {text!r} uses plain http to another machine: passwords and tokens would travel unencrypted; use https://"
    if parts.query or parts.fragment or parts.username or parts.password:
        return f"Service URL {text!r} must not carry a query, a fragment or credentials"
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return f"Service URL {text!r} has an invalid port"
    return None


class ServiceLink:
    """The service this workstation uses: a configured URL, or its embedded child."""

    def __init__(self, bus: EventBus, data_dir: Path, url: str = "", embedded: bool = True) -> None:
        self.bus = bus
        self.data_dir = Path(data_dir)
        self._url = url.strip().rstrip("/")
        self._embedded_allowed = embedded
        self._embedded: EmbeddedService | None = None
        self._lock = threading.Lock()
        self._available = threading.Event()
        self._base_url: str | None = None
        self._reason: str | None = None
        self._generation = 0
        self._closed = False

    # ------------------------------------------------------------------ state
    @property
    def embedded(self) -> bool:
        """Whether the workstation runs the service itself (no URL configured)."""
        return not self._url

    @property
    def base_url(self) -> str | None:
        """Where the service answers, ``None`` until it does (or when it cannot)."""
        return self._base_url

    @property
    def reason(self) -> str | None:
        """Why the service is unavailable, ``None`` when it is available or still starting."""
        return self._reason

    @property
    def embedded_service(self) -> EmbeddedService | None:
        return self._embedded

    def wait(self, timeout: float) -> str | None:
        """Block (in a worker) until the service is available; its base URL or ``None``."""
        self._available.wait(timeout)
        return self._base_url

    # ------------------------------------------------------------------ life cycle
    def connect(self) -> threading.Thread:
        """Find or start the service on a background thread (returned, for tests to join)."""
        with self._lock:
            self._generation += 1
            gen = self._generation
        t = threading.Thread(target=self._connect, args=(gen,), name="service-link", daemon=True)
        t.start()
        return t

    def reconfigure(self, url: str) -> threading.Thread:
        """Use ``url`` from now on (empty: the embedded service); stops an embedded child that
        is no longer wanted."""
        self._url = url.strip().rstrip("/")
        self._set_unavailable(None)
        if self._url:
            self._stop_embedded()
        return self.connect()

    def _connect(self, gen: int) -> None:
        if self._url:
            self._set_available(self._url, gen)
            return
        if not self._embedded_allowed:
            self._set_unavailable("no service is configured and the built-in service is turned off "
                                  "(Settings → Service)", gen)
            return
        with self._lock:
            if self._closed:
                return
            if self._embedded is None:
                self._embedded = EmbeddedService(self.data_dir)
            svc = self._embedded
            if not svc.running:
                svc.start()
        try:
            url = svc.wait_ready()
        except EmbeddedServiceError as exc:
            if self._closed:
                return  # the workstation closed while the child was starting: nothing to tell
            log.warning("embedded service: %s", exc)
            self._set_unavailable(f"the built-in service could not start: {exc}", gen)
            return
        self._set_available(url, gen)

    def _set_available(self, url: str, gen: int) -> None:
        with self._lock:
            if gen != self._generation or self._closed:
                return
            self._base_url, self._reason = url, None
            self._available.set()
        self.bus.publish(ServiceAvailable(url, embedded=not self._url))

    def _set_unavailable(self, reason: str | None, gen: int | None = None) -> None:
        with self._lock:
            if gen is not None and (gen != self._generation or self._closed):
                return
            self._base_url, self._reason = None, reason
            self._available.clear()
        if reason is not None:
            self.bus.publish(ServiceUnavailable(reason, embedded=not self._url))

    def _stop_embedded(self) -> None:
        with self._lock:
            svc, self._embedded = self._embedded, None
        if svc is not None:
            svc.stop()

    def close(self) -> None:
        """Stop the embedded child (called when the workstation closes)."""
        with self._lock:
            self._closed = True
            self._generation += 1
        self._stop_embedded()
        self._base_url = None
        self._available.clear()
