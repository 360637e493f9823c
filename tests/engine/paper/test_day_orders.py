"""DAY orders expire at the exchange's real close (holidays, early closes, DST, weekends), and
the margin account's intraday leverage follows the real regular sessions."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from engine.data.bars import Bars
from engine.events import EventBus
from engine.paper import OrderRequest, OrderState, OrderType, PaperBroker, Side, TimeInForce
from engine.paper.account import (
    AccountKind,
    IdSource,
    PaperAccount,
    in_regular_session,
    session_close_after,
)
from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def ms(y: int, m: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = NY) -> int:
    return int(dt.datetime(y, m, d, h, mi, tzinfo=tz).timestamp() * 1000)


def day_limit(symbol: str = "XYZ") -> OrderRequest:
    return OrderRequest(symbol, Side.BUY, 10, OrderType.LIMIT, limit_price=D("5"), tif=TimeInForce.DAY)


def account(**kw: object) -> PaperAccount:
    a = PaperAccount("t", D(1_000_000), AccountKind.MARGIN, ids=IdSource("t"), **kw)  # type: ignore[arg-type]
    a.prices["XYZ"] = D("10")
    return a


@pytest.mark.parametrize(("entered", "expires"), [
    # the day after Thanksgiving closes at 13:00 New York (the old rule said 16:00)
    (ms(2024, 11, 29, 9, 45), ms(2024, 11, 29, 13)),
    # entered on Thanksgiving itself (a holiday): the next session's (early) close
    (ms(2024, 11, 28, 11), ms(2024, 11, 29, 13)),
    # entered after the Wednesday close: skips Thanksgiving
    (ms(2024, 11, 27, 17), ms(2024, 11, 29, 13)),
    # Christmas Eve is a half day
    (ms(2024, 12, 24, 10), ms(2024, 12, 24, 13)),
    # Friday evening before the spring DST change: Monday 16:00 EDT, 20:00 UTC (Friday's was 21:00)
    (ms(2024, 3, 8, 18), ms(2024, 3, 11, 16)),
    # Saturday: Monday's close
    (ms(2024, 6, 15, 12), ms(2024, 6, 17, 16)),
    # Good Friday 2025 is a holiday: Thursday evening → Monday
    (ms(2025, 4, 17, 20), ms(2025, 4, 21, 16)),
    # exactly at the close: the market is closed then, so the next session's close
    (ms(2024, 11, 26, 16), ms(2024, 11, 27, 16)),
])
def test_day_order_expires_at_the_real_session_close(entered: int, expires: int) -> None:
    a = account()
    o = a.submit(day_limit(), entered)
    assert o.state is OrderState.ACCEPTED
    assert o.expire_at_ms == expires
    a.expire_due(expires - 1)
    assert o.is_working
    a.expire_due(expires)
    assert o.state is OrderState.EXPIRED and "session close" in (o.reason or "")


def test_day_order_uses_the_symbols_exchange() -> None:
    # VOD.L trades on the London Stock Exchange: its DAY order ends at 16:30 London time
    a = account()
    a.prices["VOD.L"] = D("70")
    o = a.submit(day_limit("VOD.L"), ms(2024, 7, 10, 9, tz=LONDON))
    assert o.expire_at_ms == ms(2024, 7, 10, 16, 30, tz=LONDON)


def test_day_order_beyond_the_calendar_is_rejected_with_a_reason() -> None:
    a = account()
    o = a.submit(day_limit(), ms(2150, 1, 5, 10))
    assert o.state is OrderState.REJECTED and "GTC" in (o.reason or "")
    gtc = a.submit(OrderRequest("XYZ", Side.BUY, 1, OrderType.LIMIT, limit_price=D("5"), tif=TimeInForce.GTC), ms(2150, 1, 5, 10))
    assert gtc.state is OrderState.ACCEPTED


def test_broker_day_order_submitted_on_a_holiday_survives_until_the_next_close(tmp_path) -> None:
    clock = [ms(2024, 11, 28, 11)]  # Thanksgiving
    path = tmp_path / "p.sqlite3"
    b = PaperBroker.open(path, bus=EventBus(), clock=lambda: clock[0])
    b.create_account("main", 10_000)
    o = b.submit("main", day_limit())
    assert o.state is OrderState.ACCEPTED
    clock[0] = ms(2024, 11, 29, 12, 59)
    assert b.expire_due() == 0
    assert b.order(o.order_id).state is OrderState.ACCEPTED
    b.close()
    clock[0] = ms(2024, 11, 29, 13)
    b2 = PaperBroker.open(path, bus=EventBus(), clock=lambda: clock[0])
    assert b2.order(o.order_id).state is OrderState.EXPIRED
    b2.close()


@pytest.mark.parametrize(("t", "open_"), [
    (ms(2024, 11, 27, 10), True),
    (ms(2024, 11, 27, 9, 29), False),
    (ms(2024, 11, 27, 9, 30), True),
    (ms(2024, 11, 28, 11), False),     # Thanksgiving
    (ms(2024, 11, 29, 14), False),     # after the early close
    (ms(2024, 11, 29, 12, 59), True),
    (ms(2024, 6, 15, 11), False),      # Saturday
    (ms(2150, 1, 5, 11), False),       # beyond the calendar: outside regular hours
])
def test_regular_session_follows_the_calendar(t: int, open_: bool) -> None:
    assert in_regular_session(t) is open_


def test_margin_leverage_is_overnight_on_a_holiday() -> None:
    a = account()
    a.now_ms = ms(2024, 11, 27, 11)
    assert a.leverage() == 4
    a.now_ms = ms(2024, 11, 28, 11)  # Thanksgiving, 11:00 on a Thursday
    assert a.leverage() == 2
    a.now_ms = ms(2024, 11, 29, 14)  # after the 13:00 early close
    assert a.leverage() == 2


def test_session_close_after_in_ms() -> None:
    assert session_close_after(ms(2024, 11, 29, 10)) == ms(2024, 11, 29, 13)
    assert session_close_after(ms(2024, 11, 29, 13) - 1) == ms(2024, 11, 29, 13)


def test_backtests_never_ask_the_market_calendar(monkeypatch) -> None:
    # a calendar look-up per bar (or its ~1 s first build) must not sit in the backtest loop
    import engine.market.calendar as cal

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("the backtester asked the market calendar")

    monkeypatch.setattr(cal, "get_calendar", boom)
    import engine.paper.account as acct_mod
    import engine.paper.margin as margin_mod
    monkeypatch.setattr(margin_mod, "get_calendar", boom)
    monkeypatch.setattr(acct_mod, "_calendar_close_after", boom)
    n = 400
    close = 50 + 5 * np.sin(np.arange(n) / 7.0)
    for tf, step in (("1d", 86400), ("5m", 300)):
        t = 1_704_204_000 + np.arange(n, dtype=np.int64) * step
        bars = Bars("XYZ", tf, t, close, close + 1, close - 1, close, np.full(n, 1e6))
        strat = RuleStrategy(entry=lambda b: np.arange(len(b)) % 20 == 0,
                             exit=lambda b: np.arange(len(b)) % 20 == 10, sizing=FixedQty(10),
                             stop_loss_pct=5.0, take_profit_pct=5.0)
        for kind in (AccountKind.CASH, AccountKind.MARGIN):
            r = run_backtest(bars, strat, cash=100_000, kind=kind)
            assert len(r.fills) > 10
