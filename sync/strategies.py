"""Strategies and the leaderboard from the app's side (Qt-free; every call blocks, so the docks
run them in workers).

* ``StrategiesApi``: the service's strategy endpoints (``server/routers/strategies.py``) over
  the existing ``ServiceClient`` (its retries, token refresh and typed errors).
* ``CommunityService``: what the My strategies and Leaderboard docks receive: the local
  strategies (``engine.community.strategies.StrategyStore``), backtests on a universe
  (``engine.research.service.ResearchService`` loads it), publishing (create or update the
  service's copy, then its results), sharing and revoking, the leaderboard, detail, clone
  (into the local strategies, lineage kept as ``parent_remote_id``) and reviews. The client
  comes from ``client_of()`` at each call (the app's ``SyncHub.client``: None when no service
  is configured; calls then raise ``NotConfigured``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from engine.community.strategies import (
    LiveSession, StrategyDef, StrategyError, StrategyStore, UniverseBacktest, backtest_universe,
)
from sync.client import ServiceClient, ServiceError


class NotConfigured(ServiceError):
    """No service is configured or signed in; the message says what to do."""


class StrategiesApi:
    """The strategy endpoints; each returns the service's JSON (dicts and lists)."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def _json(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self.client.call(method, path, body, params=params).body

    def mine(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self._json("GET", "/strategies")
        return out

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = self._json("POST", "/strategies", body)
        return out

    def get(self, sid: int) -> dict[str, Any]:
        out: dict[str, Any] = self._json("GET", f"/strategies/{int(sid)}")
        return out

    def replace(self, sid: int, body: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = self._json("PUT", f"/strategies/{int(sid)}", body)
        return out

    def delete(self, sid: int) -> None:
        self._json("DELETE", f"/strategies/{int(sid)}")

    def publish_results(self, sid: int, backtest: dict[str, Any] | None, live: dict[str, Any] | None) -> dict[str, Any]:
        """Each run in its own request (each fits the service's body limit); a run left out is kept."""
        out: dict[str, Any] = {}
        for key, run in (("backtest", backtest), ("live", live)):
            if run is not None:
                out = self._json("PUT", f"/strategies/{int(sid)}/results", {key: run})
        if not out:
            raise ValueError("give a backtest run, a live run or both")
        return out

    def recalculate(self, sid: int) -> dict[str, Any]:
        out: dict[str, Any] = self._json("POST", f"/strategies/{int(sid)}/recalculate")
        return out

    def share(self, sid: int, visibility: str, expires_in_days: int = 30) -> dict[str, Any]:
        out: dict[str, Any] = self._json("POST", f"/strategies/{int(sid)}/share",
                                         {"visibility": visibility, "expires_in_days": int(expires_in_days)})
        return out

    def revoke(self, sid: int) -> dict[str, Any]:
        out: dict[str, Any] = self._json("DELETE", f"/strategies/{int(sid)}/share")
        return out

    def shared(self, token: str) -> dict[str, Any]:
        out: dict[str, Any] = self._json("POST", "/strategies/shared", {"token": token})
        return out

    def leaderboard(self, timeframe: str = "all", category: str | None = None, q: str = "", page: int = 1,
                    per_page: int = 25) -> dict[str, Any]:
        params: dict[str, Any] = {"timeframe": timeframe, "page": int(page), "per_page": int(per_page)}
        if category:
            params["category"] = category
        if q.strip():
            params["q"] = q.strip()
        out: dict[str, Any] = self._json("GET", "/leaderboard", params=params)
        return out

    def categories(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self._json("GET", "/leaderboard/categories")
        return out

    def detail(self, sid: int) -> dict[str, Any]:
        out: dict[str, Any] = self._json("GET", f"/leaderboard/{int(sid)}")
        return out

    def clone(self, sid: int, name: str | None = None, share_token: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if name:
            body["name"] = name
        if share_token:
            body["share_token"] = share_token
        out: dict[str, Any] = self._json("POST", f"/leaderboard/{int(sid)}/clone", body)
        return out

    def review(self, sid: int, rating: int, text: str = "", share_token: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"rating": int(rating), "text": text}
        if share_token:
            body["share_token"] = share_token
        out: dict[str, Any] = self._json("PUT", f"/leaderboard/{int(sid)}/review", body)
        return out


def service_body(s: StrategyDef) -> dict[str, Any]:
    """The service's ``StrategyIn`` for ``s``."""
    return {"name": s.name, "category": s.category, "description": s.description, "rules": s.rules()}


class CommunityService:
    """The docks' service (module docstring). ``research`` loads universes
    (``ResearchService``); ``client_of`` returns the current ``ServiceClient`` or None."""

    def __init__(self, store: StrategyStore, research: Any, client_of: Callable[[], ServiceClient | None],
                 paper: Callable[[], tuple[Any, Any, Any]] | None = None) -> None:
        self.store = store
        self.research = research
        self.client_of = client_of
        #: (PaperBroker, EventBus, the app's PaperSession) for live runs; None: not available
        self.paper = paper

    def api(self) -> StrategiesApi:
        client = self.client_of()
        if client is None:
            raise NotConfigured("No service is configured: set Settings → Service URL or turn the built-in "
                                "service on, then sign in (Account menu).")
        return StrategiesApi(client)

    # ------------------------------------------------------------------ local
    def strategies(self) -> list[StrategyDef]:
        return self.store.all()

    def save(self, s: StrategyDef) -> StrategyDef:
        """Save locally (raises ``StrategyError``); a published strategy's service copy is
        updated too when a client is available."""
        saved = self.store.save(s)
        if saved.remote_id is not None and self.client_of() is not None:
            self.api().replace(saved.remote_id, service_body(saved))
        return saved

    def delete(self, s: StrategyDef, *, remote: bool = True) -> None:
        """Delete locally, and its service copy (when published and ``remote``)."""
        if remote and s.remote_id is not None:
            try:
                self.api().delete(s.remote_id)
            except ServiceError as exc:
                if getattr(exc, "status", None) != 404:
                    raise
        if s.id is not None:
            self.store.delete(s.id)

    def universes(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = self.research.universe_choices()
        return out

    def backtest(self, s: StrategyDef, universe: str | None = None, *, cash: int = 100_000,
                 cancelled: Callable[[], bool] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> UniverseBacktest:
        """Backtest ``s`` on ``universe`` (default: its own) from the local store's bars; the
        results are kept with the strategy for publishing."""
        key = (universe or s.universe or "demo").strip()
        loaded = self.research.load_universe(key, s.timeframe)
        bt = backtest_universe(s, loaded.bars, cash=cash, cancelled=cancelled, progress=progress)
        if s.id is not None:
            results = dict(s.results)
            results["backtest"] = bt.payload()
            results["backtest_universe"] = key
            self.store.save(replace(s, results=results))
        return bt

    def start_live(self, s: StrategyDef) -> LiveSession:
        """Run ``s`` live in its own paper account (``LiveSession``; call on the broker's thread)."""
        if self.paper is None:
            raise StrategyError("live paper trading is not available here")
        if s.id is None:
            s = self.store.save(s)
        broker, bus, quotes = self.paper()

        def load(universe: str, timeframe: str) -> list[Any]:
            return list(self.research.load_universe(universe, timeframe).bars)
        return LiveSession(broker, bus, s, load, quotes=quotes)

    # ------------------------------------------------------------------ service
    def publish(self, s: StrategyDef, live: dict[str, Any] | None = None) -> dict[str, Any]:
        """Create (first time) or update the service's copy and publish the last backtest
        (and ``live`` paper results, when given); returns the service's detail. Raises
        ``StrategyError`` when there is no backtest to publish yet."""
        if s.id is None:
            s = self.store.save(s)
        bt = s.results.get("backtest")
        if not bt or not bt.get("points"):
            raise StrategyError("backtest the strategy first: its results are what is published")
        api = self.api()
        remote = s.remote_id
        if remote is None:
            remote = int(api.create(service_body(s))["id"])
            s = self.store.save(replace(s, remote_id=remote))
        else:
            api.replace(remote, service_body(s))
        detail = api.publish_results(remote, bt, live or s.results.get("live"))
        if live is not None:
            self.store.save(replace(s, results={**s.results, "live": live}))
        return detail

    def share(self, s: StrategyDef, visibility: str, expires_in_days: int = 30) -> dict[str, Any]:
        """Set the published strategy's visibility (``public``, ``unlisted``, ``private``);
        for ``unlisted`` the answer's ``token`` is the link (shown once)."""
        if s.remote_id is None:
            raise StrategyError("publish the strategy first")
        out = self.api().share(s.remote_id, visibility, expires_in_days)
        self.store.save(replace(s, visibility=str(out["visibility"])))
        return out

    def revoke(self, s: StrategyDef) -> dict[str, Any]:
        if s.remote_id is None:
            raise StrategyError("the strategy is not published")
        out = self.api().revoke(s.remote_id)
        self.store.save(replace(s, visibility="private"))
        return out

    def leaderboard(self, timeframe: str = "all", category: str | None = None, q: str = "", page: int = 1,
                    per_page: int = 25) -> dict[str, Any]:
        return self.api().leaderboard(timeframe, category, q, page, per_page)

    def categories(self) -> list[dict[str, Any]]:
        return self.api().categories()

    def detail(self, sid: int) -> dict[str, Any]:
        return self.api().detail(sid)

    def open_shared(self, token: str) -> dict[str, Any]:
        return self.api().shared(token.strip())

    def review(self, sid: int, rating: int, text: str = "", share_token: str | None = None) -> dict[str, Any]:
        return self.api().review(sid, rating, text, share_token)

    def clone(self, sid: int, name: str | None = None, share_token: str | None = None) -> StrategyDef:
        """Clone on the service (lineage and clone count there) and save it locally with
        ``remote_id`` = the clone and ``parent_remote_id`` = the source. A local name already
        taken gets " (2)", " (3)", …"""
        got = self.api().clone(sid, name, share_token)
        base = str(got["name"])
        local_name, k = base, 2
        while self.store.by_name(local_name) is not None:
            local_name = f"{base[:112]} ({k})"
            k += 1
        s = StrategyDef.from_rules(local_name, str(got["category"]), dict(got["rules"]), str(got["description"]),
                                   remote_id=int(got["id"]), parent_remote_id=int(sid))
        return self.store.save(s)
