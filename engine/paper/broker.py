"""``PaperBroker``: the paper trading service that widgets receive.

It owns the named paper accounts of the local store, persists every order event and fill
before a call returns (the call's return *is* the acknowledgement), rebuilds everything on
start-up (working GTC orders resume; DAY orders whose session closed are expired), and
publishes ``engine.paper.events`` on the bus after each commit. Thread-safe: one lock
serialises commands and market data.

Typical use::

    broker = PaperBroker.open()                         # the app's store
    broker.create_account("practice", 100_000)
    o = broker.submit("practice", OrderRequest("AAPL", Side.BUY, 10, OrderType.LIMIT,
                                               limit_price=Decimal("180")))
    broker.on_quote("AAPL", bid=179.9, ask=180.0, last=179.95)   # from QuoteFeed
    broker.positions("practice"); broker.account_summary("practice")
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from engine.data.bars import Bars
from engine.events import EventBus
from engine.paper.account import (
    AccountKind,
    AccountSummary,
    IdSource,
    OrderNotFound,
    PaperAccount,
)
from engine.paper.events import AccountChanged, FillOccurred, OrderUpdated, PositionChanged
from engine.paper.fills import FillConfig
from engine.paper.ledger import PositionView
from engine.paper.money import to_money, to_price
from engine.paper.orders import Bar, Fill, OrderEvent, OrderRequest, OrderView, Quote
from engine.paper.store import PaperStore, config_from_json, config_to_json


class AccountExists(ValueError):
    """An account of that name exists already."""


class UnknownAccount(KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown account"


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def bar_from(bars: Bars, i: int) -> Bar:
    """Bar ``i`` of a ``Bars`` series as a matching ``Bar`` (exact prices)."""
    return Bar(
        int(bars.time[i]) * 1000, to_price(float(bars.open[i])), to_price(float(bars.high[i])),
        to_price(float(bars.low[i])), to_price(float(bars.close[i])), float(bars.volume[i]),
    )


class PaperBroker:
    """Live paper trading over named accounts (see module docstring)."""

    def __init__(
        self,
        store: PaperStore,
        *,
        bus: EventBus,
        clock: Callable[[], int] = wall_clock_ms,
        default_config: FillConfig | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.default_config = default_config or FillConfig()
        self.ids = IdSource()
        self._lock = threading.RLock()
        self._accounts: dict[str, PaperAccount] = {}
        self._order_account: dict[str, str] = {}
        for aid, name, kind, cash, cfg in store.account_rows():
            self._load(aid, name, kind, cash, cfg)

    @classmethod
    def open(cls, path: Path | None = None, **kwargs: object) -> PaperBroker:
        """Open the broker on the local store at ``path`` (default: the app's database)."""
        import sqlite3

        from engine.store.db import _on_connect, open_database

        db = open_database(path)
        db.dispose()
        # One connection shared by the GUI thread and quote workers; the store's lock
        # serialises it, so sqlite3's same-thread check is switched off. Same pragmas as
        # every store connection (WAL, synchronous=FULL, foreign keys).
        conn = sqlite3.connect(db.path, timeout=5.0, isolation_level=None, check_same_thread=False)
        _on_connect(conn, None)
        return cls(PaperStore(conn), **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        with self._lock:
            self.store.close()

    # ---------------------------------------------------------------- plumbing

    def _load(self, aid: int, name: str, kind: str, cash: str, cfg: str) -> PaperAccount:
        acct = PaperAccount(
            name, Decimal(cash), AccountKind(kind), config_from_json(cfg), ids=self.ids,
            journal=self.store,
        )
        orders, fills = self.store.load(aid)
        acct.restore(orders, fills)
        acct.add_listener(self._publish)
        self._accounts[name] = acct
        for oid in acct.orders:
            self._order_account[oid] = name
        acct.expire_due(self.clock())
        return acct

    def _reload(self, name: str) -> None:
        """Throw away in-memory state of ``name`` and rebuild it from the store."""
        for aid, n, kind, cash, cfg in self.store.account_rows():
            if n == name:
                self._load(aid, n, kind, cash, cfg)

    @contextmanager
    def _guard(self, name: str) -> Iterator[PaperAccount]:
        """Run a command on an account; if the commit fails, memory is rebuilt from disk so
        nothing unacknowledged stays visible."""
        with self._lock:
            acct = self._account(name)
            try:
                yield acct
            except Exception as exc:
                if _is_store_error(exc):
                    self._reload(name)
                raise
            for oid in acct.orders.keys() - self._order_account.keys():
                self._order_account[oid] = name

    def _account(self, name: str) -> PaperAccount:
        a = self._accounts.get(name)
        if a is None:
            raise UnknownAccount(f"no paper account named {name!r}")
        return a

    def _publish(self, acct: PaperAccount, events: list[OrderEvent], fills: list[Fill]) -> None:
        seen: dict[str, None] = {}
        for ev in events:
            seen[ev.order_id] = None
        for oid in seen:
            self.bus.publish(OrderUpdated(acct.name, acct.orders[oid].view()))
        symbols: dict[str, None] = {}
        for f in fills:
            self.bus.publish(FillOccurred(acct.name, f))
            symbols[f.symbol] = None
        for s in symbols:
            self.bus.publish(PositionChanged(acct.name, acct.position(s)))
        if fills:
            self.bus.publish(AccountChanged(acct.name, acct.summary(self.clock())))

    # ---------------------------------------------------------------- accounts

    def accounts(self) -> list[str]:
        with self._lock:
            return list(self._accounts)

    def create_account(
        self, name: str, cash: Decimal | float | int | str, kind: AccountKind | str = AccountKind.CASH,
        config: FillConfig | None = None,
    ) -> AccountSummary:
        """Create a named account with ``cash`` (dollars, whole cents). Raises
        ``AccountExists`` or ``ValueError`` for a bad name, amount or kind."""
        name = name.strip()
        if not name:
            raise ValueError("an account needs a name")
        kind = AccountKind(kind)
        amount = to_money(cash)
        if amount < 0:
            raise ValueError("starting cash cannot be negative")
        cfg = config or self.default_config
        with self._lock:
            if name in self._accounts:
                raise AccountExists(f"a paper account named {name!r} exists already")
            now = self.clock()
            aid = self.store.create_account(name, kind, amount, cfg, now)
            acct = self._load(aid, name, kind.value, str(amount), config_to_json(cfg))
            summary = acct.summary(now)
        self.bus.publish(AccountChanged(name, summary))
        return summary

    # ---------------------------------------------------------------- orders

    def submit(self, account: str, req: OrderRequest) -> OrderView:
        """Place an order. Returns it accepted — or rejected with ``reason`` (bad request,
        not enough buying power). Returning means it is durably recorded."""
        with self._guard(account) as a:
            return a.submit(req, self.clock()).view()

    def submit_oco(self, account: str, first: OrderRequest, second: OrderRequest) -> tuple[OrderView, OrderView]:
        with self._guard(account) as a:
            x, y = a.submit_oco(first, second, self.clock())
            return x.view(), y.view()

    def _owner(self, order_id: str) -> str:
        name = self._order_account.get(order_id)
        if name is None:
            raise OrderNotFound(f"no paper order {order_id}")
        return name

    def modify(
        self, order_id: str, *, qty: int | None = None, limit_price: Decimal | None = None,
        stop_price: Decimal | None = None, trail_amount: Decimal | None = None,
        trail_percent: Decimal | None = None,
    ) -> OrderView:
        """Change a working order; raises ``OrderNotFound``/``OrderNotWorking``/``ValueError``."""
        with self._lock:
            with self._guard(self._owner(order_id)) as a:
                return a.modify(order_id, self.clock(), qty=qty, limit_price=limit_price,
                                stop_price=stop_price, trail_amount=trail_amount,
                                trail_percent=trail_percent).view()

    def cancel(self, order_id: str) -> OrderView:
        with self._lock:
            with self._guard(self._owner(order_id)) as a:
                return a.cancel(order_id, self.clock()).view()

    def flatten(self, account: str, symbol: str) -> OrderView | None:
        with self._guard(account) as a:
            o = a.flatten(symbol, self.clock())
            return o.view() if o is not None else None

    def reverse(self, account: str, symbol: str) -> OrderView | None:
        with self._guard(account) as a:
            o = a.reverse(symbol, self.clock())
            return o.view() if o is not None else None

    # ---------------------------------------------------------------- market data

    def on_quote(
        self, symbol: str, bid: float | Decimal, ask: float | Decimal, last: float | Decimal | None = None,
        time_ms: int | None = None, bid_size: int | None = None, ask_size: int | None = None,
    ) -> list[Fill]:
        """Feed a quote to every account; returns the fills it caused. Raises ``ValueError``
        for a crossed or non-positive quote."""
        b, k = to_price(bid), to_price(ask)
        if b > k:
            raise ValueError(f"crossed quote for {symbol}: bid {b} > ask {k}")
        q = Quote(symbol, b, k, to_price(last) if last is not None else None,
                  time_ms if time_ms is not None else self.clock(), bid_size, ask_size)
        out: list[Fill] = []
        with self._lock:
            for name in list(self._accounts):
                with self._guard(name) as a:
                    got = a.on_quote(q)
                    out.extend(got)
                if not got and a.ledger.qty(symbol):
                    # marked to market: unrealized P&L and equity moved
                    self.bus.publish(AccountChanged(name, a.summary(q.time_ms)))
        return out

    def on_bar(self, symbol: str, bar: Bar) -> list[Fill]:
        """Feed a finished bar to every account (bar-mode rules); returns the fills."""
        out: list[Fill] = []
        with self._lock:
            for name in list(self._accounts):
                with self._guard(name) as a:
                    out.extend(a.on_bar(symbol, bar))
        return out

    def expire_due(self) -> int:
        """Expire DAY orders whose session has closed (call from a timer); returns how many."""
        n = 0
        with self._lock:
            for name in list(self._accounts):
                with self._guard(name) as a:
                    n += len(a.expire_due(self.clock()))
        return n

    def watched_symbols(self) -> list[str]:
        """Symbols that need quotes: working orders or open positions in any account."""
        with self._lock:
            out: dict[str, None] = {}
            for a in self._accounts.values():
                for o in a.working_orders():
                    out[o.symbol] = None
                for s, p in a.ledger.positions.items():
                    if p.qty:
                        out[s] = None
            return list(out)

    # ---------------------------------------------------------------- queries

    def positions(self, account: str) -> list[PositionView]:
        with self._lock:
            a = self._account(account)
            return [p.view() for p in a.ledger.positions.values() if p.qty]

    def orders(self, account: str, working_only: bool = False) -> list[OrderView]:
        with self._lock:
            a = self._account(account)
            return [o.view() for o in a.orders.values() if o.is_working or not working_only]

    def order(self, order_id: str) -> OrderView:
        with self._lock:
            return self._account(self._owner(order_id)).orders[order_id].view()

    def fills(self, account: str) -> list[Fill]:
        with self._lock:
            a = self._account(account)
            return list(a.fill_log)

    def account_summary(self, account: str) -> AccountSummary:
        with self._lock:
            return self._account(account).summary(self.clock())

    def snapshot_equity(self, account: str) -> None:
        """Record the account's current equity as a point of its equity curve."""
        with self._lock:
            self.store.snapshot(self._account(account), self.clock())

    def equity_curve(self, account: str) -> list[tuple[int, Decimal]]:
        """(epoch ms, equity) points: one at creation, one after every fill batch and
        every ``snapshot_equity``."""
        with self._lock:
            a = self._account(account)
            rows = self.store.equity_rows(account)
            start = min((t for t, _c, _e in rows), default=self.clock())
            return [(start, a.ledger.initial_cash)] + [(t, e) for t, _c, e in rows]


def _is_store_error(exc: BaseException) -> bool:
    import sqlite3

    return isinstance(exc, sqlite3.Error)
