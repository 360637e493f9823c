"""Durable journal of paper accounts: every order event and fill, committed before the
broker acknowledges the call that produced it (one SQLite transaction per call, WAL,
``synchronous=FULL``). On start-up orders are replayed from their events and the ledger is
rebuilt from the fills; the two are checked against each other.
"""
from __future__ import annotations

import dataclasses
import enum
import json
import sqlite3
import threading
from decimal import Decimal
from typing import Any

from engine.paper.account import AccountKind, PaperAccount
from engine.paper.fills import FillConfig, parse_commission, parse_slippage
from engine.paper.orders import (
    EVENT_TYPES,
    Fill,
    Order,
    OrderEvent,
    OrderFilled,
    OrderSubmitted,
    OrderType,
    Role,
    Side,
    TimeInForce,
)

_ENUMS = {"side": Side, "type": OrderType, "tif": TimeInForce, "role": Role}


class LedgerMismatch(RuntimeError):
    """The stored fills and the stored order events disagree (should never happen)."""


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
    })


def config_from_json(text: str) -> FillConfig:
    d = json.loads(text or "{}")
    return FillConfig(
        parse_slippage(d.get("slippage", "none")), parse_commission(d.get("commission", "none")),
        float(d.get("participation", 0.10)), int(d.get("latency_ms", 0)),
    )


class PaperStore:
    """The paper tables of the local store, written through one sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn  # autocommit mode (isolation_level=None): explicit transactions
        self.lock = threading.RLock()
        self._ids: dict[str, int] = {}
        self._fill_seq: dict[int, int] = {}

    def close(self) -> None:
        self.conn.close()

    # ---------------------------------------------------------------- accounts

    def create_account(self, name: str, kind: AccountKind, cash: Decimal, config: FillConfig, now_ms: int) -> int:
        with self.lock:
            cur = self.conn.execute(
                "INSERT INTO paper_accounts(name, kind, initial_cash, config, created_ms) VALUES (?,?,?,?,?)",
                (name, kind.value, str(cash), config_to_json(config), now_ms),
            )
            self._ids[name] = int(cur.lastrowid)  # type: ignore[arg-type]
            return self._ids[name]

    def account_rows(self) -> list[tuple[int, str, str, str, str]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT id, name, kind, initial_cash, config FROM paper_accounts ORDER BY id"
            ).fetchall()
        for r in rows:
            self._ids[r[1]] = r[0]
        return rows

    def load(self, account_id: int) -> tuple[list[Order], list[Fill]]:
        """Orders replayed from events and fills in booking order; raises ``LedgerMismatch``
        if a fill in the events is missing from the fills table or the other way round."""
        with self.lock:
            evs = self.conn.execute(
                "SELECT order_id, type, payload FROM paper_order_events WHERE account_id=? ORDER BY seq",
                (account_id,),
            ).fetchall()
            frows = self.conn.execute(
                "SELECT fill_id, order_id, symbol, side, qty, price, fee, time_ms, seq FROM paper_fills "
                "WHERE account_id=? ORDER BY seq", (account_id,),
            ).fetchall()
            name = self.conn.execute("SELECT name FROM paper_accounts WHERE id=?", (account_id,)).fetchone()[0]
        by_order: dict[str, list[OrderEvent]] = {}
        event_fills: set[str] = set()
        for oid, tname, payload in evs:
            ev = decode_event(tname, payload)
            by_order.setdefault(oid, []).append(ev)
            if isinstance(ev, OrderFilled):
                event_fills.add(ev.fill.fill_id)
        orders = [Order.from_events(lst) for lst in by_order.values()]
        fills = [
            Fill(r[0], r[1], name, r[2], Side(r[3]), int(r[4]), Decimal(r[5]), Decimal(r[6]), int(r[7]))
            for r in frows
        ]
        self._fill_seq[account_id] = max((r[8] for r in frows), default=0)
        table_fills = {f.fill_id for f in fills}
        if table_fills != event_fills:
            raise LedgerMismatch(
                f"paper account {name}: fills {sorted(table_fills ^ event_fills)[:5]} are in only one of "
                "the fills table and the order history"
            )
        return orders, fills

    # ---------------------------------------------------------------- journal

    def commit(self, account: PaperAccount, events: list[OrderEvent], fills: list[Fill]) -> None:
        """Write one call's events and fills in one transaction (the acknowledgement point)."""
        aid = self._ids[account.name]
        with self.lock:
            c = self.conn
            c.execute("BEGIN IMMEDIATE")
            try:
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
                seq = self._fill_seq.get(aid, 0)
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
                c.execute("COMMIT")
                self._fill_seq[aid] = seq
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def snapshot(self, account: PaperAccount, now_ms: int) -> None:
        """Record the account's equity now (for the equity curve)."""
        aid = self._ids[account.name]
        with self.lock:
            self.conn.execute(
                "INSERT INTO paper_equity(account_id, time_ms, cash, equity) VALUES (?,?,?,?)",
                (aid, now_ms, str(account.ledger.cash), str(account.ledger.equity(account.prices))),
            )

    def equity_rows(self, account_name: str) -> list[tuple[int, Decimal, Decimal]]:
        aid = self._ids[account_name]
        with self.lock:
            rows = self.conn.execute(
                "SELECT time_ms, cash, equity FROM paper_equity WHERE account_id=? ORDER BY time_ms, id", (aid,),
            ).fetchall()
        return [(int(t), Decimal(c), Decimal(e)) for t, c, e in rows]
