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

Risk before sending (``engine.paper.risk``): for a bracket, and for a stop that protects
the position, the ticket shows the $ risk, the $ reward, reward:risk and the risk as % of
equity, fees included (the round trip's estimated commissions); "Size by risk" ($ or % of
equity, with the bracket's stop-loss) sets the quantity to the whole shares that risk no
more than that. The estimated commission of the order (the account's model) is shown too.

Prices typed for one symbol never carry over to another: when the symbol changes, price
fields are cleared (a bracket leg given in % stays: it is recomputed from the new entry).
With no quote the ticket says why (the session's reason) and sending is disabled.

Sending: the engine's problems (``TicketCheck.problems``) disable it with the reason shown;
its questions (``TicketCheck.confirm``) and, when order confirmation is on (setting
``trading/confirm_orders``, on by default) for an order above ``trading/confirm_above``
dollars, a one-glance summary are asked first ("Don't ask again" turns the summary off;
the engine's questions are always asked). Orders go to the broker thread
(``TradingSession.send``); the result comes back on the GUI thread.

Connecting: the shell builds the ticket for the first frame with no session and opens the
broker after it (``attach_session``); until then the ticket says "Connecting paper
account…", its send buttons are disabled and the hotkeys send nothing; the symbol it is
given is kept and quoted once the session is there.

Hotkeys (window-wide while the ticket is shown; ignored while typing in a text field; only
while "Hotkey trading" is on, setting ``trading/hotkeys``, off by default, so a stray
Shift+B buys nothing): Shift+B buys and Shift+S sells the ticket's quantity at market,
Shift+F flattens the symbol. A click on the chart's price pane puts that price into the
ticket's price field that had the focus last (the first price field of the order type
otherwise).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import formatting as fmt
from engine.paper.money import CENT
from engine.paper.orders import OrderRequest, OrderView, Quote, Side, TimeInForce
from engine.paper.preview import OrderPreview
from engine.paper.risk import RiskFigures, risk_budget, risk_reward, size_for_risk
from engine.paper.ticket import (
    KIND_LABELS,
    TicketCheck,
    TicketError,
    TicketKind,
    TicketSpec,
    build_requests,
    check_ticket,
    market_spec,
    parse_decimal,
    touch_price,
)
from widgets import style

if TYPE_CHECKING:  # the session, the account chooser and the dialog come after the first frame
    from widgets.trading.account import AccountChooser
    from widgets.trading.dialogs import OrderConfirmDialog
    from widgets.trading.session import TradingSession

TICKET_TYPES = tuple((label, kind.value) for kind, label in KIND_LABELS.items())
TIFS = (("DAY", TimeInForce.DAY), ("GTC", TimeInForce.GTC), ("IOC", TimeInForce.IOC), ("FOK", TimeInForce.FOK))
HOTKEY_BUY, HOTKEY_SELL, HOTKEY_FLATTEN = "Shift+B", "Shift+S", "Shift+F"
#: settings keys (declared with types, defaults and checks in ``app/features/trading.py``)
CONFIRM_KEY, CONFIRM_ABOVE_KEY, HOTKEYS_KEY = "trading/confirm_orders", "trading/confirm_above", "trading/hotkeys"
DEFAULT_CONFIRM_ABOVE = 5000
CONNECTING = "Connecting paper account…"


class Prefs(Protocol):
    """Where the ticket reads and remembers its settings (the app's ``AppSettings``)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


class MemoryPrefs(dict[str, Any]):
    """Settings of a ticket outside the app (tests, embedding): no confirmation dialog,
    hotkey trading on, unless given otherwise."""

    def __init__(self, **values: Any) -> None:
        super().__init__({CONFIRM_KEY: False, CONFIRM_ABOVE_KEY: DEFAULT_CONFIRM_ABOVE, HOTKEYS_KEY: True})
        self.update({k.replace("__", "/"): v for k, v in values.items()})

    def set(self, key: str, value: Any) -> None:
        self[key] = value


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

    def __init__(self, session: TradingSession | None, parent: QWidget | None = None, *,
                 prefs: Prefs | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("orderTicketWidget")
        self.session: TradingSession | None = None  # set by attach_session (see module docstring)
        self.prefs: Prefs = prefs if prefs is not None else MemoryPrefs()
        self.risk: RiskFigures | None = None
        self.confirm_dialog: "OrderConfirmDialog | None" = None
        self._sizing_qty = False
        self.symbol = ""
        self.preview: OrderPreview | None = None
        self.problems: list[str] = []
        self.check: TicketCheck | None = None
        self._watch_key = f"ticket:{id(self)}"
        self._price_target: QLineEdit | None = None
        self._styled_side: Side | None = None

        self.chooser: AccountChooser | None = None
        # until the session is attached: a disabled combo of the chooser's size saying so
        self.chooser_slot = QWidget()
        self.chooser_slot.setObjectName("ticketAccountSlot")
        slot = QHBoxLayout(self.chooser_slot)
        slot.setContentsMargins(0, 0, 0, 0)
        self.connecting_box = QComboBox()
        self.connecting_box.setObjectName("ticketConnecting")
        self.connecting_box.addItem("Connecting…")
        self.connecting_box.setToolTip(CONNECTING)
        self.connecting_box.setEnabled(False)
        # as narrow as the chooser would be: the placeholder must not widen the dock
        self.connecting_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.connecting_box.setMinimumContentsLength(5)
        self.connecting_new = QToolButton(text="New…")
        self.connecting_new.setEnabled(False)
        slot.addWidget(self.connecting_box, 1)
        slot.addWidget(self.connecting_new)
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
        self.risk_edit = QLineEdit()
        self.risk_edit.setObjectName("ticketRiskAmount")
        self.risk_edit.setPlaceholderText("e.g. 200")
        self.risk_edit.setToolTip("Size by risk: the most to lose if the stop-loss fills at its price (fees "
                                  "included); the quantity follows. Empty: type the quantity.")
        self.risk_unit = _unit_box("ticketRiskUnit", (("$", "dollars"), ("% equity", "percent")),
                                   "Risk in dollars or in % of the account's equity")
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
        self.est_fee = QLabel("—")
        self.est_fee.setObjectName("ticketEstCommission")
        self.risk_label = QLabel("")
        self.risk_label.setObjectName("ticketRisk")
        self.risk_label.setTextFormat(Qt.TextFormat.RichText)
        self.risk_label.setWordWrap(True)
        self.risk_label.setToolTip("If the stop fills at its price / if the target fills; both after the round "
                                   "trip's estimated commissions. Slippage through the stop can lose more.")
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
        self.buy_mkt_btn.setToolTip(f"Buy the quantity at market now ({HOTKEY_BUY} with hotkey trading on)")
        self.sell_mkt_btn = QPushButton("Sell mkt")
        self.sell_mkt_btn.setObjectName("ticketSellMarket")
        self.sell_mkt_btn.setToolTip(f"Sell the quantity at market now ({HOTKEY_SELL} with hotkey trading on)")
        self.flatten_btn = QPushButton("Flatten")
        self.flatten_btn.setObjectName("ticketFlatten")
        self.flatten_btn.setToolTip("Cancel this symbol's orders and close its position at market "
                                    f"({HOTKEY_FLATTEN} with hotkey trading on)")
        self.buy_mkt_btn.clicked.connect(lambda: self.market(Side.BUY))
        self.sell_mkt_btn.clicked.connect(lambda: self.market(Side.SELL))
        self.flatten_btn.clicked.connect(self.flatten)
        self.status = QLabel("")
        self.status.setObjectName("ticketStatus")
        self.status.setWordWrap(True)
        self.shortcuts: dict[str, QShortcut] = {}
        for key, fn in ((HOTKEY_BUY, lambda: self.market(Side.BUY)), (HOTKEY_SELL, lambda: self.market(Side.SELL)),
                        (HOTKEY_FLATTEN, self.flatten)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(lambda fn=fn, key=key: self._on_hotkey(key, fn))
            self.shortcuts[key] = sc
        self.hotkeys_check = QCheckBox("Hotkey trading")
        self.hotkeys_check.setObjectName("ticketHotkeyTrading")
        self.hotkeys_check.setToolTip(f"{HOTKEY_BUY} buy / {HOTKEY_SELL} sell the quantity at market, {HOTKEY_FLATTEN} "
                                      "flatten, without a confirmation. Off: those keys do nothing.")
        self.hotkeys_check.setChecked(self._pref_bool(HOTKEYS_KEY, False))
        self.hotkeys_check.toggled.connect(lambda on: self._set_pref(HOTKEYS_KEY, on))
        self.confirm_check = QCheckBox("")
        self.confirm_check.setObjectName("ticketConfirmOrders")
        self.confirm_check.setToolTip("Show a summary to confirm before sending an order above this value "
                                      f"(setting {CONFIRM_ABOVE_KEY})")
        self.confirm_check.setChecked(self._pref_bool(CONFIRM_KEY, True))
        self.confirm_check.toggled.connect(lambda on: self._set_pref(CONFIRM_KEY, on))
        self._sync_confirm_text()

        # ---- layout
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        sides = QHBoxLayout()
        sides.setSpacing(0)
        sides.addWidget(self.buy_btn)
        sides.addWidget(self.sell_btn)
        self.form.addRow("Account", self.chooser_slot)
        self.form.addRow("Symbol", self.symbol_edit)
        self.form.addRow(self.quote_label)
        self.form.addRow("Side", sides)
        self.form.addRow("Type", self.type_box)
        self.form.addRow("Entry", self.entry_box)
        self.form.addRow("Size by risk", self._pair(self.risk_edit, self.risk_unit))
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
        for lbl in (self.est_price, self.est_cost, self.est_fee, self.bp_after, self.exits, self.risk_label):
            lbl.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        est.addRow("Est. price", self.est_price)
        self._cost_label = QLabel("Est. cost")
        est.addRow(self._cost_label, self.est_cost)
        est.addRow("Est. commission", self.est_fee)
        est.addRow("Buying power after", self.bp_after)
        est.addRow("Exits", self.exits)
        est.addRow("Risk / reward", self.risk_label)
        self.est_form = est
        quick = QHBoxLayout()
        quick.addWidget(self.buy_mkt_btn)
        quick.addWidget(self.sell_mkt_btn)
        quick.addWidget(self.flatten_btn)
        self.hotkeys = QLabel(f"Hotkeys (with hotkey trading on): {HOTKEY_BUY} buy · {HOTKEY_SELL} sell at market · "
                              f"{HOTKEY_FLATTEN} flatten. Click the chart to set a price.")
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
        lay.addWidget(self.confirm_check)
        lay.addWidget(self.hotkeys_check)
        lay.addWidget(self.status)
        lay.addWidget(self.hotkeys)
        lay.addStretch(1)
        # as wide as the form needs (no horizontal scrolling), plus the vertical scroll bar
        scroll.setMinimumWidth(self.body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())

        for w in (self.type_box, self.entry_box, self.qty_unit, self.trail_unit, self.tp_unit, self.sl_unit, self.tif_box,
                  self.risk_unit):
            w.currentIndexChanged.connect(lambda *_: self._changed())
        self.type_box.currentIndexChanged.connect(lambda *_: self._on_type_changed())
        self.entry_box.currentIndexChanged.connect(lambda *_: self._on_type_changed())
        for e in (self.qty_edit, self.limit_edit, self.stop_edit, self.trail_edit, self.tp_edit, self.sl_edit,
                  self.risk_edit):
            e.textChanged.connect(lambda *_: self._changed())
        style.theme_signals().changed.connect(self._restyle)
        self._restyle()
        self._on_type_changed()
        if session is not None:
            self.attach_session(session)

    def attach_session(self, session: TradingSession) -> None:
        """Trade through ``session`` from now on: the account chooser replaces the
        "Connecting…" box, the symbol given so far is watched and quoted, sending is enabled
        as the checks allow. Raises ``RuntimeError`` if a session is attached already."""
        if self.session is not None:
            raise RuntimeError("the ticket already has its session")
        from widgets.trading.account import AccountChooser

        self.session = session
        self.chooser = AccountChooser(session)
        lay = self.chooser_slot.layout()
        for placeholder in (self.connecting_box, self.connecting_new):
            lay.removeWidget(placeholder)
            placeholder.deleteLater()
        lay.addWidget(self.chooser, 1)
        for b in (self.buy_mkt_btn, self.sell_mkt_btn, self.flatten_btn):
            b.setEnabled(True)
        # bound methods, not lambdas: Qt drops them when the ticket is destroyed
        session.summary_changed.connect(self._changed)
        session.position_changed.connect(self._changed)
        session.quotes_changed.connect(self._on_quotes)
        session.command_failed.connect(self._on_failed)
        if self.symbol:
            session.watch(self._watch_key, [self.symbol])
            session.poll_now()
        self._on_quotes()

    def _connecting(self) -> bool:
        """True (and the ticket says so, sending disabled) while no session is attached."""
        if self.session is not None:
            return False
        self.quote_label.setText(CONNECTING)
        self.quote_label.setStyleSheet("")
        self.validation.setText("")
        self.validation.setVisible(False)
        # the rows an estimate would fill stay hidden, as with no order yet
        self._set_qty_hint("")
        self.est_form.setRowVisible(self.risk_label, False)
        self.est_form.setRowVisible(self.exits, False)
        self.place_btn.setEnabled(False)
        self.place_btn.setText(f"{'Buy' if self.side is Side.BUY else 'Sell'} {self.symbol}".strip())
        for b in (self.buy_mkt_btn, self.sell_mkt_btn, self.flatten_btn):
            b.setEnabled(False)
        return True

    # ------------------------------------------------------------------ settings
    def _pref_bool(self, key: str, default: bool) -> bool:
        v = self.prefs.get(key, default)
        return v if isinstance(v, bool) else str(v).strip().lower() in ("true", "1", "yes", "on")

    def _set_pref(self, key: str, value: Any) -> None:
        try:
            self.prefs.set(key, value)
        except ValueError as exc:  # a value the settings schema refuses: say so, keep the old one
            self.status.setText(str(exc))

    def confirm_above(self) -> Decimal:
        """Orders above this notional (dollars) are confirmed while confirmation is on."""
        try:
            d = parse_decimal(str(self.prefs.get(CONFIRM_ABOVE_KEY, DEFAULT_CONFIRM_ABOVE)))
        except ValueError:
            d = None
        return d if d is not None and d >= 0 else Decimal(DEFAULT_CONFIRM_ABOVE)

    def _sync_confirm_text(self) -> None:
        above = self.confirm_above()
        self.confirm_check.setText(f"Confirm orders above {fmt.money(above)}" if above else "Confirm every order")

    def _on_hotkey(self, key: str, fn: Callable[[], object]) -> None:
        if not self.hotkeys_check.isChecked():
            self.status.setStyleSheet("")
            self.status.setText(f"{key} did nothing: hotkey trading is off (tick \"Hotkey trading\" to use it).")
            return
        fn()

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
        """Trade ``symbol`` (asks the quote driver for a quote right away). Prices typed for
        the previous symbol are cleared; % legs and % trails stay (they follow the entry).
        An OCC option symbol (padded or compact) trades that contract (quantity in contracts)."""
        from engine.paper.contracts import compact_symbol

        symbol = compact_symbol(symbol.strip().upper())
        if self.symbol_edit.text() != symbol:
            self.symbol_edit.setText(symbol)
        if symbol == self.symbol:
            return
        previous = self.symbol
        self.symbol = symbol
        if previous:
            self._clear_prices(previous)
        if self.session is not None:
            self.session.watch(self._watch_key, [symbol])
            if symbol:
                self.session.poll_now()
        self._on_quotes()

    def _clear_prices(self, previous: str) -> None:
        kept_percent = {self.tp_edit: self.tp_unit, self.sl_edit: self.sl_unit, self.trail_edit: self.trail_unit}
        cleared = []
        for e in (self.limit_edit, self.stop_edit, self.trail_edit, self.tp_edit, self.sl_edit):
            unit = kept_percent.get(e)
            if e.text().strip() and not (unit is not None and unit.currentData() == "percent"):
                e.blockSignals(True)
                e.clear()
                e.blockSignals(False)
                cleared.append(e)
        if cleared:
            self.status.setStyleSheet("")
            self.status.setText(f"Prices cleared: they were for {previous}.")

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
            self.risk_edit.parentWidget(): bracket,
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
        if self._connecting():
            return
        q = self.session.quote(self.symbol) if self.symbol else None
        if not self.symbol:
            self.quote_label.setText("Open a symbol in the chart or type one.")
        elif q is None:
            why = self._no_quote_reason()
            self.quote_label.setText(f"No quote: {why}" if why else f"Waiting for a quote… ({self.session.quote_label})")
        else:
            stale = self._quote_problem()
            label = "stale — offline" if stale else self.session.quote_label
            self.quote_label.setText(f"Bid {fmt.price(q.bid)} · Ask {fmt.price(q.ask)}  ({label})")
        bad = (q is not None and self._quote_problem()) or (q is None and self._no_quote_reason())
        self.quote_label.setStyleSheet(f"color: {style.CHART.down};" if bad else "")
        self.quote_label.setToolTip(self.session.quote_description)
        self._changed()

    def _quote_problem(self) -> str:
        """Why the current quote must not be traded on silently ("" when it may)."""
        fn = getattr(self.session, "quote_problem", None)
        return str(fn(self.symbol)) if fn is not None and self.symbol else ""

    def _no_quote_reason(self) -> str:
        """Why the symbol has no quote at all ("" when it has one or the reason is unknown)."""
        fn = getattr(self.session, "no_quote_reason", None)
        return str(fn(self.symbol) or "") if fn is not None and self.symbol else ""

    def _check_options(self) -> dict[str, Any]:
        """What ``check_ticket`` needs from the account and session beyond the quote: the
        account's commission model (the estimate includes the fee), the distance beyond which
        the engine asks, and why there is no quote."""
        opts: dict[str, Any] = {"no_quote_reason": self._no_quote_reason()}
        commission = getattr(self.session, "commission", None)
        if commission is not None:
            opts["commission"] = commission()
        dist = getattr(self.session, "max_distance_pct", None)
        if isinstance(dist, Decimal):
            opts["max_distance_pct"] = dist
        return opts

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
        if self._connecting():
            return
        s = self.session.summary
        pos = self.session.positions.get(self.symbol)
        sizing = self._size_by_risk()
        check = check_ticket(self.spec(), self._quote(), buying_power=s.buying_power if s is not None else None,
                             kind=s.kind if s is not None else None, position_qty=pos.qty if pos is not None else 0,
                             **self._check_options())
        extra: list[str] = []
        if sizing:
            extra.append(sizing)
        stale = self._quote_problem()
        if stale and stale not in check.problems:  # never send on a stale quote without saying so
            extra.append(f"{stale}; nothing is sent until a fresh quote arrives")
        if self.symbol and self._quote() is None and not check.problems:  # check_ticket names the reason
            why = self._no_quote_reason()
            extra.append(f"no quote for {self.symbol}: {why}" if why else f"no quote for {self.symbol} yet")
        self.risk, risk_problem = self._risk(check)
        if risk_problem and not check.problems:
            extra.append(risk_problem)
        if extra:
            check = replace(check, problems=(*check.problems, *extra))
        self.check = check
        self._set_qty_hint(check.shares_note)
        self._show(check)

    def _entry_and_stop(self) -> tuple[Decimal | None, Decimal | None]:
        """The bracket's entry reference (the limit, or the touch) and its stop-loss price,
        from the fields as the engine reads them (a % leg measured from that entry)."""
        spec = replace(self.spec(), qty="1", qty_in_dollars=False)
        try:
            [req] = build_requests(spec, self._quote()).requests
        except (TicketError, ValueError):
            return None, None
        entry = req.limit_price if spec.limit_entry else touch_price(spec.side, self._quote())
        return entry, req.stop_loss

    def _size_by_risk(self) -> str:
        """With "Size by risk" filled in on a bracket, set the quantity from it; returns a
        problem ("" when none)."""
        text = self.risk_edit.text().strip()
        active = self.kind == "bracket" and bool(text)
        self.qty_edit.setReadOnly(active)
        self.qty_unit.setEnabled(not active)
        self.qty_edit.setToolTip("From the risk: the whole shares whose stop-loss risks no more than that"
                                 if active else "Quantity in shares, or a dollar amount")
        if not active:
            return ""
        try:
            amount = parse_decimal(text)
        except ValueError:
            return f"size by risk: '{text}' is not a number"
        s = self.session.summary
        entry, stop = self._entry_and_stop()
        if amount is None:
            return ""
        if stop is None or entry is None:
            return "size by risk needs a stop loss and a price to enter at"
        try:
            budget = risk_budget(amount, percent=self.risk_unit.currentData() == "percent",
                                 equity=s.equity if s is not None else None)
            n = size_for_risk(self.side, entry, stop, budget, fee=self.session.fee_model(self.symbol))
        except ValueError as exc:
            return f"size by risk: {exc}"
        if self.qty_unit.currentIndex() != 0:
            self.qty_unit.blockSignals(True)
            self.qty_unit.setCurrentIndex(0)
            self.qty_unit.blockSignals(False)
        self.qty_edit.blockSignals(True)
        self.qty_edit.setText(str(n))
        self.qty_edit.blockSignals(False)
        if n <= 0:
            return f"{fmt.money(budget)} of risk does not cover one share from {fmt.price(entry)} to {fmt.price(stop)}"
        return ""

    def _risk(self, check: TicketCheck) -> tuple[RiskFigures | None, str]:
        """The risk figures of the ticket's order (a bracket, or a stop protecting the
        position), and a problem when its prices make no sense against the entry."""
        req = check.requests[0] if check.requests else None
        p = check.preview
        if req is None or p is None or p.price is None or not isinstance(req.qty, int) or req.qty <= 0:
            return None, ""
        s = self.session.summary
        equity = s.equity if s is not None and s.equity > 0 else None
        fee = self.session.fee_model(self.symbol)
        if req.take_profit is not None or req.stop_loss is not None:
            entry = p.price
            try:
                return risk_reward(req.side, req.qty, entry, stop=req.stop_loss, target=req.take_profit,
                                   equity=equity, fee=fee), ""
            except ValueError as exc:
                return None, str(exc)
        if req.type.value in ("stop", "stop_limit") and req.stop_price is not None:
            last = self.session.last_price(self.symbol)
            held = Side.SELL if req.side is Side.BUY else Side.BUY  # a stop protects the other side
            try:
                return risk_reward(held, req.qty, last, stop=req.stop_price, equity=equity, fee=fee), ""
            except (ValueError, TypeError):
                return None, ""  # an entry stop (on the far side of the market) risks nothing yet
        return None, ""

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
        fee = self._fee_estimate(check)
        self.est_fee.setText("—" if fee is None else fmt.money(fee))
        r = self.risk
        if r is not None:
            parts = []
            if r.risk is not None:
                pct = f" ({fmt.percent(r.risk_pct, signed=False)} of equity)" if r.risk_pct is not None else ""
                parts.append(f'<span style="color:{style.CHART.down}">risk {fmt.money(r.risk)}</span>{pct}')
            second = []
            if r.reward is not None:
                second.append(f'<span style="color:{style.CHART.up}">reward {fmt.money(r.reward)}</span>')
            if r.reward_risk is not None:
                second.append(f"<b>R:R {r.reward_risk}</b>")
            if second:
                parts.append(" · ".join(second))
            self.risk_label.setText("<br>".join(parts))
        self.est_form.setRowVisible(self.risk_label, r is not None)
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

    def _fee_estimate(self, check: TicketCheck) -> Decimal | None:
        """The order's commission (and regulatory fees on a sell, where the account's model
        charges them) at the reference price."""
        p = check.preview
        if p is None:
            return None
        req = check.requests[0] if check.requests else None
        commission = getattr(self.session, "commission", None)
        model = commission() if commission is not None else None
        if model is None or req is None or p.price is None or not isinstance(req.qty, int) or req.qty <= 0:
            return None
        return model.fee(req.qty, p.price, is_sell=req.side is Side.SELL)

    # ------------------------------------------------------------------ commands
    def place(self) -> OrderView | None:
        """Place the ticket's order(s) in the chosen account, after the engine's questions and
        the confirmation (see module docstring). Returns the (first) order when it was sent and
        answered at once (no broker thread, no question); None otherwise (the status says)."""
        self._changed()
        check = self.check
        if check is None or not check.ok or self.session is None:
            return None
        return self._confirm_then_send(check.requests, check, list(check.confirm))

    def _summary_lines(self, reqs: Sequence[OrderRequest], check: TicketCheck | None) -> list[str]:
        req = reqs[0]
        p = check.preview if check is not None else None
        label = "bracket" if req.take_profit is not None or req.stop_loss is not None else \
            ("OCO" if len(reqs) == 2 else req.type.value.replace("_", " "))
        lines = [f"{req.side.value.upper()} {req.qty:,} {req.symbol} · {label} · {req.tif.value.upper()}"]
        prices = []
        if req.limit_price is not None:
            prices.append(f"limit {fmt.price(req.limit_price)}")
        if req.stop_price is not None or (len(reqs) == 2 and reqs[1].stop_price is not None):
            prices.append(f"stop {fmt.price(req.stop_price or reqs[1].stop_price)}")
        if req.take_profit is not None:
            prices.append(f"take profit {fmt.price(req.take_profit)}")
        if req.stop_loss is not None:
            prices.append(f"stop loss {fmt.price(req.stop_loss)}")
        if p is not None and p.price is not None:
            prices.insert(0, f"≈ {fmt.price(p.price)}")
        if prices:
            lines.append(" · ".join(prices))
        if p is not None and p.notional is not None:
            fee = self._fee_estimate(check) if check is not None else None
            lines.append(f"Value {fmt.money(p.notional)}" + (f" · est. commission {fmt.money(fee)}" if fee is not None else ""))
        r = self.risk if check is self.check else None
        if r is not None and r.risk is not None:
            lines.append(f"Risk {fmt.money(r.risk)}" + (f" ({fmt.percent(r.risk_pct, signed=False)} of equity)"
                                                         if r.risk_pct is not None else "")
                         + (f" · reward {fmt.money(r.reward)} · R:R {r.reward_risk}" if r.reward is not None else ""))
        lines.append(f"Account {self.session.account}")
        return lines

    def _needs_summary(self, check: TicketCheck | None) -> bool:
        if not self.confirm_check.isChecked():
            return False
        p = check.preview if check is not None else None
        value = p.notional if p is not None else None
        return value is None or value > self.confirm_above()

    def _confirm_then_send(self, reqs: Sequence[OrderRequest], check: TicketCheck | None,
                           questions: list[str]) -> OrderView | None:
        if not questions and not self._needs_summary(check):
            return self._send(reqs)
        from widgets.trading.dialogs import OrderConfirmDialog  # first confirmation: not on the start-up path

        dlg = OrderConfirmDialog(self._summary_lines(reqs, check), questions, self)
        self.confirm_dialog = dlg

        def answered(ok: bool) -> None:
            self.confirm_dialog = None
            if dlg.dont_ask_again.isChecked() and not questions:
                self.confirm_check.setChecked(False)  # remembered in the settings
            if ok:
                self._send(reqs, confirmed=True)
            else:
                self.status.setStyleSheet("")
                self.status.setText("Not sent.")

        dlg.accepted.connect(lambda: answered(True))
        dlg.rejected.connect(lambda: answered(False))
        dlg.open()
        return None

    def _send(self, reqs: Sequence[OrderRequest], confirmed: bool = False) -> OrderView | None:
        placed: list[OrderView | None] = []

        def done(res: Any) -> None:
            first = res.value[0] if res.value else None
            placed.append(self._placed(first))

        self.status.setStyleSheet("")
        self.status.setText("Sending…")
        kw = {"confirmed": True} if confirmed else {}
        self.session.send_orders(list(reqs), done, **kw)
        return placed[0] if placed else None

    def market(self, side: Side) -> OrderView | None:
        """Buy or sell the ticket's quantity at market now (the hotkeys)."""
        if not self.symbol:
            self.status.setText("No symbol to trade.")
            return None
        if self.session is None:
            self.status.setText(f"{CONNECTING[:-1]}: nothing was sent.")
            return None
        stale = self._quote_problem()
        if stale:
            self._on_failed(f"{stale[:1].upper()}{stale[1:]}; nothing was sent.")
            return None
        spec = market_spec(self.symbol, side, self.qty_edit.text(), self.qty_unit.currentData() == "dollars")
        s = self.session.summary
        pos = self.session.positions.get(self.symbol)
        check = check_ticket(spec, self._quote(), buying_power=s.buying_power if s is not None else None,
                             kind=s.kind if s is not None else None, position_qty=pos.qty if pos is not None else 0,
                             **self._check_options())
        if not check.ok:
            self._on_failed(f"{check.message}; nothing was sent." if check.requests else check.message)
            return None
        return self._confirm_then_send(check.requests, check, list(check.confirm))

    def flatten(self) -> OrderView | None:
        if not self.symbol:
            return None
        if self.session is None:
            self.status.setText(f"{CONNECTING[:-1]}: nothing was sent.")
            return None
        symbol = self.symbol
        pos = self.session.positions.get(symbol)
        placed: list[OrderView | None] = []

        def done(res: Any) -> None:
            o = res.value
            if o is None and res.error is None and (pos is None or pos.qty == 0):
                self.status.setStyleSheet("")
                self.status.setText(f"No {symbol} position to flatten; its working orders were cancelled.")
            placed.append(self._placed(o) if o is not None else None)

        self.session.send_flatten(symbol, done)
        return placed[0] if placed else None

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
