"""The options dock over the demo chain: ITM shading on the right side of the underlying,
template payoffs with the engine's breakevens, the date slider moving the "today" curve."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.data.demo import demo_symbols
from engine.options.analysis import template_strategy, with_chain_premiums
from engine.options.yahoo import ChainService
from tests.widgets.stubs import SyncTasks
from widgets.options import OptionsWidget

BG = Qt.ItemDataRole.BackgroundRole


@pytest.fixture(scope="module")
def demo_symbol():
    return demo_symbols()[0]


@pytest.fixture
def dock(qtbot, demo_symbol):
    w = OptionsWidget(ChainService(None, lambda: "demo").get, SyncTasks())
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.set_symbol(demo_symbol)
    return w


def test_demo_chain_is_shown_with_itm_shading_on_the_right_side_of_the_underlying(dock, demo_symbol):
    m = dock.model
    assert dock.result.chain.source == "demo" and "demo" in dock.status.text()
    assert dock.tabs_exp.count() == len(dock.result.chain.expiries()) > 3
    spot = dock.result.chain.spot
    strikes = m.strikes
    assert min(strikes) < spot < max(strikes)
    call_bid, put_bid = m.column_of(True, "bid"), m.column_of(False, "bid")
    for r, k in enumerate(strikes):
        call_shaded = m.data(m.index(r, call_bid), BG) is not None
        put_shaded = m.data(m.index(r, put_bid), BG) is not None
        assert call_shaded == (k < spot), (k, spot)
        assert put_shaded == (k > spot), (k, spot)
    # the underlying price line sits between the strikes around spot
    assert strikes[m.spot_row - 1] < spot <= strikes[m.spot_row]
    # calls sit left of the strike column, puts right, with the same strike's quotes
    part = dock.result.chain.select(expiry=dock.current_expiry)
    r = m.spot_row
    call = part.select(kind="call")
    want = call.bid[call.strike == strikes[r]][0]
    assert m.data(m.index(r, call_bid)) == f"{want:.2f}" and call_bid < m.strike_column < put_bid


def test_flagged_quotes_say_why_in_the_tooltip(dock):
    m = dock.model
    chain = dock.result.chain
    for i, e in enumerate(chain.expiries()):
        dock.tabs_exp.setCurrentIndex(i)
        part = chain.select(expiry=e)
        bad = part.select(kind="put")
        rows = np.flatnonzero(bad.flags != 0)
        if rows.size:
            k = float(bad.strike[rows[0]])
            r = m.strikes.index(k)
            tip = m.data(m.index(r, m.column_of(False, "iv")), Qt.ItemDataRole.ToolTipRole)
            assert "no bid" in tip or "no implied vol" in tip or "crossed" in tip
            assert m.data(m.index(r, m.column_of(False, "iv"))) == "–"
            return
    pytest.fail("the demo chain has no flagged put to check")


@pytest.mark.parametrize("template", ["straddle", "iron_condor", "vertical"])
def test_a_template_draws_the_payoff_with_the_engines_breakevens(dock, template):
    b = dock.builder
    dock.views.setCurrentWidget(b)
    b.template.setCurrentText(template)
    chain, an = dock.result.chain, dock.analysis
    market = an.market(chain)
    engine = with_chain_premiums(template_strategy(template, chain, dock.current_expiry), chain, market)
    want = engine.breakevens(market)
    xs, ys = b.be_points.getData()
    assert len(want) >= 1
    np.testing.assert_allclose(sorted(xs), want, rtol=0, atol=1e-9)
    np.testing.assert_allclose(ys, 0.0)
    assert [round(ln.value(), 9) for ln in b._be_lines] == [round(x, 9) for x in want]
    # the expiry curve is the engine's P&L at expiry and crosses zero at those prices
    x, y = b.expiry_curve.getData()
    np.testing.assert_allclose(y, engine.pnl(market, x), atol=1e-9)
    assert b.spot_line.value() == pytest.approx(chain.spot)
    assert "breakevens " + ", ".join(f"{v:.2f}" for v in want) in b.summary.text()


def test_the_date_slider_moves_the_today_curve(dock):
    b = dock.builder
    b.template.setCurrentText("straddle")
    b.slider.setValue(0)
    x, today0 = (np.asarray(a) for a in b.today_curve.getData())
    _x, at_expiry = (np.asarray(a) for a in b.expiry_curve.getData())
    assert b.slider.maximum() >= 5
    assert np.max(np.abs(today0 - at_expiry)) > 1.0  # time value today
    b.slider.setValue(b.slider.maximum() // 2)
    _x, mid = (np.asarray(a) for a in b.today_curve.getData())
    np.testing.assert_allclose(mid, b.strategy.pnl(b.market, x, b.slider.value() / 365), atol=1e-9)
    # a long straddle loses time value as the date moves on: less P&L at the strike
    atm = np.argmin(np.abs(x - b.strategy.legs[0].strike))
    assert mid[atm] < today0[atm]
    assert f"+{b.slider.value()} d" in b.date_label.text()
    b.slider.setValue(b.slider.maximum())
    _x, last = (np.asarray(a) for a in b.today_curve.getData())
    np.testing.assert_allclose(last, b.strategy.pnl(b.market, x, b.elapsed_years), atol=1e-9)
    assert np.max(np.abs(last - at_expiry)) < np.max(np.abs(today0 - at_expiry))


def test_a_non_demo_symbol_in_demo_mode_says_why(qtbot):
    w = OptionsWidget(ChainService(None, lambda: "demo").get, SyncTasks())
    qtbot.addWidget(w)
    w.set_symbol("ZZZNOTDEMO")
    assert "demo symbols" in w.status.text() and w.result is None
