"""What the app holds for the service: the client for the configured URL, the token store, the
watchlist sync and its worker thread (Qt-free; ``app/features/account.py`` builds one)."""
from __future__ import annotations

import logging
import platform
from collections.abc import Callable
from pathlib import Path

from engine.events import EventBus
from engine.store.db import Database
from engine.watchlists import WatchlistService
from sync.client import ServiceClient, check_base_url
from sync.service import SyncService, SyncWorker
from sync.tokens import open_token_store

log = logging.getLogger("stockscanner.sync")


class SyncHub:
    """The service connection of one workstation. ``base_url`` "" means none is configured
    (the embedded service is not running): the status is ``off`` with the reason."""

    def __init__(self, db: Database, bus: EventBus, watchlists: WatchlistService, folder: Path,
                 base_url: str = "", poll_s: float = 30.0, identity: str = "") -> None:
        self.db, self.bus, self.folder = db, bus, Path(folder)
        self.sync = SyncService(db, bus, watchlists)
        self.worker = SyncWorker(self.sync, poll_s=poll_s)
        self.keyring_note = ""
        self.problem = ""
        self.client: ServiceClient | None = None
        #: given to every client this hub makes (``ServiceClient.on_security``)
        self.on_security: Callable[[str, str], None] | None = None
        self.configure(base_url, identity)

    def configure(self, base_url: str, identity: str = "", missing: str = "") -> None:
        """Use the service at ``base_url`` (a bad URL leaves none, with ``problem`` saying why).
        ``identity`` names the service for the stored sign-in and outbox when its URL is not
        stable (the embedded service: "embedded"); default: the URL. ``missing`` is the reason
        shown when there is no URL (default: none is configured)."""
        self.problem = ""
        client: ServiceClient | None = None
        if base_url.strip():
            try:
                url = check_base_url(base_url)
            except ValueError as exc:
                self.problem = str(exc)
            else:
                store, self.keyring_note = open_token_store(self.folder, identity or url)
                if self.keyring_note:
                    log.warning("%s", self.keyring_note)
                client = ServiceClient(url, store, device_name=f"Stock Scanner on {platform.node()}"[:200],
                                       identity=identity)
                client.on_security = self._security
        else:
            self.problem = missing or "No service is configured: set Settings → Service URL."
        self.client = client
        self.sync.set_client(client, self.problem)
        self.worker.wake()

    def _security(self, kind: str, detail: str) -> None:
        if self.on_security is not None:
            self.on_security(kind, detail)

    def start(self) -> None:
        self.worker.start()

    def session_changed(self) -> None:
        """After a sign-in or sign-out: a round at once, and the status now."""
        self.sync.publish_status()
        self.worker.wake()

    def close(self) -> None:
        self.worker.stop()
        self.sync.close()
