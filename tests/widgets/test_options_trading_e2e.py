"""End to end: the options dock's strategy builder builds an iron condor on the demo chain,
"Send to ticket" confirms and places it with the paper broker as one package, the legs fill at
their bid/ask, the Positions blotter shows each leg's Greeks, and at the expiry close the
contracts settle (the in-the-money short call is assigned into shares, the rest expire)."""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.events import EventBus
from engine.options.chain import demo_chain
from engine.options.yahoo import ChainService
from engine.paper import OrderState, PaperBroker
from engine.paper.contracts import option_contract
from engine.paper.fills import FillConfig, IBKR_PRO_FIXED
from engine.paper.option_quotes import OptionQuotes
from engine.paper.session import PaperSession
from tests.widgets.stubs import SyncTasks
from tests.widgets.trading_stubs import ScriptedQuotes
from widgets.options import OptionsWidget
from widgets.trading.blotters import PositionsWidget
from widgets.trading.session import TradingSession

NY = ZoneInfo("America/New_York")
SYMBOL = "ACME"
EXPIRY = dt.date(2027, 1, 15)
NOW = int(dt.datetime(2026, 12, 1, 11, tzinfo=NY).timestamp() * 1000)
AFTER = int(dt.datetime(2027, 1, 15, 16, 5, tzinfo=NY).timestamp() * 1000)
SHOTS = Path(os.environ.get("OPTRADE_SHOTS", "")) if os.environ.get("OPTRADE_SHOTS") else None


class Clock:
    def __init__(self) -> None:
        self.t = NOW

    def __call__(self) -> int:
        return self.t


@pytest.fixture
def desk(tmp_path, qtbot):
    clock = Clock()
    bus = EventBus()
    broker = PaperBroker.open(tmp_path / "p.sqlite3", bus=bus, clock=clock,
                              default_config=FillConfig(commission=IBKR_PRO_FIXED))
    broker.create_account("Paper", 100_000, "margin")
    shares = ScriptedQuotes()
    spot = demo_chain(SYMBOL).spot
    shares.set(SYMBOL, f"{spot - 0.05:.2f}", f"{spot + 0.05:.2f}")
    closes: dict[str, Decimal] = {}
    core = PaperSession(broker, bus, source=OptionQuotes(shares, demo_chain), clock=clock,
                        close_of=lambda sym, day: closes.get(sym) if day == EXPIRY else None)
    session = TradingSession(core, SyncTasks(), bus.subscribe)
    dock = OptionsWidget(ChainService(None, lambda: "demo").get, SyncTasks(), trading=session)
    qtbot.addWidget(dock)
    dock.resize(1280, 800)
    positions = PositionsWidget(session)
    qtbot.addWidget(positions)
    positions.resize(1280, 800)
    yield dock, positions, core, broker, clock, closes
    session.close()
    core.close()
    broker.close()


def test_iron_condor_from_the_builder_is_sent_filled_shown_with_greeks_and_settled(desk, qtbot):
    dock, positions, core, broker, clock, closes = desk
    dock.set_symbol(SYMBOL)
    dock.tabs_exp.setCurrentIndex(dock.expiries.index(EXPIRY))
    dock.views.setCurrentWidget(dock.builder)
    dock.builder.template.setCurrentText("iron_condor")
    dock.show()
    assert dock.builder.send_btn.isVisible()
    legs = dock.builder.order_legs()
    assert [(side, q) for side, q, _s in legs] == [("buy", 1), ("sell", 1), ("sell", 1), ("buy", 1)]
    seen = []

    def confirm(dialog):
        seen.append(dialog)
        if SHOTS:
            dialog.resize(800, 420)
            dialog.grab().save(str(SHOTS / "confirm.png"))
        return True

    dock.sender_.ask = confirm
    errors: list[str] = []
    dock.sender_.failed.connect(errors.append)
    qtbot.mouseClick(dock.builder.send_btn, Qt.MouseButton.LeftButton)
    assert errors == [] and len(seen) == 1
    (dialog,) = seen
    pv = dialog.preview
    assert pv["problem"] == "" and pv["net"] < 0  # an iron condor is a credit
    # max loss at expiry = the wider wing × 100 − the credit + commission
    strikes = sorted(option_contract(s).strike for _side, _q, s in legs)
    wing = max(strikes[1] - strikes[0], strikes[3] - strikes[2]) * 100
    assert pv["max_loss"] == wing + pv["cash"] + pv["fees"]
    assert any("early assignment is not simulated" in lbl.text() for lbl in dialog.findChildren(type(dialog.summary)))

    orders = broker.orders("Paper")
    assert len(orders) == 4 and {o.state for o in orders} == {OrderState.FILLED}
    quotes = {o.symbol: core.quote(o.symbol) for o in orders}
    for o in orders:  # buys at the ask, sells at the bid
        q = quotes[o.symbol]
        assert o.avg_fill_price == (q.ask if o.side.value == "buy" else q.bid)
    assert "Sent 4 order(s)" in dock.builder.summary.text()

    # Positions: one row per leg with its Greeks and position delta
    positions.reload()
    m = positions.positions
    rows = {p.symbol: p for p in m.rows}
    assert set(rows) == {s for _side, _q, s in legs}
    cols = {c.id: c for c in m.columns}
    for sym, p in rows.items():
        d = cols["delta"].value(p)
        assert d is not None and -1 <= d <= 1
        assert cols["position_delta"].value(p) == pytest.approx(round(d * p.qty * 100, 2))
        assert cols["theta"].value(p) is not None and cols["vega"].value(p) > 0
        assert cols["underlying"].value(p) == SYMBOL
    # the four legs are grouped by their package
    assert len({m.packages[s] for s in rows}) == 1 and all(m.packages[s] for s in rows)
    assert len({cols["package"].value(p) for p in rows.values()}) == 1
    if SHOTS:
        dock.grab().save(str(SHOTS / "dock.png"))
        positions.grab().save(str(SHOTS / "positions.png"))

    # expiry: the close is above the short call (assigned: 100 shares sold at its strike),
    # every other leg out of the money (expires worthless)
    short_call = next(s for side, _q, s in legs if side == "sell" and option_contract(s).is_call)
    k = option_contract(short_call).strike
    closes[SYMBOL] = k + Decimal("1.00")
    clock.t = AFTER
    cash_before = broker.account_summary("Paper").cash
    res = core.settle_expiries()
    assert res.ok and {x.symbol: x.action for x in res.value} == {
        s: ("assigned" if s == short_call else "expired worthless") for _side, _q, s in legs}
    left = {p.symbol: p for p in broker.positions("Paper")}
    assert set(left) == {SYMBOL} and left[SYMBOL].qty == -100 and left[SYMBOL].avg_price == k
    assert broker.account_summary("Paper").cash == cash_before + k * 100
    assert core.settle_expiries().value == []  # settled once
    positions.reload()
    assert {p.symbol for p in positions.positions.rows if p.qty} == {SYMBOL}
    if SHOTS:
        positions.grab().save(str(SHOTS / "positions_settled.png"))


def test_a_chain_row_sends_one_contract_through_the_same_confirmation(desk, qtbot):
    dock, positions, core, broker, clock, closes = desk
    dock.set_symbol(SYMBOL)
    dock.tabs_exp.setCurrentIndex(dock.expiries.index(EXPIRY))
    m = dock.model
    row = m.spot_row
    sym = dock.contract_at(row, m.column_of(True, "bid"))
    assert sym is not None and option_contract(sym).is_call
    assert option_contract(sym).strike == Decimal(str(m.strikes[row]))
    seen = []
    dock.sender_.ask = lambda d: seen.append(d) or True
    dock.send_contract("buy", sym)
    assert len(seen) == 1 and seen[0].preview["need"] > 0
    (o,) = broker.orders("Paper")
    assert o.symbol == sym and o.state is OrderState.ACCEPTED  # a market order fills on the next quote
    core.feed.poll()
    assert broker.order(o.order_id).state is OrderState.FILLED
    assert broker.order(o.order_id).avg_fill_price == core.quote(sym).ask


def test_an_expired_contract_has_no_quote_and_cannot_be_sent(desk, qtbot):
    dock, positions, core, broker, clock, closes = desk
    dock.set_symbol(SYMBOL)
    first = dock.expiries[0]
    assert first < dt.date(2026, 12, 1)  # the demo chain's first expiries are past "now"
    dock.tabs_exp.setCurrentIndex(0)
    sym = dock.contract_at(dock.model.spot_row, dock.model.column_of(False, "ask"))
    errors = []
    dock.sender_.failed.connect(errors.append)
    dock.send_contract("buy", sym)
    assert errors and "expired" in errors[0]
    assert broker.orders("Paper") == []
    assert np.isfinite(dock.result.chain.spot)
