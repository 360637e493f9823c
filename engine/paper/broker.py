"""``PaperBroker``: the paper trading service that widgets receive.

It owns the named paper accounts of the local store, persists every order event and fill
before a call returns (the call's return *is* the acknowledgement), rebuilds everything on
start-up (working GTC orders resume; DAY orders whose session closed are expired; an order
whose stored history is unreadable is quarantined: left out, logged, announced with a
``Notification`` and listed in ``broker.quarantined``), and publishes ``engine.paper.events``
on the bus it was given, after each commit and after releasing its lock. Thread-safe: one
lock serialises commands and market data.

Every argument is validated before anything is written; a bad one raises a ``PaperError``
(``engine.paper.errors``) with a one-sentence message and the call changes nothing. When the
store cannot be written (disk full, disk I/O error, read-only file, locked by another
process) a call raises the store's ``StoreError`` subclass (``engine.store.db.DiskFull``...),
also one sentence; nothing of it is recorded and the account is rebuilt from the store, so
memory never shows what was not saved. Prices
may be Decimals, ints, floats or numeric strings: they become exact Decimals quantized to
1e-6 (``engine.paper.money.to_price``).

Typical use::

    broker = PaperBroker.open(bus=EventBus())           # the app's store
    broker.create_account("practice", 100_000)
    o = broker.submit("practice", OrderRequest("AAPL", Side.BUY, 10, OrderType.LIMIT,
                                               limit_price=Decimal("180")))
    broker.on_quote("AAPL", bid=179.9, ask=180.0, last=179.95)   # from QuoteFeed
    broker.positions("practice"); broker.account_summary("practice")
"""
from __future__ import annotations

import logging
import operator
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from engine.data.bars import Bars
from engine.events import Event, EventBus, Notification
from engine.paper.account import AccountKind, AccountSummary, IdSource, PaperAccount
from engine.paper.errors import (
    AccountExists,
    InvalidMarketData,
    InvalidOrder,
    InvalidValue,
    OrderNotFound,
    Quarantined,
    UnknownAccount,
)
from engine.paper.events import AccountChanged, FillOccurred, OrderUpdated, PositionChanged
from engine.paper.contracts import is_option
from engine.paper.expiry import CloseOf, Settlement
from engine.paper.expiry import due as expiry_due
from engine.paper.fills import DEFAULT_COMMISSION, FillConfig
from engine.paper.ledger import PositionView
from engine.paper.money import MAX_QTY, show, to_money, to_price, to_qty
from engine.paper.orders import (
    Bar,
    Fill,
    OrderEvent,
    OrderRequest,
    OrderView,
    Quote,
    TimeInForce,
    to_enum,
    to_symbol,
    to_trail_percent,
)
from engine.paper.store import PaperStore, config_from_json, config_to_json
from engine.store.db import StoreError

log = logging.getLogger(__name__)

#: Times are epoch ms in [0, 2200-01-01).
MAX_TIME_MS = 7_258_118_400_000


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


def bar_from(bars: Bars, i: int) -> Bar:
    """Bar ``i`` of a ``Bars`` series as a matching ``Bar`` (exact prices)."""
    return Bar(
        int(bars.time[i]) * 1000, to_price(float(bars.open[i])), to_price(float(bars.high[i])),
        to_price(float(bars.low[i])), to_price(float(bars.close[i])), float(bars.volume[i]),
    )


def account_name(v: object) -> str:
    """An account name: text of 1-100 characters (blanks around it removed). Raises
    ``InvalidValue``."""
    if not isinstance(v, str):
        raise InvalidValue(f"an account name must be text, not {show(v)}")
    name = v.strip()
    if not name:
        raise InvalidValue("an account needs a name")
    if len(name) > 100 or not name.isprintable():
        raise InvalidValue(f"account name {show(v)} is not usable (1-100 printable characters)")
    return name


def time_ms(v: object, what: str = "time") -> int:
    """Epoch milliseconds as an int in [0, ``MAX_TIME_MS``). Raises ``InvalidValue``."""
    if isinstance(v, bool):
        raise InvalidValue(f"{what} must be epoch milliseconds, not {show(v)}")
    try:
        t = operator.index(v)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidValue(f"{what} must be epoch milliseconds (a whole number), not {show(v)}") from None
    if not 0 <= t < MAX_TIME_MS:
        raise InvalidValue(f"{what} {show(v)} is not a plausible epoch-millisecond time")
    return t


def _is_zero(v: object) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) and v == 0


_time = time_ms  # inside on_quote the name ``time_ms`` is its parameter


def _size(v: object, what: str) -> int | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise InvalidMarketData(f"{what} must be a whole number of shares, not {show(v)}")
    try:
        n = operator.index(v)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidMarketData(f"{what} must be a whole number of shares, not {show(v)}") from None
    if not 0 <= n < MAX_QTY:
        raise InvalidMarketData(f"{what} {show(v)} is out of range (0 to {MAX_QTY:,} shares)")
    return n


def check_bar(bar: object) -> Bar:
    """``bar`` checked and normalised (exact prices, int times). Raises ``InvalidMarketData``
    for non-positive, non-finite or too large prices, high < low, an open or close outside
    [low, high], a negative or infinite volume, or a bad time."""
    if not isinstance(bar, Bar):
        raise InvalidMarketData(f"a bar must be an engine.paper.Bar, not {show(bar)}")
    try:
        t = time_ms(bar.time_ms, "bar time")
        end = None if bar.end_ms is None else time_ms(bar.end_ms, "bar end")
        o = to_price(bar.open, "bar open")
        h = to_price(bar.high, "bar high")
        lo = to_price(bar.low, "bar low")
        c = to_price(bar.close, "bar close")
    except InvalidMarketData:
        raise
    except InvalidValue as exc:
        raise InvalidMarketData(str(exc)) from None
    if h < lo:
        raise InvalidMarketData(f"bar high {h} is below its low {lo}")
    if not (lo <= o <= h) or not (lo <= c <= h):
        raise InvalidMarketData(f"bar open {o} or close {c} is outside its range [{lo}, {h}]")
    v = bar.volume
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InvalidMarketData(f"bar volume must be a number, not {show(v)}")
    vol = float(v)
    if vol == vol and not (0 <= vol < 1e15):
        raise InvalidMarketData(f"bar volume {show(v)} is negative or too large")
    if end is not None and end < t:
        raise InvalidMarketData("bar end is before its start")
    return Bar(t, o, h, lo, c, vol, end)


class PaperBroker:
    """Live paper trading over named accounts (see module docstring).

    Every public call validates its arguments before anything changes and raises a
    ``PaperError`` (one sentence, see ``engine.paper.errors``) for bad ones; a call that
    raises has written nothing. Bus events are published after the broker's lock is
    released (a slow or re-entrant subscriber never blocks quotes), in commit order.
    ``quarantined`` lists what the store held but could not rebuild on opening.
    """

    def __init__(
        self,
        store: PaperStore,
        *,
        bus: EventBus,
        clock: Callable[[], int] = wall_clock_ms,
        default_config: FillConfig | None = None,
    ) -> None:
        if not isinstance(bus, EventBus):
            raise TypeError("PaperBroker needs its event bus (bus=EventBus())")
        self.store = store
        self.bus = bus
        self.clock = clock
        #: the fill model of a new account unless one is given: IBKR Pro fixed commissions
        #: (``engine.paper.fills.DEFAULT_COMMISSION``); each account keeps the model it was
        #: created with (the store holds its spec)
        self.default_config = default_config or FillConfig(commission=DEFAULT_COMMISSION)
        self.ids = IdSource()
        self._lock = threading.RLock()
        self._depth = 0  # nesting of _locked() by the thread holding the lock
        self._out_lock = threading.Lock()
        self._outbox: list[Event] = []
        self._draining = False
        self._accounts: dict[str, PaperAccount] = {}
        self._order_account: dict[str, str] = {}
        #: what the store held but could not rebuild (left out, reported, kept on disk)
        self.quarantined: list[Quarantined] = []
        self._broken_accounts: set[str] = set()
        with self._locked():
            for aid, name, kind, cash, cfg in store.account_rows():
                try:
                    self._load(aid, name, kind, cash, cfg)
                except StoreError:
                    raise  # the store itself failed (locked, I/O): not this account's fault
                except Exception as exc:  # noqa: BLE001 - one account must not stop the others
                    self._accounts.pop(name, None)
                    self._broken_accounts.add(name)
                    self._quarantine([Quarantined(str(name), None, str(exc) or type(exc).__name__)])

    @classmethod
    def open(cls, path: Path | None = None, *, bus: EventBus, **kwargs: object) -> PaperBroker:
        """Open the broker on the local store at ``path`` (default: the app's database),
        publishing on ``bus``."""
        import sqlite3

        from engine.store.db import _on_connect, open_database

        db = open_database(path)
        db.dispose()
        # One connection shared by the GUI thread and quote workers; the store's lock
        # serialises it, so sqlite3's same-thread check is switched off. Same pragmas as
        # every store connection (WAL, synchronous=FULL, foreign keys).
        conn = sqlite3.connect(db.path, timeout=5.0, isolation_level=None, check_same_thread=False)
        _on_connect(conn, None)
        return cls(PaperStore(conn, db.path), bus=bus, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        with self._lock:
            self.store.close()

    # ---------------------------------------------------------------- plumbing

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the broker lock; when the outermost holder lets go, publish what was
        collected meanwhile (outside the lock)."""
        outer = False
        try:
            with self._lock:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                    outer = self._depth == 0
        finally:
            if outer:
                self._drain()

    def _post(self, ev: Event) -> None:
        with self._out_lock:
            self._outbox.append(ev)

    def _drain(self) -> None:
        """Publish the outbox in order. One thread drains at a time; events posted while it
        publishes (by a re-entrant subscriber or another thread) are published by it too."""
        with self._out_lock:
            if self._draining:
                return
            self._draining = True
        try:
            while True:
                with self._out_lock:
                    if not self._outbox:
                        self._draining = False
                        return
                    batch, self._outbox = self._outbox, []
                for ev in batch:
                    self.bus.publish(ev)
        except BaseException:
            with self._out_lock:
                self._draining = False
            raise

    def _quarantine(self, items: list[Quarantined]) -> None:
        if not items:
            return
        self.quarantined.extend(items)
        for q in items:
            log.warning("%s", q.describe())
        try:
            self.store.mark_quarantined([q.order_id for q in items if q.order_id])
        except Exception as exc:  # noqa: BLE001 - a read-only store still opens
            log.warning("could not mark quarantined paper orders in the store: %s", exc)
        n = len(items)
        text = items[0].describe() if n == 1 else \
            f"{n} stored paper orders or accounts could not be rebuilt and were left out; see the log"
        self._post(Notification("Paper trading", text, "warning"))

    def _load(self, aid: int, name: str, kind: str, cash: str, cfg: str, *, report: bool = True) -> PaperAccount:
        """Rebuild account ``name`` from the store, report what was quarantined (``report``)
        and expire its DAY orders that are due."""
        acct, bad = self._rebuild(aid, name, kind, cash, cfg)
        if report:
            self._quarantine(bad)
        try:
            acct.expire_due(self.clock())
        except StoreError as exc:
            if not acct.stale:
                raise
            # the expiries could not be written (disk full...): keep what the store holds;
            # the next expire_due() tries again
            log.warning("paper account %r: due DAY orders not expired yet: %s", name, exc)
            acct, _ = self._rebuild(aid, name, kind, cash, cfg)
        return acct

    def _rebuild(self, aid: int, name: str, kind: str, cash: str, cfg: str) -> tuple[PaperAccount, list[Quarantined]]:
        acct = PaperAccount(
            name, to_money(cash, "initial cash"), AccountKind(kind), config_from_json(cfg),
            ids=self.ids, journal=self.store,
        )
        orders, fills, bad = self.store.load(aid)
        acct.restore(orders, fills)
        acct.add_listener(self._publish)
        self._accounts[name] = acct
        for oid in acct.orders:
            self._order_account[oid] = name
        return acct, bad

    def _reload(self, name: str) -> None:
        """Throw away in-memory state of ``name`` and rebuild it from the store (what it
        quarantined was reported when the broker opened)."""
        for aid, n, kind, cash, cfg in self.store.account_rows():
            if n == name:
                self._load(aid, n, kind, cash, cfg, report=False)

    @contextmanager
    def _guard(self, name: str) -> Iterator[PaperAccount]:
        """Run a command on an account; if it failed half-way (or its commit failed),
        memory is rebuilt from disk so nothing unacknowledged stays visible."""
        with self._locked():
            acct = self._account(name)
            # the last prices are market data, not ledger: the store does not hold them, so a
            # rebuild gets them back from here (as they were before the call)
            prices, now_ms, quotes = dict(acct.prices), acct.now_ms, dict(acct.quotes)
            try:
                yield acct
            except Exception:
                if acct.stale:
                    try:
                        self._reload(name)
                        fresh = self._accounts[name]
                        fresh.prices.update(prices)
                        fresh.quotes.update(quotes)
                        fresh.now_ms = now_ms
                    except Exception:  # noqa: BLE001 - keep the original error
                        log.exception("could not rebuild paper account %r after a failed call", name)
                raise
            for oid in acct.orders.keys() - self._order_account.keys():
                self._order_account[oid] = name

    def _account(self, name: object) -> PaperAccount:
        a = self._accounts.get(name) if isinstance(name, str) else None
        if a is None:
            if not isinstance(name, str):
                raise UnknownAccount(f"an account name must be text, not {show(name)}")
            raise UnknownAccount(f"no paper account named {name!r}")
        return a

    def _publish(self, acct: PaperAccount, events: list[OrderEvent], fills: list[Fill]) -> None:
        """Journal listener (runs under the lock): snapshot the batch's bus events."""
        seen: dict[str, None] = {}
        for ev in events:
            seen[ev.order_id] = None
        out: list[Event] = [OrderUpdated(acct.name, acct.orders[oid].view()) for oid in seen]
        symbols: dict[str, None] = {}
        for f in fills:
            out.append(FillOccurred(acct.name, f))
            symbols[f.symbol] = None
        for s in symbols:
            out.append(PositionChanged(acct.name, acct.position(s)))
        if fills:
            out.append(AccountChanged(acct.name, acct.summary(self.clock())))
        with self._out_lock:
            self._outbox.extend(out)

    # ---------------------------------------------------------------- accounts

    def accounts(self) -> list[str]:
        with self._lock:
            return list(self._accounts)

    def create_account(
        self, name: str, cash: Decimal | float | int | str, kind: AccountKind | str = AccountKind.CASH,
        config: FillConfig | None = None,
    ) -> AccountSummary:
        """Create a named account with ``cash`` (dollars, whole cents, 0 ≤ cash < 1e13).

        Raises ``AccountExists``, or ``InvalidValue`` for a bad name, amount, kind or config.
        """
        name = account_name(name)
        kind = to_enum(AccountKind, kind, "account kind")
        amount = to_money(cash, "starting cash")
        if amount < 0:
            raise InvalidValue("starting cash cannot be negative")
        if config is not None and not isinstance(config, FillConfig):
            raise InvalidValue(f"config must be a FillConfig, not {show(config)}")
        cfg = config or self.default_config
        with self._locked():
            if name in self._accounts or name in self._broken_accounts:
                raise AccountExists(f"a paper account named {name!r} exists already")
            now = self.clock()
            aid = self.store.create_account(name, kind, amount, cfg, now)
            acct = self._load(aid, name, kind.value, str(amount), config_to_json(cfg))
            summary = acct.summary(now)
            self._post(AccountChanged(name, summary))
        return summary

    # ---------------------------------------------------------------- orders

    @staticmethod
    def _request(req: object, what: str = "order") -> OrderRequest:
        if not isinstance(req, OrderRequest):
            raise InvalidOrder(f"an {what} must be an OrderRequest, not {show(req)}")
        return req

    def submit(self, account: str, req: OrderRequest) -> OrderView:
        """Place an order. Returns it accepted — or rejected with ``reason`` (a combination
        that makes no order, not enough buying power). Returning means it is durably
        recorded. Raises ``UnknownAccount`` or ``InvalidOrder`` (nothing recorded)."""
        req = self._request(req)
        with self._guard(account) as a:
            return a.submit(req, self.clock()).view()

    def submit_oco(self, account: str, first: OrderRequest, second: OrderRequest) -> tuple[OrderView, OrderView]:
        """Place two orders where a fill of one reduces (a full fill cancels) the other.
        Raises like ``submit``."""
        first, second = self._request(first), self._request(second)
        with self._guard(account) as a:
            x, y = a.submit_oco(first, second, self.clock())
            return x.view(), y.view()

    def submit_package(
        self, account: str, legs: list[OrderRequest], net_price: Decimal | float | int | str | None = None,
        tif: TimeInForce | str = TimeInForce.DAY, tag: str = "",
    ) -> list[OrderView]:
        """Place a multi-leg option package (``engine.paper.options``): legs (market
        ``OrderRequest`` s of OCC symbols: side and contracts) filled together or not at all,
        at a net price per package unit no worse than ``net_price`` (per share: a debit > 0, a
        credit < 0; None: at market). Returns the leg orders, all accepted (filled when the
        quotes allow) or all rejected with the reason; durably recorded. Raises
        ``UnknownAccount`` or ``InvalidOrder`` (nothing recorded)."""
        legs = [self._request(x, "order leg") for x in legs] if isinstance(legs, (list, tuple)) else legs
        with self._guard(account) as a:
            return [o.view() for o in a.submit_package(legs, net_price, tif, self.clock(), tag)]  # type: ignore[arg-type]

    def preview_options(self, account: str, legs: list[OrderRequest],
                        net_price: Decimal | None = None) -> dict[str, object]:
        """What sending option ``legs`` (one order, or a package) would do now, for a
        confirmation: net price, premium, fees, the Reg-T requirement change, max loss and
        profit, buying power and why it would be refused (``engine.paper.options.preview``)."""
        from engine.paper import options

        legs = [self._request(x, "order leg") for x in legs]
        with self._lock:
            return options.preview(self._account(account), legs, net_price)

    def settle_expiries(self, close_of: CloseOf) -> tuple[list[tuple[str, Settlement]], list[str]]:
        """Settle every account's option positions whose expiry close has passed
        (``engine.paper.expiry``): returns (account, settlement) pairs and the sentences of
        contracts still waiting for their underlying's close. Idempotent; each account's
        settlements are one commit."""
        done: list[tuple[str, Settlement]] = []
        waiting: list[str] = []
        with self._locked():
            now = self.clock()
            for name in list(self._accounts):
                if not expiry_due(self._accounts[name], now):
                    continue
                with self._guard(name) as a:
                    got, wait = a.settle_expiries(now, close_of)
                done.extend((name, x) for x in got)
                waiting.extend(wait)
                for x in got:
                    self._post(Notification("Paper trading", f"{name}: {x.symbol} {x.action} ({x.qty:+d} contracts, "
                                            f"underlying close {x.close})", "info"))
        return done, waiting

    def _owner(self, order_id: object) -> str:
        if not isinstance(order_id, str):
            raise OrderNotFound(f"an order id must be text, not {show(order_id)}")
        name = self._order_account.get(order_id)
        if name is None:
            raise OrderNotFound(f"no paper order {show(order_id)}")
        return name

    def modify(
        self, order_id: str, *, qty: int | None = None, limit_price: Decimal | float | None = None,
        stop_price: Decimal | float | None = None, trail_amount: Decimal | float | None = None,
        trail_percent: Decimal | float | None = None, tif: TimeInForce | str | None = None,
    ) -> OrderView:
        """Change a working order (prices normalised like ``OrderRequest``'s; ``tif`` "day"
        or "gtc").

        Raises ``OrderNotFound``, ``OrderNotWorking`` or ``InvalidOrder``; nothing changes then.
        """
        try:
            new_tif = None if tif is None else to_enum(TimeInForce, tif, "time in force")
            q = None if qty is None else to_qty(qty, "new quantity")
            lim = None if limit_price is None else to_price(limit_price, "limit price")
            stp = None if stop_price is None else to_price(stop_price, "stop price")
            amt = None if trail_amount is None else to_price(trail_amount, "trail amount")
            pct = to_trail_percent(trail_percent)
        except InvalidValue as exc:
            raise InvalidOrder(str(exc)) from None
        with self._locked():
            with self._guard(self._owner(order_id)) as a:
                return a.modify(order_id, self.clock(), qty=q, limit_price=lim, stop_price=stp,
                                trail_amount=amt, trail_percent=pct, tif=new_tif).view()

    def cancel(self, order_id: str) -> OrderView:
        """Cancel a working order; raises ``OrderNotFound`` or ``OrderNotWorking``."""
        with self._locked():
            with self._guard(self._owner(order_id)) as a:
                return a.cancel(order_id, self.clock()).view()

    def flatten(self, account: str, symbol: str) -> OrderView | None:
        """Cancel the symbol's working orders and close its position at market."""
        symbol = to_symbol(symbol)
        with self._guard(account) as a:
            o = a.flatten(symbol, self.clock())
            return o.view() if o is not None else None

    def reverse(self, account: str, symbol: str) -> OrderView | None:
        """Cancel the symbol's working orders and turn its position around at market."""
        symbol = to_symbol(symbol)
        with self._guard(account) as a:
            o = a.reverse(symbol, self.clock())
            return o.view() if o is not None else None

    # ---------------------------------------------------------------- market data

    def on_quote(
        self, symbol: str, bid: float | Decimal, ask: float | Decimal, last: float | Decimal | None = None,
        time_ms: int | None = None, bid_size: int | None = None, ask_size: int | None = None,
    ) -> list[Fill]:
        """Feed a quote to every account; returns the fills it caused.

        Prices are normalised like order prices (``to_price``); sizes are whole shares or
        None. Raises ``InvalidMarketData`` (nothing changes) for a crossed quote (bid > ask),
        a non-positive, non-finite or too large price, a bad size or time.
        """
        try:
            sym = to_symbol(symbol)
            # an option may be quoted without a bid (a far wing): 0, never negative
            b = Decimal(0) if is_option(sym) and _is_zero(bid) else to_price(bid, "bid")
            k = to_price(ask, "ask")
            lst = to_price(last, "last price") if last is not None else None
            t = _time(time_ms, "quote time") if time_ms is not None else None
        except InvalidMarketData:
            raise
        except InvalidValue as exc:
            raise InvalidMarketData(str(exc)) from None
        if b > k:
            raise InvalidMarketData(f"crossed quote for {sym}: bid {b} > ask {k}")
        bs, ks = _size(bid_size, "bid size"), _size(ask_size, "ask size")
        out: list[Fill] = []
        with self._locked():
            q = Quote(sym, b, k, lst, t if t is not None else self.clock(), bs, ks)
            for name in list(self._accounts):
                with self._guard(name) as a:
                    got = a.on_quote(q)
                    out.extend(got)
                if not got and a.ledger.qty(sym):
                    # marked to market: unrealized P&L and equity moved
                    self._post(AccountChanged(name, a.summary(q.time_ms)))
        return out

    def on_bar(self, symbol: str, bar: Bar) -> list[Fill]:
        """Feed a finished bar to every account (bar-mode rules); returns the fills.

        Raises ``InvalidMarketData`` (nothing changes) for a bad bar (see ``check_bar``).
        """
        try:
            sym = to_symbol(symbol)
        except InvalidValue as exc:
            raise InvalidMarketData(str(exc)) from None
        bar = check_bar(bar)
        out: list[Fill] = []
        with self._locked():
            for name in list(self._accounts):
                with self._guard(name) as a:
                    out.extend(a.on_bar(sym, bar))
        return out

    def expire_due(self) -> int:
        """Expire DAY orders whose session has closed (call from a timer); returns how many."""
        n = 0
        with self._locked():
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
        """The order ``order_id`` now; raises ``OrderNotFound``."""
        with self._lock:
            return self._account(self._owner(order_id)).orders[order_id].view()

    def fills(self, account: str) -> list[Fill]:
        with self._lock:
            a = self._account(account)
            return list(a.fill_log)

    def account_config(self, account: str) -> FillConfig:
        """How ``account``'s orders fill (its slippage and commission models, as created);
        raises ``UnknownAccount``."""
        with self._lock:
            return self._account(account).config

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


__all__ = [
    "AccountExists", "MAX_TIME_MS", "PaperBroker", "UnknownAccount", "account_name", "bar_from",
    "check_bar", "time_ms",
]
