"""Fills on the chart: markers spread when several fall on one bar, entry→exit links with P&L."""
from decimal import Decimal as D

import pytest

from engine.paper.orders import Fill, Side
from tests.widgets.stubs import SyncTasks, make_bars
from widgets.chart import ChartWidget
from widgets.trading.markers import fill_markers, spread_markers, trade_links


def _fill(n, side, qty, price, t_s, sym="ACME", fee="1"):
    return Fill(f"F{n}", f"O{n}", "Paper", sym, Side(side), qty, D(price), D(fee), t_s * 1000)


def test_fills_on_one_bar_are_spread_and_a_lone_fill_stays_centred():
    pts = spread_markers([(5, 100.0, "buy"), (5, 101.0, "sell"), (5, 100.5, "buy"), (9, 99.0, "sell")])
    xs = [x for x, _p, _s in pts]
    assert xs[:3] == pytest.approx([4.733333, 5.0, 5.266667], abs=1e-5)  # three on bar 5, side by side
    assert xs[3] == 9.0
    assert [p for _x, p, _s in pts] == [100.0, 101.0, 100.5, 99.0]
    assert all(4.5 < x < 5.5 for x in xs[:3])  # all inside their bar


def test_round_trips_become_links_with_net_pnl():
    bars = make_bars("ACME", n=50)
    t = bars.time
    fills = [_fill(1, "buy", 10, "100", int(t[10]) + 60), _fill(2, "sell", 10, "105", int(t[20]) + 60),
             _fill(3, "buy", 5, "104", int(t[30])), _fill(4, "sell", 5, "102", int(t[30]) + 30),
             _fill(5, "buy", 3, "90", int(t[40])), _fill(6, "buy", 3, "50", int(t[1]), sym="OTHER")]
    links = trade_links(fills, bars)
    assert [(k.x0, k.price0, k.x1, k.price1) for k in links] == [(10, 100, 20, 105), (30, 104, 30, 102)]
    assert [k.pnl for k in links] == [48.0, -12.0]  # gross 50 and −10, two $1 fees each
    assert trade_links(fills, None) == []


def test_chart_draws_spread_markers_and_links(qtbot):
    chart = ChartWidget(type("D", (), {"get_bars": lambda self, s, tf="1d", refresh=False: make_bars(s, n=60)})(),
                        SyncTasks())
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    chart.open_symbol("ACME")
    t = chart.bars.time
    fills = [_fill(1, "buy", 10, "100", int(t[40])), _fill(2, "buy", 10, "100.5", int(t[40]) + 10),
             _fill(3, "sell", 20, "103", int(t[50]))]
    chart.set_markers(spread_markers(fill_markers(fills, chart.bars)))
    chart.set_trade_links(trade_links(fills, chart.bars))
    xs = sorted(float(x) for x in chart.markers.data["x"])
    assert len(xs) == 3 and xs[0] < 40 < xs[1] and xs[2] == 50.0
    item = chart._links_item
    assert len(item.links) == 1 and item.links[0].pnl == pytest.approx(55.0 - 3.0)  # bought 2,005, sold 2,060, $3 of fees
    chart.set_scale("log")  # the links follow the price scale
    assert item._ys[0][0] == pytest.approx(2.0010844, abs=1e-6)  # log10(100.25)
    chart.set_scale("linear")
    chart.grab().save("/tmp/chart-orders/fills.png")
