"""Durable journal of paper accounts: every order event and fill, committed before the
broker acknowledges the call that produced it (one SQLite transaction per call, WAL,
``synchronous=FULL``). On start-up orders are replayed from their events and the ledger is
rebuilt from the fills; the two are checked against each other, and every stored value is
checked on the way in: an order whose history is unreadable is quarantined (left out and
reported), never allowed to stop the store from opening.

Known SQLite failures of any read or write here (disk full, disk I/O error, read-only file,
database locked by another process) leave as the store's one-sentence ``StoreError``
subclasses (``engine.store.db.DiskFull`` and its siblings); a failed write is rolled back
whole.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.paper.account import AccountKind, PaperAccount
from engine.paper.errors import Quarantined
from engine.paper.fills import IBKR_PRO_OPTIONS, FillConfig, parse_commission, parse_slippage
from engine.paper.money import MAX_CASH, MAX_PRICE, MAX_QTY, show
from engine.paper.orders import (
    EVENT_TYPES,
    Fill,
    Order,
    OrderActivated,
    OrderEvent,
    OrderFilled,
    OrderModified,
    OrderSubmitted,
    OrderTrailMoved,
    OrderTriggered,
    OrderType,
    Role,
    Side,
    TimeInForce,
)
from engine.paper.contracts import is_option
from engine.store.db import store_errors

_ENUMS = {"side": Side, "type": OrderType, "tif": TimeInForce, "role": Role}


def _enc(v: Any) -> Any:
    if isinstance(v, Decimal):
        return {"d": str(v)}
    if isinstance(v, Fill):
        return {"fill": {f.name: _enc(getattr(v, f.name)) for f in dataclasses.fields(v)}}
    if isinstance(v, enum.Enum):
        return str(v.value)
    return v


def _dec(name: str, v: Any) -> Any:
    if isinstance(v, dict):
        if "d" in v:
            return Decimal(v["d"])
        if "fill" in v:
            return Fill(**{k: _dec(k, x) for k, x in v["fill"].items()})
    if name in _ENUMS and v is not None:
        return _ENUMS[name](v)
    return v


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


_PRICES = frozenset({"limit_price", "stop_price", "trail_amount", "price", "ref_price"})
_TEXTS = frozenset({"account", "symbol", "tag", "reason"})
_IDS = frozenset({"parent_id", "oco_group"})
_TIMES = frozenset({"time_ms", "active_from_ms", "expire_at_ms"})


def _int(v: object, what: str, low: int, optional: bool = False) -> None:
    if v is None and optional:
        return
    if type(v) is not int or v < low:
        raise ValueError(f"{what} is {show(v)}, expected a whole number of at least {low}")


def _price(v: object, what: str) -> None:
    if type(v) is not Decimal or not v.is_finite() or not (0 < v < MAX_PRICE):
        raise ValueError(f"{what} is {show(v)}, expected a positive Decimal below {MAX_PRICE:,}")


def check_fill(f: Fill) -> None:
    """Raise ``ValueError`` unless every value of a stored fill is usable."""
    for n in ("fill_id", "order_id", "account", "symbol"):
        if not isinstance(getattr(f, n), str) or not getattr(f, n):
            raise ValueError(f"fill {n} is {show(getattr(f, n))}")
    if not isinstance(f.side, Side):
        raise ValueError(f"fill side is {show(f.side)}")
    _int(f.qty, "fill quantity", 1)
    if f.qty >= MAX_QTY:
        raise ValueError(f"fill quantity {f.qty} is too large")
    if not (f.price == 0 and type(f.price) is Decimal and is_option(f.symbol)):
        _price(f.price, "fill price")  # an option expiring worthless closes at 0
    if type(f.fee) is not Decimal or not f.fee.is_finite() or not (0 <= f.fee < MAX_CASH):
        raise ValueError(f"fill fee is {show(f.fee)}")
    _int(f.time_ms, "fill time", 0)


def check_event(ev: OrderEvent, order_id: str) -> None:
    """Raise ``ValueError`` unless every value of a stored order event is usable (types,
    finite, ranges), so replaying it cannot put a float or a NaN into an account."""
    if ev.order_id != order_id:
        raise ValueError(f"an event of order {show(ev.order_id)} is filed under {order_id}")
    for f in dataclasses.fields(ev):
        n = f.name
        v = getattr(ev, n)
        if n == "order_id":
            if not isinstance(v, str) or not v:
                raise ValueError(f"order id is {show(v)}")
        elif n in _TIMES:
            _int(v, n, 0, optional=n == "expire_at_ms")
        elif n in _PRICES:
            if v is not None or type(ev) is OrderTriggered or type(ev) is OrderTrailMoved:
                _price(v, n.replace("_", " "))
        elif n == "net_price":
            if v is not None and (type(v) is not Decimal or not v.is_finite() or not abs(v) < MAX_PRICE):
                raise ValueError(f"net price is {show(v)}")
        elif n == "ratio":
            _int(v, "ratio", 1)
        elif n == "trail_percent":
            if v is not None and (type(v) is not Decimal or not v.is_finite() or not (0 < v < 100)):
                raise ValueError(f"trail percent is {show(v)}")
        elif n == "qty":
            low = 0 if type(ev) is OrderActivated else 1
            _int(v, "quantity", low, optional=type(ev) is OrderModified)
            if v is not None and v >= MAX_QTY:
                raise ValueError(f"quantity {v} is too large")
        elif n == "leaves_qty":
            _int(v, "leaves quantity", 0)
        elif n == "fill":
            if not isinstance(v, Fill):
                raise ValueError(f"fill is {show(v)}")
            check_fill(v)
        elif n in _TEXTS:
            if not isinstance(v, str):
                raise ValueError(f"{n} is {show(v)}, expected text")
        elif n in _IDS:
            if v is not None and not isinstance(v, str):
                raise ValueError(f"{n} is {show(v)}, expected text")
        elif n in _ENUMS:
            if v is None and n == "tif" and type(ev) is OrderModified:
                continue  # the time in force was not changed
            if not isinstance(v, _ENUMS[n]):
                raise ValueError(f"{n} is {show(v)}")
    if type(ev) is OrderSubmitted and not ev.symbol:
        raise ValueError("the order has no symbol")


def encode_event(ev: OrderEvent) -> str:
    """An order event as JSON (Decimals as strings, so nothing is rounded)."""
    return json.dumps({f.name: _enc(getattr(ev, f.name)) for f in dataclasses.fields(ev)},
                      separators=(",", ":"))


def decode_event(type_name: str, payload: str) -> OrderEvent:
    cls = EVENT_TYPES[type_name]
    data = json.loads(payload)
    return cls(**{k: _dec(k, v) for k, v in data.items()})


def config_to_json(c: FillConfig) -> str:
    return json.dumps({
        "slippage": c.slippage.spec(), "commission": c.commission.spec(),
        "participation": c.participation, "latency_ms": c.latency_ms,
        "option_commission": c.option_commission.spec(),
    })


def config_from_json(text: str) -> FillConfig:
    d = json.loads(text or "{}")
    return FillConfig(
        parse_slippage(d.get("slippage", "none")), parse_commission(d.get("commission", "none")),
        float(d.get("participation", 0.10)), int(d.get("latency_ms", 0)),
        # accounts created before options trading pay the default (IBKR Pro options)
        parse_commission(d["option_commission"]) if "option_commission" in d else IBKR_PRO_OPTIONS,
    )


def _database_path(conn: sqlite3.Connection) -> str:
    """The file behind ``conn``'s main database (for messages), or ``":memory:"``."""
    for _seq, name, file in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or ":memory:"
    return ":memory:"


class PaperStore:
    """The paper tables of the local store, written through one sqlite3 connection.

    Every method raises a ``StoreError`` subclass (``DiskFull``, ``DiskIOError``,
    ``ReadOnlyDatabase``, ``DatabaseLocked``...) with a one-sentence message when SQLite
    fails for a known reason; nothing of a failed write is kept.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path | str | None = None) -> None:
        self.conn = conn  # autocommit mode (isolation_level=None): explicit transactions
        #: the database file, named in error messages
        self.path = Path(path) if path is not None else Path(_database_path(conn))
        self.lock = threading.RLock()
        self._ids: dict[str, int] = {}
        self._fill_seq: dict[int, int] = {}

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def _io(self) -> Iterator[sqlite3.Connection]:
        """Hold the store's lock; known SQLite failures leave as ``StoreError``s."""
        with self.lock, store_errors(self.path):
            yield self.conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed if the block returns, rolled back whole if it
        (or the COMMIT) fails."""
        with self._io() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
                c.execute("COMMIT")
            except BaseException:
                # SQLite may already have rolled back (a full disk during COMMIT): a second
                # ROLLBACK would raise and hide the real error
                if c.in_transaction:
                    c.execute("ROLLBACK")
                raise

    # ---------------------------------------------------------------- accounts

    def create_account(self, name: str, kind: AccountKind, cash: Decimal, config: FillConfig, now_ms: int) -> int:
        with self._io() as c:
            cur = c.execute(
                "INSERT INTO paper_accounts(name, kind, initial_cash, config, created_ms) VALUES (?,?,?,?,?)",
                (name, kind.value, str(cash), config_to_json(config), now_ms),
            )
            self._ids[name] = int(cur.lastrowid)  # type: ignore[arg-type]
            return self._ids[name]

    def account_rows(self) -> list[tuple[int, str, str, str, str]]:
        with self._io() as c:
            rows = c.execute(
                "SELECT id, name, kind, initial_cash, config FROM paper_accounts ORDER BY id"
            ).fetchall()
        for r in rows:
            self._ids[r[1]] = r[0]
        return rows

    def load(self, account_id: int) -> tuple[list[Order], list[Fill], list[Quarantined]]:
        """Orders replayed from events, fills in booking order, and what was quarantined.

        An order whose stored history cannot be rebuilt (an event that does not decode, a
        value of the wrong type, NaN or out of range, a transition the life cycle does not
        allow, fills that disagree with the fills table) is left out together with its
        fills and its bracket children, and reported as ``Quarantined``: one bad row must
        not keep the other orders and accounts from opening.
        """
        with self._io() as c:
            evs = c.execute(
                "SELECT order_id, type, payload FROM paper_order_events WHERE account_id=? ORDER BY seq",
                (account_id,),
            ).fetchall()
            frows = c.execute(
                "SELECT fill_id, order_id, symbol, side, qty, price, fee, time_ms, seq FROM paper_fills "
                "WHERE account_id=? ORDER BY seq", (account_id,),
            ).fetchall()
            name = c.execute("SELECT name FROM paper_accounts WHERE id=?", (account_id,)).fetchone()[0]
        rows: dict[str, list[tuple[str, str]]] = {}
        for oid, tname, payload in evs:
            rows.setdefault(str(oid), []).append((tname, payload))
        bad: dict[str, str] = {}
        orders: dict[str, Order] = {}
        event_fills: dict[str, set[str]] = {}
        for oid, lst in rows.items():
            try:
                events = [decode_event(t, p) for t, p in lst]
                for ev in events:
                    check_event(ev, oid)
                order = Order.from_events(events)
            except Exception as exc:  # noqa: BLE001 - whatever is wrong, the order is left out
                bad[oid] = _why(exc)
                continue
            orders[oid] = order
            event_fills[oid] = {ev.fill.fill_id for ev in events if isinstance(ev, OrderFilled)}
        fills: list[Fill] = []
        table_fills: dict[str, set[str]] = {}
        for r in frows:
            oid = str(r[1])
            try:
                f = Fill(str(r[0]), oid, name, str(r[2]), Side(r[3]), int(r[4]), Decimal(r[5]), Decimal(r[6]), int(r[7]))
                check_fill(f)
            except Exception as exc:  # noqa: BLE001
                bad.setdefault(oid, f"fill {r[0]}: {_why(exc)}")
                continue
            fills.append(f)
            table_fills.setdefault(oid, set()).add(f.fill_id)
        for oid in table_fills.keys() | event_fills.keys():
            if oid not in bad and table_fills.get(oid, set()) != event_fills.get(oid, set()):
                bad[oid] = "its fills in the fills table and in its order history disagree" \
                    if oid in orders else "fills without an order history"
        changed = True
        while changed:  # a bracket child cannot live without its entry
            changed = False
            for oid, o in orders.items():
                if oid not in bad and o.parent_id is not None and (o.parent_id in bad or o.parent_id not in orders):
                    bad[oid] = f"its entry order {o.parent_id} was left out"
                    changed = True
        self._fill_seq[account_id] = max((r[8] for r in frows), default=0)
        count: dict[str, int] = {}
        for r in frows:
            count[str(r[1])] = count.get(str(r[1]), 0) + 1
        quarantined = [Quarantined(name, oid, why, count.get(oid, 0)) for oid, why in bad.items()]
        return (
            [o for oid, o in orders.items() if oid not in bad],
            [f for f in fills if f.order_id not in bad],
            quarantined,
        )

    def mark_quarantined(self, order_ids: list[str]) -> None:
        """Set the snapshot state of these orders to ``quarantined`` (their history is kept
        untouched for inspection). Raises ``StoreError`` (or ``sqlite3.Error``) if the store
        cannot be written."""
        if not order_ids:
            return
        with self._transaction() as c:
            c.executemany("UPDATE paper_orders SET state='quarantined' WHERE order_id=?",
                          [(oid,) for oid in order_ids])

    # ---------------------------------------------------------------- journal

    def commit(self, account: PaperAccount, events: list[OrderEvent], fills: list[Fill]) -> None:
        """Write one call's events and fills in one transaction (the acknowledgement point).

        Raises ``StoreError`` (``DiskFull``, ``DiskIOError``, ``ReadOnlyDatabase``,
        ``DatabaseLocked``...) when it cannot be written; nothing of the call is kept then.
        """
        aid = self._ids[account.name]
        seq = self._fill_seq.get(aid, 0)
        with self._transaction() as c:
            touched: dict[str, Order] = {}
            for ev in events:
                if type(ev) is OrderSubmitted:
                    c.execute(
                        "INSERT INTO paper_orders(order_id, account_id, symbol, side, type, tif, qty, "
                        "filled_qty, state, parent_id, oco_group, created_ms, updated_ms) "
                        "VALUES (?,?,?,?,?,?,?,0,'new',?,?,?,?)",
                        (ev.order_id, aid, ev.symbol, ev.side.value, ev.type.value, ev.tif.value, ev.qty,
                         ev.parent_id, ev.oco_group, ev.time_ms, ev.time_ms),
                    )
                c.execute(
                    "INSERT INTO paper_order_events(order_id, account_id, time_ms, type, payload) VALUES (?,?,?,?,?)",
                    (ev.order_id, aid, ev.time_ms, type(ev).__name__, encode_event(ev)),
                )
                touched[ev.order_id] = account.orders[ev.order_id]
            for o in touched.values():
                c.execute(
                    "UPDATE paper_orders SET qty=?, filled_qty=?, state=?, updated_ms=? WHERE order_id=?",
                    (o.qty, o.filled_qty, o.state.value, o.updated_ms, o.order_id),
                )
            for f in fills:
                seq += 1
                c.execute(
                    "INSERT INTO paper_fills(fill_id, seq, order_id, account_id, symbol, side, qty, price, fee, time_ms) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (f.fill_id, seq, f.order_id, aid, f.symbol, f.side.value, f.qty, str(f.price), str(f.fee), f.time_ms),
                )
            if fills:
                led = account.ledger
                c.execute(
                    "INSERT INTO paper_equity(account_id, time_ms, cash, equity) VALUES (?,?,?,?)",
                    (aid, fills[-1].time_ms, str(led.cash), str(led.equity(account.prices))),
                )
        self._fill_seq[aid] = seq

    def snapshot(self, account: PaperAccount, now_ms: int) -> None:
        """Record the account's equity now (for the equity curve)."""
        aid = self._ids[account.name]
        with self._io() as c:
            c.execute(
                "INSERT INTO paper_equity(account_id, time_ms, cash, equity) VALUES (?,?,?,?)",
                (aid, now_ms, str(account.ledger.cash), str(account.ledger.equity(account.prices))),
            )

    def equity_rows(self, account_name: str) -> list[tuple[int, Decimal, Decimal]]:
        aid = self._ids[account_name]
        with self._io() as c:
            rows = c.execute(
                "SELECT time_ms, cash, equity FROM paper_equity WHERE account_id=? ORDER BY time_ms, id", (aid,),
            ).fetchall()
        return [(int(t), Decimal(c), Decimal(e)) for t, c, e in rows]
