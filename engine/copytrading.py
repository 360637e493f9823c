"""Copy trading without Qt: mirror a leader's (or a published strategy's) published paper
trades into a local paper account (issue 18).

A ``CopyEngine`` works over the local store (tables ``copy_relationships`` and
``copy_links``, migration ``0014_copy``) and a ``PaperSession``. Every copied order goes
through ``PaperSession.submit`` (``account=`` the copy's account), so it meets the same
market checks as the order ticket (``engine/paper/checks.py``: a stale or missing quote, a
price too far from the market) and then the broker's own rules (cash, buying power, fees,
fill rules), and fills at the follower's quotes.

Sizing (proportional, as eToro's CopyTrader and ZuluTrade do it):

* A trade that opens or adds to the leader's position: ``floor(qty × allocation / leader
  equity × multiplier)`` shares (``qty × multiplier`` when the leader did not publish an
  equity), cut so that the copy's open exposure (shares × the follower's last price) stays
  within the allocation. A new symbol beyond ``max_open`` open positions is skipped.
* A trade that reduces the leader's position reduces the copied one in the same proportion
  (``held × after / before``, rounded); one that closes it (or turns it around) closes the
  copied position (and opens the other way, sized as above).

Copy stop-loss: the copy's P&L (cash flows of its fills plus its open shares at the latest
quotes, fees included) at or below ``-stop_loss_pct`` % of the allocation stops the copy and
closes its positions at market (``check_stops``, called on every quote batch).

Paused copies mirror nothing: the trades that arrive meanwhile are recorded as skipped and
are not replayed on resume. A stopped copy ignores everything.

Tracking difference (``tracking``): the copy's return on its allocation next to the return
the same copied quantities would have made at the leader's prices, and the slippage of each
copied fill against its original (basis points of the leader's notional; positive = worse
for the copier).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from engine.formatting import money
from engine.paper.orders import WORKING_STATES, OrderRequest, OrderState
from engine.paper.session import PaperSession
from engine.store.db import Database

log = logging.getLogger(__name__)

ACTIVE, PAUSED, STOPPED = "active", "paused", "stopped"
SENT, SKIPPED, REFUSED, WAITING = "sent", "skipped", "refused", "waiting"
#: a trade whose symbol has no quote yet waits this long for one, then is refused
WAIT_FOR_QUOTE_MS = 60_000
WATCH_OWNER = "copy-trading"
_CENT = Decimal("0.01")
_WORKING = frozenset({OrderState.NEW.value, *(s.value for s in WORKING_STATES)})


class CopyError(ValueError):
    """A copy setting or command that cannot be carried out; one sentence."""


def _dec(value: object, what: str) -> Decimal:
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise CopyError(f"{what} must be a number, not {value!r}") from None
    if not d.is_finite():
        raise CopyError(f"{what} must be a finite number")
    return d


@dataclass(frozen=True, slots=True)
class CopySettings:
    """``allocation`` dollars of the account given to this copy; ``multiplier`` scales every
    copied size; ``stop_loss_pct`` of the allocation lost stops the copy; ``max_open``
    positions at most."""

    allocation: Decimal
    multiplier: Decimal = Decimal(1)
    stop_loss_pct: Decimal = Decimal(20)
    max_open: int = 10

    @classmethod
    def of(cls, allocation: object, multiplier: object = 1, stop_loss_pct: object = 20,
           max_open: object = 10) -> CopySettings:
        """Checked settings; ``CopyError`` says what is wrong."""
        alloc = _dec(allocation, "the allocation").quantize(_CENT)
        mult = _dec(multiplier, "the size multiplier")
        stop = _dec(stop_loss_pct, "the copy stop-loss")
        if alloc <= 0 or alloc > Decimal("1e12"):
            raise CopyError("the allocation must be above $0 (and below $1,000,000,000,000)")
        if mult <= 0 or mult > 100:
            raise CopyError("the size multiplier must be above 0 and at most 100")
        if stop <= 0 or stop > 100:
            raise CopyError("the copy stop-loss must be above 0 % and at most 100 % of the allocation")
        if isinstance(max_open, bool) or not isinstance(max_open, int) or not 1 <= max_open <= 500:
            raise CopyError("the maximum of open positions must be a whole number from 1 to 500")
        return cls(alloc, mult, stop, max_open)


@dataclass(frozen=True, slots=True)
class LeaderTrade:
    """One published trade as the service sends it (``server/routers/social.py`` TradeOut)."""

    id: int
    user_id: int
    symbol: str
    side: str
    qty: int
    price: Decimal
    position_after: int
    equity_cents: int | None = None
    strategy_id: int | None = None
    time_ms: int = 0
    #: when this machine received it (epoch ms; for the latency figures)
    received_ms: int = 0

    @classmethod
    def from_json(cls, d: dict[str, Any], received_ms: int = 0) -> LeaderTrade:
        side = str(d["side"]).lower()
        if side not in ("buy", "sell"):
            raise CopyError(f"a published trade has side {side!r}")
        qty = int(d["qty"])
        if qty <= 0:
            raise CopyError("a published trade has no quantity")
        eq = d.get("equity_cents")
        sid = d.get("strategy_id")
        return cls(int(d["id"]), int(d["user_id"]), str(d["symbol"]).upper(), side, qty, _dec(d["price"], "price"),
                   int(d.get("position_after", 0)), None if eq is None else int(eq), None if sid is None else int(sid),
                   int(d.get("time_ms", 0)), received_ms)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "user_id": self.user_id, "symbol": self.symbol, "side": self.side, "qty": self.qty,
                "price": str(self.price), "position_after": self.position_after, "equity_cents": self.equity_cents,
                "strategy_id": self.strategy_id, "time_ms": self.time_ms, "received_ms": self.received_ms}

    @property
    def signed_qty(self) -> int:
        return self.qty if self.side == "buy" else -self.qty


@dataclass(frozen=True, slots=True)
class Relationship:
    id: int
    leader_id: int | None
    strategy_id: int | None
    leader_name: str
    account: str
    settings: CopySettings
    status: str
    reason: str
    cursor: int
    created_at: int

    @property
    def label(self) -> str:
        if self.strategy_id is not None:
            return self.leader_name or f"strategy #{self.strategy_id}"
        return self.leader_name or f"user #{self.leader_id}"

    def copies(self, t: LeaderTrade) -> bool:
        if self.strategy_id is not None:
            return t.strategy_id == self.strategy_id
        return t.user_id == self.leader_id


@dataclass(frozen=True, slots=True)
class CopyLink:
    """A published trade and what it became here (or a closing order of the copy)."""

    id: int
    relationship_id: int
    original: LeaderTrade | None
    symbol: str
    side: str
    qty: int
    order_id: str | None
    status: str
    reason: str
    created_at: int
    #: from the broker: shares filled and their average price (None: nothing filled)
    filled_qty: int = 0
    fill_price: Decimal | None = None
    order_state: str = ""


@dataclass(frozen=True, slots=True)
class Tracking:
    """How a copy follows its leader (see module docstring)."""

    pnl: Decimal
    copier_return_pct: Decimal
    leader_return_pct: Decimal
    difference_pct: Decimal
    #: the copied fills' average slippage against their originals (bps; None: no fill yet)
    slippage_bps: Decimal | None
    open_positions: dict[str, int] = field(default_factory=dict)
    exposure: Decimal = Decimal(0)
    fills: int = 0
    #: marks missing for an open position (the P&L is then incomplete)
    complete: bool = True


def _row_rel(r: Sequence[Any]) -> Relationship:
    return Relationship(int(r[0]), r[1], r[2], r[3], r[4],
                        CopySettings(Decimal(r[5]), Decimal(r[6]), Decimal(r[7]), int(r[8])),
                        r[9], r[10], int(r[11]), int(r[12]))


_REL_COLS = ("id, leader_id, strategy_id, leader_name, account, allocation, multiplier, stop_loss_pct, max_open, "
             "status, reason, cursor, created_at")
_LINK_COLS = "id, relationship_id, original, symbol, side, qty, order_id, status, reason, created_at"


class CopyEngine:
    """Copies published trades into local paper accounts (see module docstring).

    ``on_trades`` and ``check_stops`` may be called from any thread (one lock); the broker
    serialises its own store."""

    def __init__(self, db: Database, session: PaperSession, clock: Any = None) -> None:
        self.db = db
        self.session = session
        self.clock = clock or (lambda: int(time.time() * 1000))
        self._lock = threading.RLock()
        self._rewatch()

    def warm_up(self) -> None:
        """Load what the first copied order needs before a trade arrives: a DAY order's expiry
        comes from the exchange calendar, whose first use in a process costs 1-2 s."""
        from engine.market.calendar import get_calendar

        try:
            get_calendar()
        except Exception:  # noqa: BLE001 - the order would say what is wrong
            log.debug("copy trading: no exchange calendar", exc_info=True)

    # ------------------------------------------------------------------ relationships
    def relationships(self, include_stopped: bool = True) -> list[Relationship]:
        with self.db.connect(write=False) as c:
            rows = c.execute(f"SELECT {_REL_COLS} FROM copy_relationships ORDER BY id").fetchall()
        rels = [_row_rel(r) for r in rows]
        return rels if include_stopped else [r for r in rels if r.status != STOPPED]

    def relationship(self, rel_id: int) -> Relationship:
        with self.db.connect(write=False) as c:
            r = c.execute(f"SELECT {_REL_COLS} FROM copy_relationships WHERE id=?", (int(rel_id),)).fetchone()
        if r is None:
            raise CopyError(f"there is no copy #{rel_id}")
        return _row_rel(r)

    def start(self, *, account: str, settings: CopySettings, leader_id: int | None = None,
              strategy_id: int | None = None, leader_name: str = "", cursor: int = 0) -> Relationship:
        """Start copying ``leader_id`` or ``strategy_id`` into ``account`` from the trades
        published after ``cursor`` (the leader's last trade id now: nothing old is replayed)."""
        if (leader_id is None) == (strategy_id is None):
            raise CopyError("copy either a leader or a published strategy")
        if account not in self.session.accounts():
            raise CopyError(f"there is no paper account {account!r}")
        with self._lock:
            for r in self.relationships(include_stopped=False):
                if r.leader_id == leader_id and r.strategy_id == strategy_id and r.account == account:
                    raise CopyError(f"{r.label} is already copied into {account}")
            with self.db.connect() as c:
                cur = c.execute(
                    "INSERT INTO copy_relationships(leader_id, strategy_id, leader_name, account, allocation, multiplier, "
                    "stop_loss_pct, max_open, status, reason, cursor, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (leader_id, strategy_id, leader_name[:200], account, str(settings.allocation),
                     str(settings.multiplier), str(settings.stop_loss_pct), settings.max_open, ACTIVE, "",
                     max(0, int(cursor)), self.clock()))
                rid = int(cur.lastrowid or 0)
        return self.relationship(rid)

    def update_settings(self, rel_id: int, settings: CopySettings) -> Relationship:
        with self._lock, self.db.connect() as c:
            c.execute("UPDATE copy_relationships SET allocation=?, multiplier=?, stop_loss_pct=?, max_open=? WHERE id=?",
                      (str(settings.allocation), str(settings.multiplier), str(settings.stop_loss_pct),
                       settings.max_open, int(rel_id)))
        return self.relationship(rel_id)

    def _set_status(self, rel_id: int, status: str, reason: str) -> Relationship:
        rel = self.relationship(rel_id)
        if rel.status == STOPPED:
            raise CopyError(f"the copy of {rel.label} has stopped; start a new one")
        with self.db.connect() as c:
            c.execute("UPDATE copy_relationships SET status=?, reason=?, stopped_at=? WHERE id=?",
                      (status, reason, self.clock() if status == STOPPED else None, rel.id))
        return self.relationship(rel_id)

    def pause(self, rel_id: int) -> Relationship:
        """Mirror nothing until ``resume`` (positions stay open)."""
        with self._lock:
            return self._set_status(rel_id, PAUSED, "paused by you")

    def resume(self, rel_id: int) -> Relationship:
        with self._lock:
            return self._set_status(rel_id, ACTIVE, "")

    def stop(self, rel_id: int, reason: str = "stopped by you", close: bool = True) -> Relationship:
        """Stop copying for good; with ``close`` the copied positions are closed at market."""
        with self._lock:
            rel = self._set_status(rel_id, STOPPED, reason)
            if close:
                self._close_all(rel, reason)
            self._rewatch()
            return rel

    def wanted(self) -> tuple[list[int], list[int], int]:
        """(leader ids, strategy ids, smallest cursor) of the copies that are not stopped:
        what the sync layer asks the service for."""
        rels = self.relationships(include_stopped=False)
        users = sorted({r.leader_id for r in rels if r.leader_id is not None})
        strategies = sorted({r.strategy_id for r in rels if r.strategy_id is not None})
        return users, strategies, min((r.cursor for r in rels), default=0)

    # ------------------------------------------------------------------ links and positions
    def links(self, rel_id: int | None = None) -> list[CopyLink]:
        """The copied trades (newest first) with their originals and their fills."""
        q = f"SELECT {_LINK_COLS} FROM copy_links"
        args: tuple[Any, ...] = ()
        if rel_id is not None:
            q += " WHERE relationship_id=?"
            args = (int(rel_id),)
        with self.db.connect(write=False) as c:
            rows = c.execute(q + " ORDER BY id DESC", args).fetchall()
        out = []
        for r in rows:
            orig = json.loads(r[2]) if r[2] and r[2] != "{}" else None
            link = CopyLink(int(r[0]), int(r[1]), LeaderTrade.from_json(orig, int(orig.get("received_ms") or 0))
                            if orig else None, r[3], r[4], int(r[5]), r[6], r[7], r[8], int(r[9]))
            if link.order_id:
                try:
                    o = self.session.broker.order(link.order_id)
                    link = replace(link, filled_qty=o.filled_qty, fill_price=o.avg_fill_price,
                                   order_state=o.state.value)
                except (KeyError, ValueError):
                    pass
            out.append(link)
        return out

    def _fills(self, rel: Relationship) -> list[tuple[CopyLink, Any]]:
        """(link, fill) of every fill of the copy's orders, oldest first."""
        links = {lk.order_id: lk for lk in self.links(rel.id) if lk.order_id}
        if not links:
            return []
        return [(links[f.order_id], f) for f in self.session.broker.fills(rel.account) if f.order_id in links]

    def held(self, rel: Relationship, *, pending: bool = True) -> dict[str, int]:
        """Shares the copy holds per symbol (signed), with ``pending`` its working orders' rest."""
        out: dict[str, int] = {}
        for link, f in self._fills(rel):
            out[f.symbol] = out.get(f.symbol, 0) + f.signed_qty
        if pending:
            for lk in self.links(rel.id):
                if lk.order_id and lk.order_state in _WORKING:
                    rest = lk.qty - lk.filled_qty
                    out[lk.symbol] = out.get(lk.symbol, 0) + (rest if lk.side == "buy" else -rest)
        return {s: q for s, q in out.items() if q}

    def tracking(self, rel_id: int) -> Tracking:
        rel = self.relationship(rel_id)
        cash = Decimal(0)
        leader_cash = Decimal(0)
        held: dict[str, int] = {}
        slip_num = Decimal(0)
        slip_den = Decimal(0)
        n = 0
        for link, f in self._fills(rel):
            n += 1
            cash += -f.signed_qty * f.price - f.fee
            ref = link.original.price if link.original is not None else f.price
            leader_cash += -f.signed_qty * ref
            held[f.symbol] = held.get(f.symbol, 0) + f.signed_qty
            if link.original is not None:
                sign = 1 if f.side.value == "buy" else -1
                slip_num += (f.price - ref) * sign * f.qty
                slip_den += ref * f.qty
        value = Decimal(0)
        complete = True
        exposure = Decimal(0)
        for sym, q in held.items():
            if q == 0:
                continue
            last = self.session.last_price(sym)
            if last is None:
                complete = False
                continue
            value += q * last
            exposure += abs(q) * last
        pnl = (cash + value).quantize(_CENT)
        alloc = rel.settings.allocation
        mine = (pnl / alloc * 100).quantize(Decimal("0.01"))
        theirs = ((leader_cash + value) / alloc * 100).quantize(Decimal("0.01"))
        slip = (slip_num / slip_den * 10_000).quantize(Decimal("0.1")) if slip_den else None
        return Tracking(pnl, mine, theirs, mine - theirs, slip, {s: q for s, q in held.items() if q},
                        exposure.quantize(_CENT), n, complete)

    # ------------------------------------------------------------------ mirroring
    def on_trades(self, trades: Iterable[LeaderTrade]) -> list[CopyLink]:
        """Mirror ``trades`` (any order, duplicates fine) into every copy that follows them."""
        out: list[CopyLink] = []
        with self._lock:
            ordered = sorted({t.id: t for t in trades}.values(), key=lambda t: t.id)
            for rel in self.relationships(include_stopped=False):
                mine = [t for t in ordered if rel.copies(t) and t.id > rel.cursor]
                for t in mine:
                    rel = self.relationship(rel.id)
                    if rel.status == STOPPED:
                        break
                    out += self._mirror(rel, t)
                    with self.db.connect() as c:
                        c.execute("UPDATE copy_relationships SET cursor=MAX(cursor, ?) WHERE id=?", (t.id, rel.id))
            self._rewatch()
        return out

    def _record(self, rel: Relationship, t: LeaderTrade | None, symbol: str, side: str, qty: int,
                order_id: str | None, status: str, reason: str) -> CopyLink:
        now = self.clock()
        with self.db.connect() as c:
            cur = c.execute(
                "INSERT INTO copy_links(relationship_id, original_id, original, symbol, side, qty, order_id, status, "
                "reason, created_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(relationship_id, original_id) DO NOTHING",
                (rel.id, t.id if t is not None else None, json.dumps(t.to_json()) if t is not None else "{}",
                 symbol, side, qty, order_id, status, reason[:500], now))
            lid = int(cur.lastrowid or 0)
        return CopyLink(lid, rel.id, t, symbol, side, qty, order_id, status, reason, now)

    def _mirror(self, rel: Relationship, t: LeaderTrade) -> list[CopyLink]:
        if rel.status == PAUSED:
            return [self._record(rel, t, t.symbol, t.side, 0, None, SKIPPED, "copying was paused")]
        before = t.position_after - t.signed_qty
        after = t.position_after
        held = self.held(rel).get(t.symbol, 0)
        orders: list[tuple[str, int, str]] = []  # side, qty, why
        closing = after == 0 or (before != 0 and (before > 0) != (after > 0))
        if before != 0 and closing:
            if held:
                orders.append(("sell" if held > 0 else "buy", abs(held), "closes the copied position"))
            opening = abs(after)
        elif before != 0 and abs(after) < abs(before):
            keep = int((Decimal(held) * after / before).to_integral_value(ROUND_HALF_UP))
            qty = abs(held - keep)
            if qty:
                orders.append(("sell" if held > 0 else "buy", qty, "reduces the copied position"))
            else:
                return [self._record(rel, t, t.symbol, t.side, 0, None, SKIPPED,
                                     "nothing to reduce: the copy holds no shares of it" if not held
                                     else "the reduction rounds to 0 shares")]
            opening = 0
        else:
            opening = t.qty
        if opening:
            qty, why = self._size(rel, t, opening, held if not orders else 0)
            if qty <= 0:
                if not orders:
                    return [self._record(rel, t, t.symbol, t.side, 0, None, SKIPPED, why)]
            else:
                side = "buy" if after > 0 or (after == 0 and t.side == "buy") else "sell"
                orders.append((side, qty, why))
        if not orders:
            return [self._record(rel, t, t.symbol, t.side, 0, None, SKIPPED,
                                 "nothing to close: the copy holds no shares of it")]
        links = []
        for i, (side, qty, why) in enumerate(orders):
            links.append(self._send(rel, t if i == 0 else None, t.symbol, side, qty, why))
        return links

    def _size(self, rel: Relationship, t: LeaderTrade, leader_qty: int, held: int) -> tuple[int, str]:
        s = rel.settings
        scale = s.allocation / (Decimal(t.equity_cents) / 100) if t.equity_cents else Decimal(1)
        qty = int((leader_qty * scale * s.multiplier).to_integral_value(ROUND_FLOOR))
        if qty <= 0:
            return 0, "the scaled size rounds to 0 shares"
        holding = self.held(rel)
        if not held and t.symbol not in holding and len(holding) >= s.max_open:
            return 0, f"the copy already has its maximum of {s.max_open} open positions"
        last = self.session.last_price(t.symbol)
        if last is not None and last > 0:
            exposure = sum((abs(q) * (self.session.last_price(sym) or Decimal(0)) for sym, q in holding.items()),
                           Decimal(0))
            room = int(((s.allocation - exposure) / last).to_integral_value(ROUND_FLOOR))
            if room < qty:
                if room <= 0:
                    return 0, "the allocation is used up"
                return room, f"{qty} scaled shares cut to {room} to stay within the allocation"
        return qty, f"{leader_qty} × {scale.quantize(Decimal('0.0001'))} × {s.multiplier} (proportional)"

    def _send(self, rel: Relationship, t: LeaderTrade | None, symbol: str, side: str, qty: int, why: str) -> CopyLink:
        self.session.watch(WATCH_OWNER, self._symbols() | {symbol})
        if self.session.quote(symbol) is None and t is not None:
            return self._record(rel, t, symbol, side, qty, None, WAITING,
                                f"waiting for a quote of {symbol}: {self.session.no_quote_reason(symbol)}")
        return self._submit(rel, t, symbol, side, qty, why)

    def _submit(self, rel: Relationship, t: LeaderTrade | None, symbol: str, side: str, qty: int, why: str,
                link_id: int | None = None) -> CopyLink:
        tag = f"copy #{rel.id}" + (f" of trade {t.id}" if t is not None else "")
        try:
            req = OrderRequest(symbol, side, qty, "market", tif="day", tag=tag)
        except ValueError as exc:
            res_error: str | None = str(exc)
            order_id = None
        else:
            res = self.session.submit(req, account=rel.account)
            res_error = res.error
            order_id = res.value.order_id if res.value is not None else None
        status, reason = (REFUSED, res_error) if res_error else (SENT, why)
        if link_id is not None:
            with self.db.connect() as c:
                c.execute("UPDATE copy_links SET order_id=?, status=?, reason=? WHERE id=?",
                          (order_id, status, reason[:500], link_id))
            return next(lk for lk in self.links(rel.id) if lk.id == link_id)
        return self._record(rel, t, symbol, side, qty, order_id, status, reason)

    def retry_waiting(self) -> list[CopyLink]:
        """Send the copied trades that waited for a quote (refused after ``WAIT_FOR_QUOTE_MS``)."""
        out = []
        with self._lock:
            for rel in self.relationships(include_stopped=False):
                for lk in reversed(self.links(rel.id)):
                    if lk.status != WAITING:
                        continue
                    if rel.status != ACTIVE:
                        self._update(lk.id, SKIPPED, "copying was paused or stopped before a quote came")
                    elif self.session.quote(lk.symbol) is not None:
                        out.append(self._submit(rel, lk.original, lk.symbol, lk.side, lk.qty, "sent once quoted",
                                                link_id=lk.id))
                    elif self.clock() - lk.created_at > WAIT_FOR_QUOTE_MS:
                        self._update(lk.id, REFUSED, lk.reason.replace("waiting for", "no"))
        return out

    def _update(self, link_id: int, status: str, reason: str) -> None:
        with self.db.connect() as c:
            c.execute("UPDATE copy_links SET status=?, reason=? WHERE id=?", (status, reason[:500], link_id))

    # ------------------------------------------------------------------ stop-loss
    def check_stops(self) -> list[Relationship]:
        """Stop (and close) every copy whose loss reached its copy stop-loss; the stopped ones."""
        stopped = []
        with self._lock:
            for rel in self.relationships(include_stopped=False):
                tr = self.tracking(rel.id)
                limit = -(rel.settings.allocation * rel.settings.stop_loss_pct / 100)
                # only on a complete mark: after a restart, before the first quote of a held
                # symbol, its shares are worth nothing in ``tracking`` and would fake a loss
                if tr.fills and tr.complete and tr.pnl <= limit:
                    reason = (f"copy stop-loss hit: the copy lost {money(-tr.pnl)}, "
                              f"{rel.settings.stop_loss_pct}% of the {money(rel.settings.allocation)} allocation is "
                              f"{money(-limit)}")
                    stopped.append(self.stop(rel.id, reason))
        return stopped

    def on_quotes(self) -> None:
        """After a quote batch: send waiting trades, then apply the copy stop-losses."""
        self.retry_waiting()
        self.check_stops()

    def _close_all(self, rel: Relationship, reason: str) -> None:
        for lk in self.links(rel.id):
            if lk.order_id and lk.order_state in _WORKING:
                self.session.cancel(lk.order_id)
            if lk.status == WAITING:
                self._update(lk.id, SKIPPED, "the copy stopped before a quote came")
        for sym, q in self.held(rel, pending=False).items():
            self._submit(rel, None, sym, "sell" if q > 0 else "buy", abs(q), f"closes: {reason}")

    def _symbols(self) -> set[str]:
        syms: set[str] = set()
        for rel in self.relationships(include_stopped=False):
            syms |= set(self.held(rel))
            syms |= {lk.symbol for lk in self.links(rel.id) if lk.status == WAITING}
        return syms

    def _rewatch(self) -> None:
        try:
            self.session.watch(WATCH_OWNER, self._symbols())
        except Exception:  # noqa: BLE001 - a store without the tables yet must not break start-up
            log.debug("copy trading: cannot list the copied symbols", exc_info=True)


__all__ = ["ACTIVE", "PAUSED", "STOPPED", "CopyEngine", "CopyError", "CopyLink", "CopySettings", "LeaderTrade",
           "Relationship", "Tracking"]
