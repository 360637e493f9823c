"""Builders for the paper-trading widget tests: a real broker on a temp store, scripted quotes."""
from __future__ import annotations

from decimal import Decimal

from engine.events import EventBus
from engine.paper import PaperBroker
from engine.paper.fills import FillConfig
from engine.paper.orders import Quote
from engine.paper.session import PaperSession
from tests.widgets.stubs import SyncTasks
from widgets.trading.session import TradingSession


class ScriptedQuotes:
    """A quote source whose prices the test sets: ``set("ACME", bid, ask)``."""

    label = "demo quotes"
    description = "scripted test quotes"

    def __init__(self) -> None:
        self.prices: dict[str, tuple[Decimal, Decimal]] = {}
        self.asked: list[str] = []

    def set(self, symbol: str, bid: str, ask: str) -> None:
        self.prices[symbol] = (Decimal(bid), Decimal(ask))

    def quote(self, symbol: str, now_ms: int) -> Quote | None:
        self.asked.append(symbol)
        p = self.prices.get(symbol)
        if p is None:
            return None
        return Quote(symbol, p[0], p[1], (p[0] + p[1]) / 2, now_ms)


class Trading:
    """A session over a real ``PaperBroker`` (temp SQLite file) with bus events delivered
    synchronously, a synchronous task runner and scripted quotes (timer stopped)."""

    def __init__(self, path, cash: int = 100_000, kind: str = "cash") -> None:
        self.bus = EventBus()
        self.broker = PaperBroker.open(path, bus=self.bus, default_config=FillConfig())  # no commission
        self.broker.create_account("Paper", cash, kind)
        self.tasks = SyncTasks()
        self.quotes = ScriptedQuotes()
        # blotter tests place orders far from the market; the market checks have their own tests
        self.core = PaperSession(self.broker, self.bus, source=self.quotes, max_distance_pct=1000)
        self.session = TradingSession(self.core, self.tasks, self.bus.subscribe)

    def quote(self, symbol: str, bid: str, ask: str) -> None:
        """Quote ``symbol`` at bid/ask and run one quote round (the broker matches it)."""
        self.quotes.set(symbol, bid, ask)
        self.session.watch(f"test:{symbol}", [symbol])
        assert self.session.poll_now()

    def close(self) -> None:
        self.broker.close()
