"""Columns of the trading blotters over the app's one table (``widgets.table``): immutable
engine rows (``OrderView``, ``Fill``, ``PositionView``) keyed by id, kept current by the
session's signals. Each column's value is the raw engine value (a ``Decimal`` price, an
``int`` quantity), so the blotters sort on numbers and export plain numbers; the text goes
through ``engine.formatting``."""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtWidgets import QAbstractItemView

from engine import formatting as fmt
from engine.paper.contracts import option_contract
from engine.paper.ledger import PositionView
from engine.paper.orders import Fill, OrderType, OrderView, Side, TimeInForce
from engine.paper.ticket import edit_text
from widgets.table import Column, TableModel, TableView
from widgets.trading.fmt import ORDER_TYPE_LABELS, ROLE_LABELS, order_prices, pnl_color, side_color
from widgets.trading.session import TradingSession


def _trim(d: Decimal | None) -> Decimal | None:
    """``d`` without the store's padding zeros (``1234.550000`` is ``1234.55``), so the CSV
    export writes the number, not the column width of the ledger; the value is unchanged."""
    return None if d is None else d.normalize()


def _time(ms: int) -> str:
    return fmt.timestamp(ms / 1000)


def _order_qty(o: OrderView) -> str | None:
    """``5/10`` while part filled; None: the plain quantity."""
    return f"{fmt.quantity(o.filled_qty)}/{fmt.quantity(o.qty)}" if o.filled_qty else None


def _order_price(o: OrderView) -> Decimal | None:
    """What the Price column sorts on: the limit, else the stop, else the trail amount."""
    for p in (o.limit_price, o.stop_price, o.trail_amount):
        if p is not None:
            return p
    return None


def _state(o: OrderView) -> str:
    return o.state.value.replace("_", " ") + (" (triggered)" if o.triggered and o.is_working else "")


#: the times in force a working order can be changed to (``PaperBroker.modify``)
MODIFIABLE_TIFS = (TimeInForce.DAY, TimeInForce.GTC)
#: which order field a working order's editable column changes
PRICE_FIELD = {OrderType.LIMIT: "limit_price", OrderType.STOP: "stop_price"}


def price_field(o: OrderView) -> str | None:
    """The one price the Price cell of ``o`` edits (None: it has none, or two — a stop-limit
    is edited in its Limit and Stop cells or the Modify dialog)."""
    if o.type is OrderType.TRAILING_STOP:
        return "trail_amount" if o.trail_amount is not None else "trail_percent"
    if o.type is OrderType.STOP and o.triggered:
        return None
    return PRICE_FIELD.get(o.type)


def edit_value(o: OrderView, field: str) -> str | None:
    """The editor text of ``o``'s ``field`` (None when the order has no such price to change)."""
    v = getattr(o, field)
    if v is None or (field == "stop_price" and o.triggered):
        return None
    return edit_text(v, 0 if field == "trail_percent" else 2)


def _edit(field: str | None) -> Callable[[OrderView], str | None]:
    def edit(o: OrderView) -> str | None:
        f = price_field(o) if field is None else field
        return edit_value(o, f) if f is not None and o.is_working else None
    return edit


def order_columns(history: bool) -> list[Column]:
    """Working orders (``history=False``) or the order history: the visible columns in their
    usual order, then columns hidden until chosen from the header menu (their values go into
    the CSV export in any case); the history's Reason comes last. Working orders' quantity,
    price(s) and time in force (DAY/GTC) are editable in place (``TableView.enable_editing``)."""
    when = (lambda o: o.updated_ms) if history else (lambda o: o.created_ms)
    work = not history

    def qty_edit(o: OrderView) -> str | None:
        return str(o.qty) if o.is_working else None

    def tif_edit(o: OrderView) -> str | None:
        return o.tif.value.upper() if o.is_working and o.tif in MODIFIABLE_TIFS else None

    cols = [
        Column("Time", lambda o: _time(when(o)), key="time", sort=when),
        Column("Symbol", lambda o: o.symbol, key="symbol"),
        Column("Side", lambda o: o.side.value.upper(), key="side", color=lambda o: side_color(o.side)),
        Column("Qty", lambda o: o.qty, True, key="qty", fmt=fmt.quantity, override=_order_qty,
               edit=qty_edit if work else None),
        Column("Type", lambda o: ORDER_TYPE_LABELS[o.type], key="type"),
        Column("Price", order_prices, True, key="prices", sort=_order_price, export=False,
               edit=_edit(None) if work else None),
        Column("TIF", lambda o: o.tif.value.upper(), key="tif", edit=tif_edit if work else None,
               choices=(lambda o: [t.value.upper() for t in MODIFIABLE_TIFS]) if work else None),
        Column("State", _state, key="state", tip=lambda o: o.reason or None),
        Column("Role", lambda o: ROLE_LABELS.get(o.role, o.role.value), key="role"),
        Column("Filled", lambda o: o.filled_qty, True, key="filled", fmt=fmt.quantity, hidden=True),
        Column("Limit", lambda o: _trim(o.limit_price), True, key="limit", fmt=fmt.price, hidden=True,
               edit=_edit("limit_price") if work else None),
        Column("Stop", lambda o: _trim(o.stop_price), True, key="stop", fmt=fmt.price, hidden=True,
               edit=_edit("stop_price") if work else None),
        Column("Trail", lambda o: _trim(o.trail_amount), True, key="trail", fmt=fmt.price, hidden=True),
        Column("Trail %", lambda o: _trim(o.trail_percent) if o.type is OrderType.TRAILING_STOP else None, True,
               key="trail_percent", fmt=lambda v: fmt.percent(v, signed=False), hidden=True),
        Column("Order id", lambda o: o.order_id, key="order_id", hidden=True),
    ]
    if history:
        cols.insert(6, Column("Avg fill", lambda o: _trim(o.avg_fill_price), True, key="avg_fill", fmt=fmt.price))
        cols.append(Column("Reason", lambda o: o.reason, key="reason", tip=lambda o: o.reason or None))
    return cols


FILL_COLUMNS = [
    Column("Time", lambda f: _time(f.time_ms), key="time", sort=lambda f: f.time_ms),
    Column("Symbol", lambda f: f.symbol, key="symbol"),
    Column("Side", lambda f: f.side.value.upper(), key="side", color=lambda f: side_color(f.side)),
    Column("Qty", lambda f: f.qty, True, key="qty", fmt=fmt.quantity),
    Column("Price", lambda f: _trim(f.price), True, key="price", fmt=fmt.price),
    Column("Value", lambda f: _trim(f.price * f.qty), True, key="value", fmt=fmt.money),
    Column("Fee", lambda f: _trim(f.fee), True, key="fee", fmt=fmt.money),
    Column("Order", lambda f: f.order_id, key="order_id"),
]


def order_model(history: bool) -> TableModel:
    """Working orders in arrival order, or every order newest change first."""
    return TableModel(order_columns(history), key=lambda o: o.order_id, newest_first=history)


def fills_model() -> TableModel:
    """Executions, newest first."""
    def key(f: Fill) -> str:
        return f.fill_id
    return TableModel(FILL_COLUMNS, key=key, newest_first=True)


def _today(session: TradingSession) -> dict[str, tuple[Decimal, Decimal]]:
    """Today's realized P&L and fees per symbol of the selected account (``AccountSummary.day_symbols``)."""
    s = session.summary
    return {sym: (r, f) for sym, r, f in getattr(s, "day_symbols", ())} if s is not None else {}


class PositionsModel(TableModel):
    """Open positions with last price and P&L from the session's marks (computed once
    per quote batch by ``PaperSession``; the cells only look them up), and the symbols
    closed today (quantity 0) with the day's realized P&L, as TWS keeps them."""

    def __init__(self, session: TradingSession) -> None:
        self.session = session
        mark = session.mark
        #: symbol → the package its position came from (refreshed when the position changes)
        self.packages: dict[str, str] = {}
        packages = self.packages

        def package(p: PositionView) -> str:
            g = packages.get(p.symbol, "")
            return g[-6:] if g else ""

        def realized_today(p: PositionView) -> Decimal | None:
            r = _today(session).get(p.symbol)
            return None if r is None else _trim(r[0])

        def last(p: PositionView) -> Decimal | None:
            m = mark(p.symbol)
            return None if m is None else _trim(m.last)

        def unreal(p: PositionView) -> Decimal | None:
            m = mark(p.symbol)
            return None if m is None else _trim(m.unrealized)

        def mv(p: PositionView) -> Decimal | None:
            m = mark(p.symbol)
            return None if m is None else _trim(m.market_value)

        def signed_money(v: Decimal | None) -> str:
            return fmt.money(v, signed=True)

        def greek(name: str) -> Callable[[PositionView], float | None]:
            def value(p: PositionView) -> float | None:
                if not p.qty:
                    return None  # closed today: no Greeks
                if p.multiplier == 1:
                    return 1.0 if name == "delta" else 0.0
                g = session.option_greeks(p.symbol)
                return None if g is None else g.get(name)
            return value

        def position_delta(p: PositionView) -> float | None:
            d = greek("delta")(p)
            return None if d is None else round(d * p.qty * p.multiplier, 2)

        def underlying(p: PositionView) -> str:
            c = option_contract(p.symbol)
            return c.underlying if c is not None else p.symbol

        def greek_text(digits: int) -> Callable[[float | None], str]:
            return lambda v: "—" if v is None else f"{v:+.{digits}f}"

        super().__init__([
            Column("Symbol", lambda p: p.symbol, key="symbol", hideable=False),
            Column("Qty", lambda p: p.qty, True, key="qty", fmt=fmt.quantity,
                   color=lambda p: side_color(Side.BUY if p.qty > 0 else Side.SELL)),
            Column("Avg price", lambda p: _trim(p.avg_price), True, key="avg_price", fmt=fmt.price),
            Column("Last", last, True, key="last", fmt=fmt.price),
            Column("Market value", mv, True, key="market_value", fmt=fmt.money),
            Column("Unrealized P&L", unreal, True, key="unrealized_pnl", fmt=signed_money,
                   color=lambda p: pnl_color(unreal(p))),
            Column("Realized today", realized_today, True, key="realized_today", fmt=signed_money,
                   color=lambda p: pnl_color(realized_today(p))),
            Column("Realized P&L", lambda p: _trim(p.realized_pnl), True, key="realized_pnl", fmt=signed_money,
                   color=lambda p: pnl_color(p.realized_pnl), hidden=True),
            Column("Fees", lambda p: _trim(p.fees), True, key="fees", fmt=fmt.money, hidden=True),
            # option legs (OCC symbols): per-share Greeks at the latest quote (theta per calendar
            # day, vega per vol point) and the position's delta in shares (qty × 100 × delta)
            Column("Underlying", underlying, key="underlying"),
            Column("Package", package, key="package",
                   tip=lambda p: f"legs of package {packages[p.symbol]}: sort by this column to group them"
                   if packages.get(p.symbol) else None),
            Column("Δ", greek("delta"), True, key="delta", fmt=greek_text(3)),
            Column("Γ", greek("gamma"), True, key="gamma", fmt=greek_text(4)),
            Column("Θ/day", greek("theta"), True, key="theta", fmt=greek_text(3)),
            Column("Vega", greek("vega"), True, key="vega", fmt=greek_text(3)),
            Column("Position Δ", position_delta, True, key="position_delta", fmt=greek_text(1)),
        ], key=lambda p: p.symbol)

    def apply(self, p: PositionView) -> None:
        """A position changed: open ones are shown; a closed one stays while it traded today."""
        if p.multiplier != 1:
            self.packages[p.symbol] = self.session.package_of(p.symbol)
        if p.qty == 0 and p.symbol not in _today(self.session) and p.realized_pnl == 0 and p.fees == 0:
            self.remove(p.symbol)
        else:
            self.upsert(p)

    def closed_today(self) -> list[PositionView]:
        """Rows for the symbols traded today that are flat now (realized P&L and fees of the day)."""
        open_syms = {p.symbol for p in self.rows if p.qty}
        known = self.session.positions
        out = []
        for sym, (r, f) in _today(self.session).items():
            if sym in open_syms:
                continue
            p = known.get(sym)
            out.append(p if p is not None and p.qty == 0 else PositionView(sym, 0, None, Decimal(0), r, f))
        return out

    def load(self, positions: list[PositionView]) -> None:
        """The open ``positions`` plus today's closed symbols."""
        self.packages.clear()
        self.packages.update({p.symbol: self.session.package_of(p.symbol) for p in positions
                              if p.qty and p.multiplier != 1})
        self.set_rows([p for p in positions if p.qty])
        for p in self.closed_today():
            self.upsert(p)


def make_table(model: TableModel, name: str, single: bool = False) -> TableView:
    """A blotter table over ``model`` (sort, column choice, copy, CSV export from
    ``widgets.table``): whole-row selection, several rows unless ``single``, compact rows."""
    mode = QAbstractItemView.SelectionMode.SingleSelection if single else QAbstractItemView.SelectionMode.ExtendedSelection
    t = TableView(model, name, selection=mode, row_height=22)
    h = t.horizontalHeader()
    h.setMinimumSectionSize(48)
    # a text column at the end takes the rest of the width, a number column does not (it
    # would push its values far from their header)
    shown = [c for c in model.columns if not c.hidden]
    h.setStretchLastSection(bool(shown) and not shown[-1].numeric)
    return t


__all__ = ["FILL_COLUMNS", "PositionsModel", "fills_model", "make_table", "order_columns", "order_model"]
