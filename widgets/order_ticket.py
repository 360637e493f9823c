"""The order ticket: build a paper order, see what it costs, place it.

Order types: market, limit, stop, stop-limit, trailing stop (amount or %), bracket (market
or limit entry with take-profit and stop-loss, each as a price or a % from the entry) and
OCO (a limit and a stop on the same side: whichever fills first cancels the other — the
usual exit pair for a position you hold). Quantity in shares or in dollars (rounded down
to whole shares at the reference price). Time in force DAY / GTC / IOC / FOK.

The order rules — fields to ``OrderRequest``(s), units, bracket legs, validation — are the
engine's (``engine.paper.ticket``: the widget reads its fields into a ``TicketSpec`` and
shows what ``check_ticket`` says); this widget keeps the layout and the preview. The
estimate (``engine.paper.preview``) shows the reference price, the estimated cost and the
buying power after the order, and the inline validation says what is wrong before the
broker is asked ("Exceeds buying power by $1,234.56", "Limit price missing").

Hotkeys (window-wide while the ticket is shown; ignored while typing in a text field):
Shift+B buys and Shift+S sells the ticket's quantity at market, Shift+F flattens the
symbol. A click on the chart's price pane puts that price into the ticket's price field
that had the focus last (the first price field of the order type otherwise).
"""
from __future__ import annotations

from dataclasses import replace

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine import formatting as fmt
from engine.paper.money import CENT
from engine.paper.orders import OrderRequest, OrderView, Quote, Side, TimeInForce
from engine.paper.preview import OrderPreview
from engine.paper.ticket import (
    KIND_LABELS,
    TicketCheck,
    TicketError,
    TicketKind,
    TicketSpec,
    build_requests,
    check_ticket,
    market_spec,
)
from widgets import style
from widgets.trading.account import AccountChooser
from widgets.trading.session import TradingSession

TICKET_TYPES = tuple((label, kind.value) for kind, label in KIND_LABELS.items())
TIFS = (("DAY", TimeInForce.DAY), ("GTC", TimeInForce.GTC), ("IOC", TimeInForce.IOC), ("FOK", TimeInForce.FOK))
HOTKEY_BUY, HOTKEY_SELL, HOTKEY_FLATTEN = "Shift+B", "Shift+S", "Shift+F"


def _unit_box(name: str, items: tuple[tuple[str, str], ...], tip: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    for text, data in items:
        box.addItem(text, data)
    box.setToolTip(tip)
    return box


class OrderTicketWidget(QWidget):
    """Order entry for the session's chosen account (see module docstring)."""

    order_placed = Signal(object)  # OrderView (the entry / first leg)

    def __init__(self, session: TradingSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orderTicketWidget")
        self.session = session
        self.symbol = ""
        self.preview: OrderPreview | None = None
        self.problems: list[str] = []
        self.check: TicketCheck | None = None
        self._watch_key = f"ticket:{id(self)}"
        self._price_target: QLineEdit | None = None
        self._styled_side: Side | None = None

        self.chooser = AccountChooser(session)
        self.symbol_edit = QLineEdit()
        self.symbol_edit.setObjectName("ticketSymbol")
        self.symbol_edit.setPlaceholderText("Symbol")
        self.symbol_edit.setToolTip("The symbol to trade; follows the chart. Type another and press Enter.")
        self.symbol_edit.editingFinished.connect(lambda: self.set_symbol(self.symbol_edit.text()))
        self.quote_label = QLabel("")
        self.quote_label.setObjectName("ticketQuote")
        self.quote_label.setWordWrap(True)

        self.buy_btn = QPushButton("Buy")
        self.buy_btn.setObjectName("ticketBuy")
        self.sell_btn = QPushButton("Sell")
        self.sell_btn.setObjectName("ticketSell")
        self.side_group = QButtonGroup(self)
        for b in (self.buy_btn, self.sell_btn):
            b.setCheckable(True)
            b.setMinimumHeight(28)
            self.side_group.addButton(b)
        self.buy_btn.setChecked(True)
        self.side_group.buttonToggled.connect(lambda *_: self._changed())

        self.type_box = QComboBox()
        self.type_box.setObjectName("ticketType")
        for text, data in TICKET_TYPES:
            self.type_box.addItem(text, data)
        self.type_box.setToolTip(
            "Bracket: an entry plus a take-profit limit and a stop-loss stop that wait for the entry "
            "to fill; when one exits, the other is cancelled.\nOCO: a limit and a stop on the same side; "
            "the first to fill cancels the other."
        )
        self.entry_box = _unit_box("ticketEntry", (("Market", "market"), ("Limit", "limit")),
                                   "How the bracket's entry is placed")
        self.qty_edit = QLineEdit("100")
        self.qty_edit.setObjectName("ticketQty")
        self.qty_unit = _unit_box("ticketQtyUnit", (("shares", "shares"), ("$", "dollars")),
                                  "Quantity in shares, or a dollar amount (rounded down to whole shares)")
        self.qty_hint = QLabel("")
        self.qty_hint.setObjectName("hint")
        self.limit_edit = self._price_edit("ticketLimit", "Limit price (click the chart to set it)")
        self.stop_edit = self._price_edit("ticketStop", "Stop price (click the chart to set it)")
        self.trail_edit = self._price_edit("ticketTrail", "How far the stop trails the best price")
        self.trail_unit = _unit_box("ticketTrailUnit", (("$", "amount"), ("%", "percent")), "Trail in dollars or percent")
        self.tp_edit = self._price_edit("ticketTakeProfit", "Take-profit: a price, or % from the entry price")
        self.tp_unit = _unit_box("ticketTakeProfitUnit", (("price", "price"), ("%", "percent")), "A price or % from the entry")
        self.sl_edit = self._price_edit("ticketStopLoss", "Stop-loss: a price, or % from the entry price")
        self.sl_unit = _unit_box("ticketStopLossUnit", (("price", "price"), ("%", "percent")), "A price or % from the entry")
        self.tif_box = QComboBox()
        self.tif_box.setObjectName("ticketTif")
        for text, tif in TIFS:
            self.tif_box.addItem(text, tif.value)
        self.tif_box.setToolTip("DAY: until today's close (16:00 New York) · GTC: until cancelled · "
                                "IOC: fill what can be filled now, cancel the rest · FOK: all now or nothing")

        self.est_price = QLabel("—")
        self.est_price.setObjectName("ticketEstPrice")
        self.est_cost = QLabel("—")
        self.est_cost.setObjectName("ticketEstCost")
        self.bp_after = QLabel("—")
        self.bp_after.setObjectName("ticketBuyingPowerAfter")
        self.exits = QLabel("")
        self.exits.setObjectName("ticketExits")
        self.exits.setToolTip("The bracket's exit prices, as they will be placed")
        self.validation = QLabel("")
        self.validation.setObjectName("ticketValidation")
        self.validation.setWordWrap(True)
        self.place_btn = QPushButton("Place order")
        self.place_btn.setObjectName("ticketPlace")
        self.place_btn.setMinimumHeight(34)
        self.place_btn.clicked.connect(self.place)
        self.buy_mkt_btn = QPushButton("Buy mkt")
        self.buy_mkt_btn.setObjectName("ticketBuyMarket")
        self.buy_mkt_btn.setToolTip(f"Buy the quantity at market now ({HOTKEY_BUY})")
        self.sell_mkt_btn = QPushButton("Sell mkt")
        self.sell_mkt_btn.setObjectName("ticketSellMarket")
        self.sell_mkt_btn.setToolTip(f"Sell the quantity at market now ({HOTKEY_SELL})")
        self.flatten_btn = QPushButton("Flatten")
        self.flatten_btn.setObjectName("ticketFlatten")
        self.flatten_btn.setToolTip(f"Cancel this symbol's orders and close its position at market ({HOTKEY_FLATTEN})")
        self.buy_mkt_btn.clicked.connect(lambda: self.market(Side.BUY))
        self.sell_mkt_btn.clicked.connect(lambda: self.market(Side.SELL))
        self.flatten_btn.clicked.connect(self.flatten)
        self.status = QLabel("")
        self.status.setObjectName("ticketStatus")
        self.status.setWordWrap(True)
        for key, fn in ((HOTKEY_BUY, lambda: self.market(Side.BUY)), (HOTKEY_SELL, lambda: self.market(Side.SELL)),
                        (HOTKEY_FLATTEN, self.flatten)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(fn)

        # ---- layout
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        sides = QHBoxLayout()
        sides.setSpacing(0)
        sides.addWidget(self.buy_btn)
        sides.addWidget(self.sell_btn)
        self.form.addRow("Account", self.chooser)
        self.form.addRow("Symbol", self.symbol_edit)
        self.form.addRow(self.quote_label)
        self.form.addRow("Side", sides)
        self.form.addRow("Type", self.type_box)
        self.form.addRow("Entry", self.entry_box)
        self.form.addRow("Quantity", self._pair(self.qty_edit, self.qty_unit))
        self.form.addRow("", self.qty_hint)
        self.form.addRow("Limit price", self.limit_edit)
        self.form.addRow("Stop price", self.stop_edit)
        self.form.addRow("Trail", self._pair(self.trail_edit, self.trail_unit))
        self.form.addRow("Take profit", self._pair(self.tp_edit, self.tp_unit))
        self.form.addRow("Stop loss", self._pair(self.sl_edit, self.sl_unit))
        self.form.addRow("Time in force", self.tif_box)
        line = QFrame()
        line.setFixedHeight(1)
        line.setStyleSheet("background: palette(mid);")
        est = QFormLayout()
        est.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for lbl in (self.est_price, self.est_cost, self.bp_after, self.exits):
            lbl.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        est.addRow("Est. price", self.est_price)
        self._cost_label = QLabel("Est. cost")
        est.addRow(self._cost_label, self.est_cost)
        est.addRow("Buying power after", self.bp_after)
        est.addRow("Exits", self.exits)
        self.est_form = est
        quick = QHBoxLayout()
        quick.addWidget(self.buy_mkt_btn)
        quick.addWidget(self.sell_mkt_btn)
        quick.addWidget(self.flatten_btn)
        self.hotkeys = QLabel(f"Hotkeys: {HOTKEY_BUY} buy · {HOTKEY_SELL} sell at market · {HOTKEY_FLATTEN} flatten. "
                              "Click the chart to set a price.")
        self.hotkeys.setObjectName("hint")
        self.hotkeys.setWordWrap(True)
        # The form scrolls when the dock is short, so the ticket never forces the window taller.
        self.body = QWidget()
        self.body.setObjectName("ticketBody")
        scroll = QScrollArea()
        scroll.setObjectName("ticketScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        lay = QVBoxLayout(self.body)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addLayout(self.form)
        lay.addWidget(line)
        lay.addLayout(est)
        lay.addWidget(self.validation)
        lay.addWidget(self.place_btn)
        lay.addLayout(quick)
        lay.addWidget(self.status)
        lay.addWidget(self.hotkeys)
        lay.addStretch(1)
        # as wide as the form needs (no horizontal scrolling), plus the vertical scroll bar
        scroll.setMinimumWidth(self.body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())

        for w in (self.type_box, self.entry_box, self.qty_unit, self.trail_unit, self.tp_unit, self.sl_unit, self.tif_box):
            w.currentIndexChanged.connect(lambda *_: self._changed())
        self.type_box.currentIndexChanged.connect(lambda *_: self._on_type_changed())
        self.entry_box.currentIndexChanged.connect(lambda *_: self._on_type_changed())
        for e in (self.qty_edit, self.limit_edit, self.stop_edit, self.trail_edit, self.tp_edit, self.sl_edit):
            e.textChanged.connect(lambda *_: self._changed())
        # bound methods, not lambdas: Qt drops them when the ticket is destroyed
        session.summary_changed.connect(self._changed)
        session.position_changed.connect(self._changed)
        session.quotes_changed.connect(self._on_quotes)
        session.command_failed.connect(self._on_failed)
        style.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self._on_type_changed()

    # ------------------------------------------------------------------ helpers
    def _price_edit(self, name: str, tip: str) -> QLineEdit:
        e = QLineEdit()
        e.setObjectName(name)
        e.setToolTip(tip)
        e.setPlaceholderText("0.00")
        e.installEventFilter(self)
        return e

    @staticmethod
    def _pair(a: QWidget, b: QWidget) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(a, 1)
        h.addWidget(b)
        return w

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FocusIn and isinstance(obj, QLineEdit):
            self._price_target = obj
        return super().eventFilter(obj, event)

    def _restyle(self, *_: object) -> None:
        up, down = style.CHART.up, style.CHART.down
        self.buy_btn.setStyleSheet(
            f"QPushButton {{ border: 1px solid {up}; padding: 4px; }}"
            f"QPushButton:checked {{ background: {up}; color: white; font-weight: bold; }}")
        self.sell_btn.setStyleSheet(
            f"QPushButton {{ border: 1px solid {down}; padding: 4px; }}"
            f"QPushButton:checked {{ background: {down}; color: white; font-weight: bold; }}")
        self.validation.setStyleSheet(f"color: {down};")
        self._style_place(force=True)

    def _style_place(self, force: bool = False) -> None:
        if self.side is self._styled_side and not force:
            return
        self._styled_side = self.side
        col = style.CHART.up if self.side is Side.BUY else style.CHART.down
        self.place_btn.setStyleSheet(
            f"QPushButton {{ background: {col}; color: white; font-weight: bold; border-radius: 3px; }}"
            f"QPushButton:disabled {{ background: palette(button); color: {style.CHART.crosshair};"
            " border: 1px solid palette(mid); }")

    # ------------------------------------------------------------------ state
    @property
    def side(self) -> Side:
        return Side.BUY if self.buy_btn.isChecked() else Side.SELL

    @property
    def kind(self) -> str:
        return str(self.type_box.currentData())

    def set_side(self, side: Side) -> None:
        (self.buy_btn if side is Side.BUY else self.sell_btn).setChecked(True)

    def set_type(self, kind: str) -> None:
        i = self.type_box.findData(kind)
        if i < 0:
            raise ValueError(f"unknown ticket order type {kind!r}")
        self.type_box.setCurrentIndex(i)

    def set_symbol(self, symbol: str) -> None:
        """Trade ``symbol`` (asks the quote driver for a quote right away)."""
        symbol = symbol.strip().upper()
        if self.symbol_edit.text() != symbol:
            self.symbol_edit.setText(symbol)
        if symbol == self.symbol:
            return
        self.symbol = symbol
        self.session.watch(self._watch_key, [symbol])
        if symbol:
            self.session.poll_now()
        self._on_quotes()

    def set_clicked_price(self, price: float) -> None:
        """A price clicked on the chart goes into the price field in focus (see module docstring)."""
        target = self._price_target
        if target is None or not self._row_visible(target):
            target = next((e for e in self._price_fields() if self._row_visible(e)), None)
        if target is None:
            self.status.setText("Choose a limit, stop or bracket order to set a price from the chart.")
            return
        target.setText(f"{Decimal(repr(price)).quantize(CENT)}")
        self._price_target = target

    def _price_fields(self) -> list[QLineEdit]:
        k = self.kind
        if k == "stop_limit":
            return [self.stop_edit, self.limit_edit]
        if k == "bracket":
            return ([self.limit_edit] if self.entry_box.currentData() == "limit" else []) + [self.tp_edit, self.sl_edit]
        return [self.limit_edit, self.stop_edit, self.tp_edit, self.sl_edit]

    def _row_visible(self, w: QWidget) -> bool:
        """Whether ``w`` (a form field, or a field inside a row's container) is on a shown row."""
        for cand in (w, w.parentWidget()):
            if cand is None:
                continue
            r, _role = self.form.getWidgetPosition(cand)
            if r >= 0:
                return self.form.isRowVisible(r)
        return False

    def _on_type_changed(self) -> None:
        k = self.kind
        bracket = k == "bracket"
        limit_entry = bracket and self.entry_box.currentData() == "limit"
        show = {
            self.entry_box: bracket,
            self.limit_edit: k in ("limit", "stop_limit", "oco") or limit_entry,
            self.stop_edit: k in ("stop", "stop_limit", "oco"),
            self.trail_edit.parentWidget(): k == "trailing_stop",
            self.tp_edit.parentWidget(): bracket,
            self.sl_edit.parentWidget(): bracket,
        }
        for w, vis in show.items():
            self.form.setRowVisible(w, vis)
        if bracket and self.tif_box.currentData() in ("ioc", "fok"):
            self.tif_box.setCurrentIndex(1)  # GTC: a bracket's exits outlive the day by default
        self._price_target = None
        self._changed()

    def _on_quotes(self) -> None:
        q = self.session.quote(self.symbol) if self.symbol else None
        if not self.symbol:
            self.quote_label.setText("Open a symbol in the chart or type one.")
        elif q is None:
            self.quote_label.setText(f"Waiting for a quote… ({self.session.quote_label})")
        else:
            stale = self._quote_problem()
            label = "stale — offline" if stale else self.session.quote_label
            self.quote_label.setText(f"Bid {fmt.price(q.bid)} · Ask {fmt.price(q.ask)}  ({label})")
        self.quote_label.setStyleSheet(f"color: {style.CHART.down};" if q is not None and self._quote_problem() else "")
        self.quote_label.setToolTip(self.session.quote_description)
        self._changed()

    def _quote_problem(self) -> str:
        """Why the current quote must not be traded on silently ("" when it may)."""
        fn = getattr(self.session, "quote_problem", None)
        return str(fn(self.symbol)) if fn is not None and self.symbol else ""

    def _on_failed(self, text: str) -> None:
        if self.isVisible():
            self.status.setText(text)
            self.status.setStyleSheet(f"color: {style.CHART.down};")

    # ------------------------------------------------------------------ building the order
    def spec(self) -> TicketSpec:
        """What the ticket's fields say now (as typed; the engine checks them)."""
        return TicketSpec(
            symbol=self.symbol, side=self.side, kind=TicketKind(self.kind), qty=self.qty_edit.text(),
            qty_in_dollars=self.qty_unit.currentData() == "dollars",
            limit=self.limit_edit.text(), stop=self.stop_edit.text(), trail=self.trail_edit.text(),
            trail_percent=self.trail_unit.currentData() == "percent",
            take_profit=self.tp_edit.text(), take_profit_percent=self.tp_unit.currentData() == "percent",
            stop_loss=self.sl_edit.text(), stop_loss_percent=self.sl_unit.currentData() == "percent",
            limit_entry=self.entry_box.currentData() == "limit", tif=TimeInForce(self.tif_box.currentData()),
        )

    def _quote(self) -> Quote | None:
        return self.session.quote(self.symbol) if self.symbol else None

    def build_requests(self) -> list[OrderRequest]:
        """The order(s) the ticket describes now (two for OCO). Raises ``TicketError``."""
        return list(build_requests(self.spec(), self._quote()).requests)

    def _set_qty_hint(self, text: str) -> None:
        self.qty_hint.setText(text)
        self.form.setRowVisible(self.qty_hint, bool(text))

    def _changed(self, *_: object) -> None:
        self._style_place()
        s = self.session.summary
        pos = self.session.positions.get(self.symbol)
        check = check_ticket(self.spec(), self._quote(), buying_power=s.buying_power if s is not None else None,
                             kind=s.kind if s is not None else None, position_qty=pos.qty if pos is not None else 0)
        stale = self._quote_problem()
        if stale and stale not in check.problems:  # never send on a stale quote without saying so
            check = replace(check, problems=(*check.problems, f"{stale}; nothing is sent until a fresh quote arrives"))
        self.check = check
        self._set_qty_hint(check.shares_note)
        self._show(check)

    def _show(self, check: TicketCheck) -> None:
        p = check.preview
        req = check.requests[0] if check.requests else None
        self.preview = p
        self.problems = list(check.problems)
        sell = self.side is Side.SELL and self.kind != "oco"
        self._cost_label.setText("Est. proceeds" if sell and self.session.summary is not None
                                 and self.session.summary.kind.value == "cash" else "Est. cost")
        if p is None:
            self.est_price.setText("—")
            self.est_cost.setText("—")
            self.bp_after.setText("—")
            self.bp_after.setStyleSheet("")
        else:
            self.est_price.setText(fmt.price(p.price))
            shown = p.notional if sell and self.session.summary is not None and \
                self.session.summary.kind.value == "cash" else p.cost
            self.est_cost.setText(fmt.money(shown))
            self.bp_after.setText(fmt.money(p.buying_power_after))
            neg = p.buying_power_after is not None and p.buying_power_after < 0
            self.bp_after.setStyleSheet(f"color: {style.CHART.down};" if neg else "")
        bracket = req is not None and (req.take_profit is not None or req.stop_loss is not None)
        if bracket:
            assert req is not None
            self.exits.setText(f"TP {fmt.price(req.take_profit)} · SL {fmt.price(req.stop_loss)}")
        self.est_form.setRowVisible(self.exits, bracket)
        msg = check.message
        self.validation.setText(msg)
        self.validation.setVisible(bool(msg))
        self.place_btn.setEnabled(check.ok)
        verb = "Buy" if self.side is Side.BUY else "Sell"
        if req is not None:
            label = dict((d, t) for t, d in TICKET_TYPES)[self.kind].split(" (")[0].lower()
            self.place_btn.setText(f"{verb} {req.qty:,} {req.symbol} · {label}")
        else:
            self.place_btn.setText(f"{verb} {self.symbol}".strip())

    # ------------------------------------------------------------------ commands
    def place(self) -> OrderView | None:
        """Place the ticket's order(s) in the chosen account; returns the (first) order."""
        self._changed()
        if self.check is None or not self.check.ok:
            return None
        placed = self.session.submit_all(self.check.requests)
        return self._placed(placed[0] if placed else None)

    def market(self, side: Side) -> OrderView | None:
        """Buy or sell the ticket's quantity at market now (the hotkeys)."""
        if not self.symbol:
            self.status.setText("No symbol to trade.")
            return None
        stale = self._quote_problem()
        if stale:
            self._on_failed(f"{stale[:1].upper()}{stale[1:]}; nothing was sent.")
            return None
        spec = market_spec(self.symbol, side, self.qty_edit.text(), self.qty_unit.currentData() == "dollars")
        try:
            [req] = build_requests(spec, self._quote()).requests
        except TicketError as exc:
            msg = str(exc)
            self._on_failed(msg[:1].upper() + msg[1:])
            return None
        return self._placed(self.session.submit(req))

    def flatten(self) -> OrderView | None:
        if not self.symbol:
            return None
        pos = self.session.positions.get(self.symbol)
        o = self.session.flatten(self.symbol)
        if o is None and (pos is None or pos.qty == 0):
            self.status.setStyleSheet("")
            self.status.setText(f"No {self.symbol} position to flatten; its working orders were cancelled.")
        return self._placed(o) if o is not None else None

    def _placed(self, order: OrderView | None) -> OrderView | None:
        if order is None:
            return None
        if order.state.value != "rejected":
            self.status.setStyleSheet("")
            self.status.setText(
                f"{order.side.value.upper()} {order.qty:,} {order.symbol} "
                f"{order.type.value.replace('_', ' ')} {order.state.value}"
                + (" with take-profit/stop-loss" if order.role.value == "entry" else ""))
            self.order_placed.emit(order)
            self.session.poll_now()
        return order

    def follow_chart(self, chart: Any) -> None:
        """Trade the symbol ``chart`` shows and take prices clicked on it."""
        chart.symbol_changed.connect(self.set_symbol)
        chart.price_clicked.connect(self.set_clicked_price)
        if getattr(chart, "symbol", None):
            self.set_symbol(chart.symbol)


__all__ = ["HOTKEY_BUY", "HOTKEY_FLATTEN", "HOTKEY_SELL", "OrderTicketWidget", "TicketError"]
