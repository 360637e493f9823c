"""The live last bar, driven by a stub quote stream (what ``TradingSession`` offers)."""
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PySide6.QtCore import QObject, Signal

from engine.paper.orders import Quote
from tests.widgets.stubs import SyncTasks, make_bars
from widgets.chart import ChartWidget
from widgets.chart.live import LiveBar, next_bar


class StubQuotes(QObject):
    quotes_changed = Signal()

    def __init__(self):
        super().__init__()
        self.quotes = {}
        self.watched = {}

    def watch(self, owner, symbols):
        self.watched[owner] = list(symbols)

    def quote(self, symbol):
        return self.quotes.get(symbol)

    def push(self, symbol, price, t_s):
        p = D(str(price))
        self.quotes[symbol] = Quote(symbol, p - D("0.01"), p + D("0.01"), p, int(t_s * 1000))
        self.quotes_changed.emit()


class _Data:
    def __init__(self, timeframe="5m"):
        self.tf = timeframe
        self.cached = {}

    def get_bars(self, symbol, timeframe="1d", refresh=False):
        b = make_bars(symbol, n=200, seed=5, timeframe="1d" if timeframe == "1d" else "1m")
        if timeframe != "1d":  # 5-minute bars
            t = 1_700_000_000 // 300 * 300 + np.arange(len(b), dtype=np.int64) * 300
            from engine.data.bars import Bars
            b = Bars.from_arrays(symbol, timeframe, t, b.open, b.high, b.low, b.close, b.volume, "csv")
        self.cached[(symbol, timeframe)] = b
        return b


@pytest.fixture
def live(qtbot):
    data = _Data()
    chart = ChartWidget(data, SyncTasks())
    qtbot.addWidget(chart)
    chart.resize(1280, 800)
    chart.show()
    chart.open_symbol("ACME", "5m")
    quotes = StubQuotes()
    lb = LiveBar(chart, quotes)
    return chart, quotes, lb, data


def test_quote_inside_the_bar_updates_it_in_place(live):
    chart, quotes, lb, data = live
    assert quotes.watched[lb.owner] == ["ACME"]  # the chart's symbol is quoted
    n = len(chart.bars)
    t_last = int(chart.bars.time[-1])
    hist_before = chart.bars.close[:-1].copy()
    hi = round(float(chart.bars.high[-1]) + 2.5, 2)  # a new high
    quotes.push("ACME", hi, t_last + 100)
    assert len(chart.bars) == n and lb.updates == 1 and lb.new_bars == 0
    assert chart.bars.close[-1] == pytest.approx(hi) and chart.bars.high[-1] == pytest.approx(hi)
    assert chart.candles.h[-1] == pytest.approx(hi)  # the drawn bar moved
    assert chart.last_line.value() == pytest.approx(hi)
    np.testing.assert_array_equal(chart.bars.close[:-1], hist_before)  # history untouched
    assert data.cached[("ACME", "5m")].close[-1] != pytest.approx(hi)  # the data layer's bars are not
    low = round(float(chart.bars.low[-1]) - 1.0, 2)
    quotes.push("ACME", low, t_last + 200)
    assert chart.bars.low[-1] == pytest.approx(low) and chart.bars.high[-1] == pytest.approx(hi)


def test_new_bar_starts_on_the_boundary_and_the_view_follows_the_right_edge(live):
    chart, quotes, lb, _data = live
    n = len(chart.bars)
    t_last = int(chart.bars.time[-1])
    x0, x1 = chart.price_pane.vb.viewRange()[0]
    quotes.push("ACME", 101.0, t_last + 300 + 17)  # 17 s into the next 5-minute bar
    assert len(chart.bars) == n + 1 and lb.new_bars == 1
    assert int(chart.bars.time[-1]) == t_last + 300
    assert chart.bars.open[-1] == chart.bars.close[-1] == 101.0
    assert len(chart.candles.o) == n + 1
    nx0, nx1 = chart.price_pane.vb.viewRange()[0]
    assert (nx0, nx1) == pytest.approx((x0 + 1, x1 + 1))  # it was at the right edge: it follows
    quotes.push("ACME", 101.5, t_last + 3 * 300 + 1)  # two periods later (no quote in between)
    assert int(chart.bars.time[-1]) == t_last + 3 * 300


def test_view_stays_when_the_user_scrolled_back(live):
    chart, quotes, _lb, _data = live
    chart.price.setXRange(10, 60, padding=0)
    t_last = int(chart.bars.time[-1])
    quotes.push("ACME", 101.0, t_last + 600)
    assert chart.price_pane.vb.viewRange()[0] == pytest.approx([10, 60])


def test_old_other_and_stale_quotes_are_ignored(live):
    chart, quotes, lb, _data = live
    n = len(chart.bars)
    t_last = int(chart.bars.time[-1])
    quotes.push("ACME", 90.0, t_last - 600)  # older than the last bar
    quotes.push("OTHER", 90.0, t_last + 10)
    quotes.push("ACME", 90.0, t_last + 30 * 86400)  # a month after an old history
    assert len(chart.bars) == n and lb.updates == 0 and lb.new_bars == 0


def test_daily_weekly_monthly_boundaries():
    ny = ZoneInfo("America/New_York")
    day = 1_700_006_400  # 2023-11-15 00:00 UTC
    assert next_bar(day, day + 15 * 3600, "1d", ny) is None  # 10:00 New York the same day
    assert next_bar(day, day + 86400 + 15 * 3600, "1d", ny) == day + 86400
    monday = day - 2 * 86400  # 2023-11-13
    assert next_bar(monday, day + 15 * 3600, "1wk", ny) is None
    assert next_bar(monday, monday + 7 * 86400 + 15 * 3600, "1wk", ny) == monday + 7 * 86400
    first = 1_698_796_800  # 2023-11-01
    assert next_bar(first, day, "1mo", ny) is None
    assert next_bar(first, 1_701_388_800 + 15 * 3600, "1mo", ny) == 1_701_388_800  # 2023-12-01
    with pytest.raises(ValueError):
        next_bar(day, day - 1, "1d", ny)
