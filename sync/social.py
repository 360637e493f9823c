"""The social endpoints from the app (Qt-free, blocking: the app calls these in workers):
profiles, people, follow, block, report, the feed, publishing paper fills, and the push
stream (server-sent events of ``GET /social/stream``).

Publishing is opt-in: ``TradePublisher`` sends the fills of one chosen paper account made
after the moment the user switched publishing on, nothing else. Each fill's ``fill_id`` is
its key on the service, so sending one again (a retry, a restart) never duplicates it."""
from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import requests

from engine.paper.broker import PaperBroker
from sync.client import USER_AGENT, AuthError, Offline, ServiceClient, _error

log = logging.getLogger(__name__)

#: (connect, read) seconds for the stream: the service sends a keep-alive every second
STREAM_TIMEOUT = (3.05, 10.0)


class SocialClient:
    """``/social`` on the service as the signed-in user of ``client``."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def _get(self, path: str, **params: Any) -> Any:
        return self.client.call("GET", path, params={k: v for k, v in params.items() if v is not None}).body

    # profiles and people
    def my_profile(self) -> dict[str, Any]:
        return dict(self._get("/social/profile"))

    def update_profile(self, display_name: str, bio: str) -> dict[str, Any]:
        return dict(self.client.call("PUT", "/social/profile", {"display_name": display_name, "bio": bio}).body)

    def set_avatar(self, image: bytes) -> dict[str, Any]:
        body = {"image_base64": base64.b64encode(image).decode("ascii")}
        return dict(self.client.call("PUT", "/social/profile/avatar", body).body)

    def remove_avatar(self) -> dict[str, Any]:
        return dict(self.client.call("DELETE", "/social/profile/avatar").body)

    def avatar(self, user_id: int) -> bytes | None:
        tokens = self.client.tokens.load()
        if tokens is None:
            return None
        r = self.client.session.get(f"{self.client.base_url}/social/users/{int(user_id)}/avatar",
                                    headers={"Authorization": f"Bearer {tokens.access_token}"},
                                    timeout=self.client.timeout)
        return r.content if r.status_code == 200 and r.headers.get("content-type") == "image/png" else None

    def profile(self, user_id: int) -> dict[str, Any]:
        return dict(self._get(f"/social/users/{int(user_id)}"))

    def search(self, text: str = "", limit: int = 50) -> list[dict[str, Any]]:
        return list(self._get("/social/users", q=text[:80], limit=limit))

    def follow(self, user_id: int) -> dict[str, Any]:
        return dict(self.client.call("POST", f"/social/users/{int(user_id)}/follow").body)

    def unfollow(self, user_id: int) -> dict[str, Any]:
        return dict(self.client.call("DELETE", f"/social/users/{int(user_id)}/follow").body)

    def following(self) -> list[dict[str, Any]]:
        return list(self._get("/social/following"))

    def followers(self) -> list[dict[str, Any]]:
        return list(self._get("/social/followers"))

    def block(self, user_id: int) -> None:
        self.client.call("POST", f"/social/users/{int(user_id)}/block")

    def unblock(self, user_id: int) -> None:
        self.client.call("DELETE", f"/social/users/{int(user_id)}/block")

    def report(self, user_id: int, reason: str, note: str = "") -> None:
        self.client.call("POST", f"/social/users/{int(user_id)}/report", {"reason": reason, "note": note})

    def feed(self, before_id: int = 0, limit: int = 50) -> list[dict[str, Any]]:
        return list(self._get("/social/feed", before_id=before_id, limit=limit))

    # trades
    def publish(self, trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(self.client.call("POST", "/social/trades", {"trades": trades}).body)

    def my_trades(self, after_id: int = 0, limit: int = 200) -> dict[str, Any]:
        return dict(self._get("/social/trades", after_id=after_id, limit=limit))

    def trades_of(self, user_id: int, after_id: int = 0, limit: int = 200) -> dict[str, Any]:
        return dict(self._get(f"/social/users/{int(user_id)}/trades", after_id=after_id, limit=limit))

    def strategy_trades(self, strategy_id: int, after_id: int = 0, limit: int = 200) -> dict[str, Any]:
        return dict(self._get(f"/social/strategies/{int(strategy_id)}/trades", after_id=after_id, limit=limit))

    def last_trade_id(self, user_id: int | None = None, strategy_id: int | None = None) -> int:
        """The id of the newest trade published by ``user_id`` (or under ``strategy_id``): a new
        copy starts after it."""
        last = 0
        while True:
            page = (self.trades_of(user_id, last) if user_id is not None
                    else self.strategy_trades(int(strategy_id or 0), last))
            if not page["items"]:
                return last
            last = int(page["last_id"])

    # push
    def stream(self, *, users: list[int], strategies: list[int], after_id: int | None,
               max_s: float = 25.0, stop: threading.Event | None = None,
               followed: bool = False) -> Iterator[dict[str, Any]]:
        """The trades the service pushes (``event: trade``) of ``users``, under ``strategies``
        and (``followed``) of everyone the user follows, until the stream ends (``max_s``) or
        ``stop`` is set. Raises ``Offline`` when the service cannot be reached."""
        params: list[tuple[str, Any]] = [("max_s", max_s), ("followed", str(followed).lower())] + [("users", u) for u in users] + [
            ("strategies", s) for s in strategies]
        if after_id is not None:
            params.append(("after_id", after_id))
        for attempt in (1, 2):
            tokens = self.client.tokens.load()
            if tokens is None or not tokens.access_token:
                raise AuthError(401, "signed_out", "You are not signed in.")
            try:
                r = requests.get(f"{self.client.base_url}/social/stream", params=params, stream=True,
                                 timeout=STREAM_TIMEOUT, headers={"Authorization": f"Bearer {tokens.access_token}",
                                                                  "Accept": "text/event-stream",
                                                                  "User-Agent": USER_AGENT})
            except requests.RequestException as exc:
                raise Offline(f"The service at {self.client.base_url} cannot be reached ({type(exc).__name__}).") from None
            if r.status_code == 401 and attempt == 1:
                r.close()
                self.client.call("GET", "/me")  # refreshes the access token (or signs out)
                continue
            if r.status_code >= 400:
                err = _error(r, self.client.base_url)
                r.close()
                raise err
            with r:
                yield from _events(r, stop)
            return

    @staticmethod
    def encode_fill(fill: Any, position_after: int, equity_cents: int | None,
                    strategy_id: int | None = None) -> dict[str, Any]:
        return {"key": str(fill.fill_id)[:64], "symbol": fill.symbol, "side": fill.side.value,
                "qty": int(fill.qty), "price": format(Decimal(fill.price).normalize(), "f"),
                "position_after": int(position_after), "equity_cents": equity_cents,
                "strategy_id": strategy_id, "time_ms": int(fill.time_ms)}


def _events(r: requests.Response, stop: threading.Event | None) -> Iterator[dict[str, Any]]:
    event, data = "", cast(list[str], [])
    try:
        # chunk_size=None: each chunk as it arrives (the default 512 bytes would hold a trade back)
        for raw in r.iter_lines(chunk_size=None, decode_unicode=True):  # type: ignore[call-overload]  # None is documented; the stubs say int
            if stop is not None and stop.is_set():
                return
            line = raw if isinstance(raw, str) else raw.decode()
            if not line:
                if event == "trade" and data:
                    try:
                        yield dict(json.loads("\n".join(data)))
                    except (ValueError, TypeError):
                        log.warning("the social stream sent a trade that is not JSON")
                event, data = "", cast(list[str], [])
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    except requests.RequestException as exc:
        raise Offline(f"The stream from the service broke off ({type(exc).__name__}).") from None


@dataclass
class PublishStatus:
    published: int = 0
    pending: int = 0
    error: str = ""


class TradePublisher:
    """Publishes the fills of ``account`` made at or after ``since_ms`` (see module docstring)."""

    def __init__(self, social: SocialClient, broker: PaperBroker, account: str, since_ms: int,
                 strategy_id: int | None = None) -> None:
        self.social, self.broker, self.account, self.since_ms = social, broker, account, int(since_ms)
        self.strategy_id = strategy_id
        self._sent: set[str] | None = None
        self._lock = threading.Lock()

    def _known(self) -> set[str]:
        if self._sent is None:
            keys: set[str] = set()
            after = 0
            while True:
                page = self.social.my_trades(after)
                keys |= {str(t["key"]) for t in page["items"]}
                if not page["items"]:
                    break
                after = int(page["last_id"])
            self._sent = keys
        return self._sent

    def pending(self) -> list[dict[str, Any]]:
        """The fills to publish, oldest first, each with the position after it (from the fills)."""
        known = self._known()
        pos: dict[str, int] = {}
        out = []
        try:
            summary = self.broker.account_summary(self.account)
            equity = int((summary.equity * 100).to_integral_value())
        except (KeyError, ValueError):
            return []
        for f in sorted(self.broker.fills(self.account), key=lambda f: (f.time_ms, f.fill_id)):
            pos[f.symbol] = pos.get(f.symbol, 0) + f.signed_qty
            if f.time_ms >= self.since_ms and str(f.fill_id)[:64] not in known:
                out.append(SocialClient.encode_fill(f, pos[f.symbol], equity, self.strategy_id))
        return out

    def publish_once(self) -> PublishStatus:
        """Send what is pending (in batches of 100); an error is reported, the rest kept for later."""
        with self._lock:
            status = PublishStatus()
            try:
                todo = self.pending()
                for i in range(0, len(todo), 100):
                    batch = todo[i:i + 100]
                    self.social.publish(batch)
                    self._known().update(t["key"] for t in batch)
                    status.published += len(batch)
            except Exception as exc:  # noqa: BLE001 - reported; retried at the next round
                status.error = str(exc)
                try:
                    status.pending = len(self.pending())
                except Exception:  # noqa: BLE001
                    status.pending = -1
            return status


Deliver = Callable[[list[dict[str, Any]]], None]


def _now_ms() -> int:
    return int(time.time() * 1000)


__all__ = ["PublishStatus", "SocialClient", "TradePublisher"]
