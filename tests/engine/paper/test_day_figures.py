"""Today's figures from hand-built fills: realized P&L and fees for the New York day, buying
power used, and the day's P&L from the equity curve."""
import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from engine.events import EventBus
from engine.paper import PaperBroker
from engine.paper.day import day_figures, day_start_ms
from engine.paper.fills import FillConfig, PerShare
from engine.paper.orders import Fill, OrderRequest, OrderType, Side
from engine.paper.session import PaperSession

NY = ZoneInfo("America/New_York")


def ms(day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(2024, 3, day, hour, minute, tzinfo=NY).timestamp() * 1000)


def fill(i: int, sym: str, side: Side, qty: int, price: str, t: int, fee: str = "1.00") -> Fill:
    return Fill(f"f{i}", f"o{i}", "A", sym, side, qty, D(price), D(fee), t)


def test_day_start_is_new_york_midnight():
    # 2024-03-12 01:30 UTC is still the 11th in New York (EDT, UTC-4)
    t = int(dt.datetime(2024, 3, 12, 1, 30, tzinfo=dt.timezone.utc).timestamp() * 1000)
    assert day_start_ms(t) == ms(11, 0)


def test_realized_today_counts_closes_of_yesterdays_shares_fifo():
    fills = [
        fill(1, "ACME", Side.BUY, 100, "50.00", ms(11, 10)),      # yesterday: buy 100 at 50
        fill(2, "ACME", Side.SELL, 60, "53.00", ms(12, 10)),      # today: sell 60 at 53 → +180
        fill(3, "BETA", Side.BUY, 10, "20.00", ms(12, 11)),       # today: round trip +5
        fill(4, "BETA", Side.SELL, 10, "20.50", ms(12, 12), "0.50"),
    ]
    day = day_figures(fills, ms(12, 15))
    assert day.realized == D("185.00") and day.fees == D("2.50") and day.fills == 3  # 1.00 + 1.00 + 0.50
    assert day.symbols == {"ACME": (D("180.00"), D("1.00")), "BETA": (D("5.00"), D("1.50"))}
    yesterday = day_figures(fills, ms(11, 15))
    assert yesterday.realized == 0 and yesterday.fees == D("1.00") and yesterday.symbols == {"ACME": (0, D("1.00"))}


def _broker(tmp_path, now):
    cfg = FillConfig(commission=PerShare(D("0.005"), D("1.00"), D("1")))
    b = PaperBroker.open(tmp_path / "p.sqlite3", bus=EventBus(), clock=lambda: now[0], default_config=cfg)
    b.create_account("A", 100_000, "cash")
    return b


def test_summary_has_day_figures_and_buying_power_used(tmp_path):
    now = [ms(11, 10)]
    b = _broker(tmp_path, now)
    b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), time_ms=now[0])
    b.submit("A", OrderRequest("ACME", Side.BUY, 100, OrderType.MARKET))       # 100 at 50.00, fee 1.00
    b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), time_ms=now[0])
    now[0] = ms(12, 10)
    b.submit("A", OrderRequest("ACME", Side.SELL, 60, OrderType.MARKET))       # 60 at 53.00: +180, fee 1.00
    b.on_quote("ACME", D("53.00"), D("53.02"), D("53.01"), time_ms=now[0])
    b.submit("A", OrderRequest("ACME", Side.BUY, 10, OrderType.LIMIT, limit_price=D("40")))  # holds 400 + fee
    s = b.account_summary("A")
    assert s.day_realized_pnl == D("180.00") and s.day_fees == D("1.00")
    assert s.realized_pnl == D("180.00") and s.fees == D("2.00")
    assert s.day_symbols == (("ACME", D("180.00"), D("1.00")),)
    # cash account: equity − buying power = 40 shares × 53.01 + the limit order's hold
    assert s.equity == s.cash + 40 * D("53.01")
    assert s.buying_power_used == s.equity - s.buying_power
    assert s.buying_power_used >= 40 * D("53.01") + 400
    b.close()


def test_session_day_pnl_is_equity_change_since_the_new_york_midnight(tmp_path):
    now = [ms(11, 10)]
    b = _broker(tmp_path, now)
    session = PaperSession(b, b.bus, account="A")
    b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), time_ms=now[0])
    b.submit("A", OrderRequest("ACME", Side.BUY, 100, OrderType.MARKET))       # equity 100,000 − 1 fee
    b.on_quote("ACME", D("49.99"), D("50.00"), D("50.00"), time_ms=now[0])
    b.on_quote("ACME", D("50.99"), D("51.00"), D("51.00"), time_ms=now[0])      # +100 unrealized yesterday
    b.snapshot_equity("A")                                                     # yesterday's last point
    now[0] = ms(12, 10)
    b.on_quote("ACME", D("51.99"), D("52.00"), D("52.00"), time_ms=now[0])      # +100 more today
    session.select("A")
    session._summary = b.account_summary("A")
    # yesterday closed at 100,000 − 1 + 100 = 100,099; now 100,000 − 1 + 200 = 100,199
    assert session.summary.equity == D("100199.00")
    assert session.day_pnl() == D("100.00")
    session.close()
    b.close()
