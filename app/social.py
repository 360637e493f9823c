"""``SocialDesk``: what the Social and Copy trading docks work with (no Qt here).

It joins the signed-in service client (``sync.hub.SyncHub``), the social endpoints
(``sync.social.SocialClient``), the copy-trading engine over the app's paper session
(``engine.copytrading.CopyEngine``), its connection to the service (``sync.copy.CopySync``:
push over server-sent events, polling every ``social/sync_interval_s`` as the fallback) and
the opt-in publisher of one paper account's fills (``sync.social.TradePublisher``; setting
``social/publish_account``, empty = nothing is published).

Every method that talks to the service blocks: the docks call them in workers."""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.copytrading import CopyEngine, CopyLink, CopySettings, Relationship, Tracking
    from sync.copy import CopySync
    from sync.social import SocialClient, TradePublisher

log = logging.getLogger(__name__)

PUBLISH_ACCOUNT = "social/publish_account"
PUBLISH_SINCE = "social/publish_since_ms"
INTERVAL = "social/sync_interval_s"
PUSH = "social/push"
PUBLISH_STRATEGY = "social/publish_strategy_id"


class NotSignedIn(RuntimeError):
    """The service is not configured or nobody is signed in; one sentence."""


class SocialDesk:
    def __init__(self, ctx: "AppContext") -> None:
        from engine.copytrading import CopyEngine
        from engine.paper.session import PaperSession
        from engine.paper.session_events import QuotesApplied

        self.ctx = ctx
        self.session = ctx.service(PaperSession)
        self.engine: CopyEngine = CopyEngine(ctx.db, self.session)
        self._sync: CopySync | None = None
        self._sync_client: Any = None
        self._publisher: TradePublisher | None = None
        self._publish_wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = "not connected"
        self.publish_status = ""
        self._off = ctx.bus.subscribe(QuotesApplied, self._on_quotes)

    # ------------------------------------------------------------------ connection
    def client(self) -> Any:
        from app.features.account import hub

        client = hub(self.ctx).client
        if client is None:
            raise NotSignedIn(hub(self.ctx).problem or "No service is configured.")
        if not client.signed_in_email:
            raise NotSignedIn("Sign in first (Account menu).")
        return client

    def social(self) -> "SocialClient":
        from sync.social import SocialClient

        return SocialClient(self.client())

    def start(self) -> None:
        """Start the background loop that keeps the copy sync and the publisher running."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="social-desk", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._publish_wake.set()
        self._off()
        if self._sync is not None:
            self._sync.stop()
        if self._thread is not None:
            self._thread.join(5)

    def _interval(self) -> float:
        try:
            return max(1.0, float(self.ctx.settings.get(INTERVAL, 5.0)))
        except (TypeError, ValueError):
            return 5.0

    def _ensure(self) -> None:
        """(Re)connect the copy sync and the publisher to the current client."""
        from sync.copy import CopySync
        from sync.social import SocialClient, TradePublisher

        try:
            client = self.client()
        except NotSignedIn as exc:
            self.status = str(exc)
            if self._sync is not None:
                self._sync.stop()
                self._sync = None
            self._publisher = None
            return
        if self._sync is None or self._sync_client is not client:
            if self._sync is not None:
                self._sync.stop()
            self._sync_client = client
            self._sync = CopySync(SocialClient(client), self.engine, interval_s=self._interval(),
                                  push=bool(self.ctx.settings.get(PUSH, True)), on_status=self._set_status)
            self._sync.start()
        account = str(self.ctx.settings.get(PUBLISH_ACCOUNT) or "")
        if not account:
            self._publisher = None
            self.publish_status = "not publishing"
        else:
            try:
                strategy = int(self.ctx.settings.get(PUBLISH_STRATEGY) or 0) or None
            except (TypeError, ValueError):
                strategy = None
            if (self._publisher is None or self._publisher.account != account
                    or self._publisher.social.client is not client or self._publisher.strategy_id != strategy):
                since = int(self.ctx.settings.get(PUBLISH_SINCE) or 0)
                self._publisher = TradePublisher(SocialClient(client), self.ctx.broker, account, since,
                                                 strategy_id=strategy)

    def _set_status(self, text: str) -> None:
        self.status = text

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._ensure()
                if self._publisher is not None:
                    st = self._publisher.publish_once()
                    self.publish_status = (f"publishing {self._publisher.account}" + (
                        f": {st.error}" if st.error else f" ({st.published} sent)" if st.published else ""))
            except Exception:  # noqa: BLE001 - the loop must survive
                log.exception("social desk round failed")
            self._publish_wake.wait(self._interval())
            self._publish_wake.clear()

    def _on_quotes(self, event: Any) -> None:
        # on the quote worker: waiting copies get their quote, stop-losses are applied; a
        # fill may have happened, so the publisher runs now rather than at the next round
        try:
            self.engine.on_quotes()
        except Exception:  # noqa: BLE001 - a quote round must not fail because of a copy
            log.exception("copy trading on quotes failed")
        if self._publisher is not None:
            self._publish_wake.set()

    # ------------------------------------------------------------------ publishing (opt-in)
    def set_publishing(self, account: str) -> None:
        """Publish ``account``'s fills from now on ("" = stop publishing)."""
        self.ctx.settings.set(PUBLISH_ACCOUNT, account)
        if account:
            self.ctx.settings.set(PUBLISH_SINCE, int(time.time() * 1000))
        self._publisher = None
        self._publish_wake.set()

    @property
    def publishing(self) -> str:
        return str(self.ctx.settings.get(PUBLISH_ACCOUNT) or "")

    def accounts(self) -> list[str]:
        return self.session.accounts()

    # ------------------------------------------------------------------ social (blocking)
    def my_profile(self) -> dict[str, Any]:
        return self.social().my_profile()

    def save_profile(self, display_name: str, bio: str) -> dict[str, Any]:
        return self.social().update_profile(display_name, bio)

    def set_avatar(self, path: str) -> dict[str, Any]:
        with open(path, "rb") as fh:
            return self.social().set_avatar(fh.read(64 * 1024))

    def avatar(self, user_id: int) -> bytes | None:
        return self.social().avatar(user_id)

    def search(self, text: str) -> list[dict[str, Any]]:
        s = self.social()
        people = s.search(text)
        following = {p["id"] for p in s.following()}
        return [{**p, "is_following": p["id"] in following} for p in people]

    def profile(self, user_id: int) -> dict[str, Any]:
        return self.social().profile(user_id)

    def follow(self, user_id: int, on: bool) -> dict[str, Any]:
        s = self.social()
        return s.follow(user_id) if on else s.unfollow(user_id)

    def block(self, user_id: int) -> None:
        self.social().block(user_id)

    def report(self, user_id: int, reason: str, note: str = "") -> None:
        self.social().report(user_id, reason, note)

    def following(self) -> list[dict[str, Any]]:
        return self.social().following()

    def followers(self) -> list[dict[str, Any]]:
        return self.social().followers()

    def feed(self) -> list[dict[str, Any]]:
        return self.social().feed()

    # ------------------------------------------------------------------ copy trading
    def start_copy(self, *, account: str, settings: "CopySettings", leader_id: int | None = None,
                   strategy_id: int | None = None, leader_name: str = "") -> "Relationship":
        """Start copying from the leader's (or strategy's) next published trade."""
        s = self.social()
        cursor = s.last_trade_id(user_id=leader_id, strategy_id=strategy_id)
        if leader_id is not None:
            s.follow(leader_id)  # the feed shows whom one copies
        rel = self.engine.start(account=account, settings=settings, leader_id=leader_id, strategy_id=strategy_id,
                                leader_name=leader_name, cursor=cursor)
        if self._sync is not None:
            self._sync.wake()
        self._publish_wake.set()
        return rel

    def relationships(self) -> list["Relationship"]:
        return self.engine.relationships()

    def links(self, rel_id: int) -> list["CopyLink"]:
        return self.engine.links(rel_id)

    def tracking(self, rel_id: int) -> "Tracking":
        return self.engine.tracking(rel_id)

    def pause(self, rel_id: int) -> "Relationship":
        return self.engine.pause(rel_id)

    def resume(self, rel_id: int) -> "Relationship":
        return self.engine.resume(rel_id)

    def stop_copy(self, rel_id: int) -> "Relationship":
        return self.engine.stop(rel_id)

    def update_settings(self, rel_id: int, settings: "CopySettings") -> "Relationship":
        return self.engine.update_settings(rel_id, settings)

    @property
    def connection(self) -> str:
        return self._sync.status if self._sync is not None else self.status
