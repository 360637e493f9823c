"""The chart's time axis labels intraday bars in the exchange's time (from the market calendar)."""
import datetime as dt

import numpy as np

from widgets.chart import DateAxis


def _epoch(s: str) -> int:
    return int(dt.datetime.fromisoformat(s).replace(tzinfo=dt.timezone.utc).timestamp())


def test_intraday_labels_are_in_exchange_time_across_dst(qtbot):
    from engine.market.calendar import exchange_tz

    axis = DateAxis(orientation="bottom")
    # NYSE opens 09:30 New York: 14:30 UTC in winter (EST), 13:30 UTC in summer (EDT)
    axis.times = np.array([_epoch("2024-01-03T14:30:00"), _epoch("2024-07-03T13:30:00")], dtype=np.int64)
    axis.intraday = True
    axis.tz = exchange_tz("ACME")
    assert axis.tickStrings([0, 1], 1.0, 1.0) == ["01-03 09:30", "07-03 09:30"]


def test_daily_labels_are_the_trading_date(qtbot):
    axis = DateAxis(orientation="bottom")
    axis.times = np.array([_epoch("2024-01-03T00:00:00")], dtype=np.int64)
    axis.intraday = False
    from engine.market.calendar import exchange_tz

    axis.tz = exchange_tz("ACME")  # must not shift a daily bar to the previous evening
    assert axis.tickStrings([0, 5], 1.0, 1.0) == ["2024-01-03", ""]
