"""Options paper trading: OCC contracts in the broker (fills at bid/ask, limits, commission per
contract), multi-leg packages (all-or-none at a net price), Reg-T requirements against
hand-computed examples, expiry settlement, and crash safety of the new writes."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import pytest

from engine.events import EventBus
from engine.paper import OrderRequest, OrderState, OrderType, PaperBroker, Side
from engine.paper.contracts import option_contract
from engine.paper.errors import InvalidOrder
from engine.paper.fills import FillConfig, IBKR_PRO_FIXED, IBKR_PRO_OPTIONS, PerContract, parse_commission
from engine.paper.orders import Role
from engine.paper.regt import RequirementError, max_loss, naked_requirement, requirement
from engine.store.db import DiskFull
from tests.faults import DISK_FULL, FaultPlan, install, integrity

NY = ZoneInfo("America/New_York")
NOW = int(dt.datetime(2026, 12, 1, 11, tzinfo=NY).timestamp() * 1000)
AFTER_EXPIRY = int(dt.datetime(2026, 12, 18, 16, 30, tzinfo=NY).timestamp() * 1000)
BEFORE_CLOSE = int(dt.datetime(2026, 12, 18, 15, 59, tzinfo=NY).timestamp() * 1000)

CALL = "XYZ261218C00100000"
P90, P95, C105, C110 = "XYZ261218P00090000", "XYZ261218P00095000", "XYZ261218C00105000", "XYZ261218C00110000"
CONDOR = {P90: ("0.40", "0.45"), P95: ("1.10", "1.20"), C105: ("1.30", "1.40"), C110: ("0.50", "0.55")}


class Clock:
    def __init__(self, t: int = NOW) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def broker(path: Path | None = None, kind: str = "margin", cash: int = 100_000, clock: Clock | None = None,
           config: FillConfig | None = None) -> tuple[PaperBroker, Clock]:
    clk = clock or Clock()
    b = PaperBroker.open(path, bus=EventBus(), clock=clk, default_config=config or FillConfig()) if path else \
        PaperBroker.open(Path(":memory:"), bus=EventBus(), clock=clk, default_config=config or FillConfig())
    if "acct" not in b.accounts():
        b.create_account("acct", cash, kind)
    return b, clk


@pytest.fixture
def mem(tmp_path: Path) -> tuple[PaperBroker, Clock]:
    return broker(tmp_path / "p.sqlite3")


def quote(b: PaperBroker, sym: str, bid: str, ask: str, t: int | None = None) -> None:
    b.on_quote(sym, bid=D(bid), ask=D(ask), time_ms=t)


def condor_legs(qty: int = 1) -> list[OrderRequest]:
    return [OrderRequest(P90, "buy", qty), OrderRequest(P95, "sell", qty), OrderRequest(C105, "sell", qty),
            OrderRequest(C110, "buy", qty)]


def quote_condor(b: PaperBroker, t: int | None = None) -> None:
    quote(b, "XYZ", "99.95", "100.05", t)
    for s, (bid, ask) in CONDOR.items():
        quote(b, s, bid, ask, t)


# --------------------------------------------------------------------------- symbols

def test_padded_and_compact_occ_symbols_are_one_contract_of_100_shares() -> None:
    r = OrderRequest("XYZ   261218C00100000", "buy", 1)
    assert r.symbol == CALL
    c = option_contract(r.symbol)
    assert c is not None and c.strike == D(100) and c.kind == "call" and c.expiry == dt.date(2026, 12, 18)
    assert option_contract("SPXW  261218P05000000").cash_settled  # type: ignore[union-attr]
    assert not option_contract(CALL).cash_settled  # type: ignore[union-attr]
    assert option_contract("AAPL") is None


# --------------------------------------------------------------------------- fills

def test_option_buys_fill_at_the_ask_and_sells_at_the_bid_never_inside(mem: Any) -> None:
    b, clk = mem
    quote(b, "XYZ", "99.95", "100.05")
    quote(b, CALL, "4.80", "5.00")
    buy = b.submit("acct", OrderRequest(CALL, "buy", 2))  # a market order fills on the next quote
    quote(b, CALL, "4.90", "5.10")
    assert b.order(buy.order_id).state is OrderState.FILLED
    assert b.order(buy.order_id).avg_fill_price == D("5.10")
    (pos,) = [p for p in b.positions("acct") if p.symbol == CALL]
    assert pos.qty == 2 and pos.multiplier == 100 and pos.cost == D("1020")  # 2 × 5.10 × 100
    s = b.account_summary("acct")
    assert s.cash == D(100_000) - D("1020") - D("1.30")  # 2 contracts × $0.65
    sell = b.submit("acct", OrderRequest(CALL, "sell", 2))
    quote(b, CALL, "5.00", "5.20")
    f = [x for x in b.fills("acct") if x.order_id == sell.order_id]
    assert [x.price for x in f] == [D("5.00")]
    assert b.account_summary("acct").realized_pnl == D("-20")  # (5.00 − 5.10) × 2 × 100


def test_option_limits_follow_the_stock_rules_and_fill_at_the_quote_not_the_limit(mem: Any) -> None:
    b, _ = mem
    quote(b, "XYZ", "99.95", "100.05")
    low = b.submit("acct", OrderRequest(CALL, "buy", 1, OrderType.LIMIT, limit_price="5.00"))
    high = b.submit("acct", OrderRequest(CALL, "buy", 1, OrderType.LIMIT, limit_price="5.50"))
    quote(b, CALL, "4.90", "5.10")
    assert b.order(low.order_id).state is OrderState.ACCEPTED  # ask 5.10 > limit 5.00: no fill inside the spread
    assert b.order(high.order_id).avg_fill_price == D("5.10")  # at the ask, not the 5.50 limit
    sell = b.submit("acct", OrderRequest(CALL, "sell", 1, OrderType.LIMIT, limit_price="5.00"))
    quote(b, CALL, "4.95", "5.05")
    assert b.order(sell.order_id).state is OrderState.ACCEPTED  # bid below the sell limit
    quote(b, CALL, "5.02", "5.12")
    assert b.order(sell.order_id).avg_fill_price == D("5.02")
    quote(b, CALL, "4.95", "5.00")
    assert b.order(low.order_id).avg_fill_price == D("5.00")


def test_commission_is_per_contract_with_a_one_dollar_minimum_and_stocks_keep_theirs() -> None:
    assert IBKR_PRO_OPTIONS == PerContract(D("0.65"), D("1.00"))
    assert IBKR_PRO_OPTIONS.fee(1, D("0.10")) == D("1.00")
    assert IBKR_PRO_OPTIONS.fee(3, D("2")) == D("1.95")
    assert IBKR_PRO_OPTIONS.fee(10, D("2")) == D("6.50")
    # per order: the minimum is not charged again by a second execution
    assert IBKR_PRO_OPTIONS.order_fee(1, D(0), 1, D("2")) == D("0.30")
    assert parse_commission("per_contract:0.65:1") == IBKR_PRO_OPTIONS
    cfg = FillConfig(commission=IBKR_PRO_FIXED)
    assert cfg.commission_for("XYZ") is IBKR_PRO_FIXED
    assert cfg.commission_for(CALL) == IBKR_PRO_OPTIONS


def test_an_option_with_no_quote_cannot_be_bought_on_price_and_says_why(mem: Any) -> None:
    b, _ = mem
    o = b.submit("acct", OrderRequest(CALL, "buy", 1))
    assert o.state is OrderState.REJECTED and "no price known" in o.reason


# --------------------------------------------------------------------------- packages

def test_a_package_fills_all_legs_at_their_bid_ask_when_the_net_credit_meets_the_limit(mem: Any) -> None:
    b, _ = mem
    quote_condor(b)
    legs = b.submit_package("acct", condor_legs(2), net_price="-1.40")
    assert {o.state for o in legs} == {OrderState.FILLED}
    assert {o.role for o in legs} == {Role.LEG} and len({o.oco_group for o in legs}) == 1
    got = {o.symbol: o.avg_fill_price for o in legs}
    assert got == {P90: D("0.45"), P95: D("1.10"), C105: D("1.30"), C110: D("0.55")}  # buys ask, sells bid
    # net credit −0.45 + 1.10 + 1.30 − 0.55 = 1.40 per share × 100 × 2 = $280, fees 8 × 0.65
    assert b.account_summary("acct").cash == D(100_000) + D(280) - D("5.20")


def test_a_package_whose_net_is_short_of_the_limit_fills_no_leg_until_the_quotes_meet_it(mem: Any) -> None:
    b, _ = mem
    quote_condor(b)
    legs = b.submit_package("acct", condor_legs(), net_price="-1.45", tif="gtc")
    assert {o.state for o in legs} == {OrderState.ACCEPTED}
    assert b.fills("acct") == [] and b.positions("acct") == []
    quote(b, P95, "1.15", "1.25")  # net credit now 1.45: every leg at once
    after = [b.order(o.order_id) for o in legs]
    assert {o.state for o in after} == {OrderState.FILLED}
    assert len(b.fills("acct")) == 4


def test_a_package_with_a_leg_without_a_quote_is_refused_whole(mem: Any) -> None:
    b, _ = mem
    quote(b, "XYZ", "99.95", "100.05")
    quote(b, P90, "0.40", "0.45")
    legs = b.submit_package("acct", condor_legs(), net_price="-1.00")
    assert {o.state for o in legs} == {OrderState.REJECTED}
    assert "no price known" in legs[0].reason and b.fills("acct") == []


def test_cancelling_one_leg_cancels_the_package_and_legs_cannot_be_changed_alone(mem: Any) -> None:
    b, _ = mem
    quote_condor(b)
    legs = b.submit_package("acct", condor_legs(), net_price="-3.00", tif="gtc")
    with pytest.raises(InvalidOrder, match="package leg"):
        b.modify(legs[0].order_id, qty=3)
    b.cancel(legs[1].order_id)
    assert {b.order(o.order_id).state for o in legs} == {OrderState.CANCELLED}


def test_bad_packages_are_refused_before_anything_is_recorded(mem: Any) -> None:
    b, _ = mem
    with pytest.raises(InvalidOrder, match="2 to 8 legs"):
        b.submit_package("acct", condor_legs()[:1])
    with pytest.raises(InvalidOrder, match="not an OCC"):
        b.submit_package("acct", [OrderRequest("XYZ", "buy", 100), OrderRequest(CALL, "sell", 1)])
    with pytest.raises(InvalidOrder, match="twice"):
        b.submit_package("acct", [OrderRequest(CALL, "buy", 1), OrderRequest(CALL, "sell", 1)])
    assert b.orders("acct") == []


# --------------------------------------------------------------------------- Reg-T
# Rules: Cboe Margin Manual (2000), "Uncovered (naked) equity options" and "Spreads"; FINRA
# Rule 4210(f)(2). Naked: 100 % of the option value + 20 % of the underlying − OTM amount,
# minimum value + 10 % of the underlying (calls) / strike (puts); broad index 15 %.

def c(sym: str) -> Any:
    got = option_contract(sym)
    assert got is not None
    return got


def test_naked_short_call_requirement_by_hand() -> None:
    # XYZ 95, short 1 100 call at 2.00: 2.00 + max(0.20×95 − 5 = 14, 0.10×95 = 9.5) = 16 → $1,600
    assert naked_requirement(c("XYZ261218C00100000"), 1, D(95), D("2.00")) == D(1600)


def test_naked_short_put_requirement_by_hand_and_its_minimum() -> None:
    # XYZ 95, short 1 90 put at 1.50: 1.50 + max(19 − 5 = 14, 9) = 15.50 → $1,550
    assert naked_requirement(c("XYZ261218P00090000"), 1, D(95), D("1.50")) == D(1550)
    # far OTM: XYZ 100, short 2 50 puts at 0.05: 0.05 + max(20 − 50, 0.10×50 = 5) = 5.05 → 2 × $505
    assert naked_requirement(c("XYZ261218P00050000"), 2, D(100), D("0.05")) == D(1010)


def test_broad_index_short_put_uses_15_percent() -> None:
    # SPX 5000, short 1 4500 put at 10: 10 + max(750 − 500 = 250, 450) = 460 → $46,000
    assert naked_requirement(c("SPX261218P04500000"), 1, D(5000), D(10)) == D(46000)


def test_spreads_need_their_max_loss_and_an_iron_condor_only_its_wider_side() -> None:
    prices = {"XYZ": D(100), P95: D("1.10"), P90: D("0.45"), C105: D("1.30"), C110: D("0.55")}
    # short 95 put, long 90 put: width 5 × 100 = $500
    assert requirement({P95: -1, P90: 1}, prices, cash_account=False) == D(500)
    # iron condor 90/95/105/110: both sides cannot lose at once → $500, not $1,000
    assert requirement({P90: 1, P95: -1, C105: -1, C110: 1}, prices, cash_account=True) == D(500)
    # a debit spread (long the nearer strike) needs nothing beyond its premium
    assert requirement({C105: 1, C110: -1}, prices, cash_account=True) == D(0)
    assert max_loss([(c(C105), -1)]) is None  # a naked call's loss is unbounded


def test_covered_calls_and_cash_secured_puts_in_a_cash_account() -> None:
    prices = {"XYZ": D(100), C105: D("1.30"), P95: D("1.10")}
    assert requirement({"XYZ": 100, C105: -1}, prices, cash_account=True) == D(0)
    assert requirement({P95: -1}, prices, cash_account=True) == D(9500)  # the strike × 100 in cash
    with pytest.raises(RequirementError, match="uncovered calls"):
        requirement({"XYZ": 50, C105: -1}, prices, cash_account=True)


def test_a_naked_call_in_a_cash_account_is_refused_with_the_reason(tmp_path: Path) -> None:
    b, _ = broker(tmp_path / "c.sqlite3", kind="cash")
    quote(b, "XYZ", "99.95", "100.05")
    quote(b, C105, "1.30", "1.40")
    o = b.submit("acct", OrderRequest(C105, "sell", 1))
    assert o.state is OrderState.REJECTED and "cannot sell uncovered calls" in o.reason


def test_short_options_beyond_buying_power_are_refused_with_the_numbers(tmp_path: Path) -> None:
    b, _ = broker(tmp_path / "m.sqlite3", kind="margin", cash=1000)
    quote(b, "XYZ", "99.95", "100.05")
    quote(b, P95, "1.10", "1.20")
    # naked 95 put, XYZ 100 and the put 1.15 (mids): 1.15 + max(20 − 5, 9.5) = 16.15 → $1,615;
    # sold at the bid: $110 credit, $1 commission → needs $1,506 > $1,000
    o = b.submit("acct", OrderRequest(P95, "sell", 1))
    assert o.state is OrderState.REJECTED
    assert "insufficient buying power for options" in o.reason and "$1,506.00" in o.reason and "$1,615.00" in o.reason
    quote(b, P90, "0.40", "0.45")
    # as a spread it needs $500 − $65 credit: accepted
    legs = b.submit_package("acct", [OrderRequest(P95, "sell", 1), OrderRequest(P90, "buy", 1)])
    assert {x.state for x in legs} == {OrderState.FILLED}
    s = b.account_summary("acct")
    assert s.cash == D(1000) + D(65) - D(2)  # two leg orders, $1.00 minimum each
    # marked at the mids: equity 1063 + 42.50 (long 90 put) − 115 (short 95 put) = 990.50; share
    # buying power 2 × (equity − long option value − the spread's $500) = 2 × 448
    assert s.equity == D("990.5") and s.buying_power == D(896)


# --------------------------------------------------------------------------- expiry

def settle(b: PaperBroker, close: str) -> Any:
    return b.settle_expiries(lambda sym, day: D(close))


def test_itm_by_a_cent_is_exercised_into_shares_and_half_a_cent_expires(tmp_path: Path) -> None:
    for close, action in (("100.01", "exercised"), ("100.005", "expired worthless")):
        b, clk = broker(tmp_path / f"e{close}.sqlite3")
        quote(b, "XYZ", "99.95", "100.05")
        quote(b, CALL, "4.90", "5.10")
        b.submit("acct", OrderRequest(CALL, "buy", 2))
        quote(b, CALL, "4.90", "5.10")
        clk.t = BEFORE_CLOSE
        assert settle(b, close) == ([], [])  # not before the close
        clk.t = AFTER_EXPIRY
        done, waiting = settle(b, close)
        assert waiting == [] and [x.action for _a, x in done] == [action]
        pos = {p.symbol: p for p in b.positions("acct")}
        assert CALL not in pos
        if action == "exercised":
            assert pos["XYZ"].qty == 200 and pos["XYZ"].avg_price == D(100)  # bought at the strike
        else:
            assert "XYZ" not in pos
        assert settle(b, close) == ([], [])  # idempotent


def test_short_put_assigned_and_index_option_cash_settled(tmp_path: Path) -> None:
    b, clk = broker(tmp_path / "a.sqlite3")
    spx = "SPX261218C05000000"
    quote(b, "XYZ", "99.95", "100.05")
    quote(b, "SPX", "4999", "5001")
    quote(b, P95, "1.10", "1.20")
    quote(b, spx, "40.00", "41.00")
    assert b.submit("acct", OrderRequest(P95, "sell", 1)).state is OrderState.ACCEPTED
    assert b.submit("acct", OrderRequest(spx, "buy", 1)).state is OrderState.ACCEPTED
    quote(b, P95, "1.10", "1.20")
    quote(b, spx, "40.00", "41.00")
    cash_before = b.account_summary("acct").cash
    clk.t = AFTER_EXPIRY
    closes = {"XYZ": D("90"), "SPX": D("5012.34")}
    done, _ = b.settle_expiries(lambda sym, day: closes[sym])
    actions = {x.symbol: x.action for _a, x in done}
    assert actions == {P95: "assigned", spx: "cash-settled"}
    pos = {p.symbol: p for p in b.positions("acct")}
    assert pos["XYZ"].qty == 100 and pos["XYZ"].avg_price == D(95)  # bought at the strike
    assert "SPX" not in pos and spx not in pos  # an index option never delivers the index
    # cash: −95 × 100 for the assigned shares, +12.34 × 100 for the index call
    assert b.account_summary("acct").cash == cash_before - D(9500) + D(1234)


def test_expiries_passed_while_closed_are_settled_on_reopening(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite3"
    b, clk = broker(path)
    quote_condor(b)
    b.submit_package("acct", condor_legs(), net_price="-1.00")
    b.close()
    b2, _ = broker(path, clock=Clock(AFTER_EXPIRY))
    done, _ = b2.settle_expiries(lambda sym, day: D("107"))
    assert {x.symbol: x.action for _a, x in done} == {
        P90: "expired worthless", P95: "expired worthless", C105: "assigned", C110: "expired worthless"}
    b2.close()
    b3, _ = broker(path, clock=Clock(AFTER_EXPIRY))
    assert {p.symbol: p.qty for p in b3.positions("acct")} == {"XYZ": -100}
    assert b3.settle_expiries(lambda sym, day: D("107")) == ([], [])
    b3.close()


def test_an_expiry_without_the_underlying_close_waits_and_says_why(mem: Any) -> None:
    b, clk = mem
    quote(b, "XYZ", "99.95", "100.05")
    quote(b, CALL, "4.90", "5.10")
    b.submit("acct", OrderRequest(CALL, "buy", 1))
    quote(b, CALL, "4.90", "5.10")
    clk.t = AFTER_EXPIRY
    done, waiting = b.settle_expiries(lambda sym, day: None)
    assert done == [] and "no close of XYZ on 2026-12-18" in waiting[0]
    assert [p.symbol for p in b.positions("acct")] == [CALL]


# --------------------------------------------------------------------------- crash safety

def _prepared(path: Path) -> tuple[PaperBroker, Clock]:
    b, clk = broker(path)
    quote_condor(b)
    return b, clk


def _package(b: PaperBroker, clk: Clock) -> object:
    return b.submit_package("acct", condor_legs(), net_price="-1.00")


def _settlement(b: PaperBroker, clk: Clock) -> object:
    clk.t = AFTER_EXPIRY
    return b.settle_expiries(lambda sym, day: D("107"))


def _state(b: PaperBroker) -> tuple[Any, ...]:
    return b.orders("acct"), b.fills("acct"), b.positions("acct")


ACTIONS: dict[str, tuple[Callable[[PaperBroker, Clock], object], bool]] = {
    "package": (_package, False),
    "settlement": (_settlement, True),
}


@pytest.fixture
def plan(monkeypatch: pytest.MonkeyPatch) -> FaultPlan:
    return install(monkeypatch)


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_full_disk_at_any_write_of_a_package_or_a_settlement_leaves_all_or_none(
    tmp_path: Path, plan: FaultPlan, action: str,
) -> None:
    act, needs_position = ACTIONS[action]

    def setup(path: Path) -> tuple[PaperBroker, Clock]:
        b, clk = _prepared(path)
        if needs_position:
            _package(b, clk)
        return b, clk

    plan.arm(None)
    b, clk = setup(tmp_path / "count.sqlite3")
    plan.arm(None)
    act(b, clk)
    total = plan.writes
    b.close()
    assert total >= 3
    for n in range(1, total + 1):
        path = tmp_path / f"s{n}.sqlite3"
        plan.arm(None)
        b, clk = setup(path)
        before = _state(b)
        plan.arm(n, DISK_FULL)
        with pytest.raises(DiskFull):
            act(b, clk)
        assert plan.fired
        plan.arm(None)
        assert _state(b) == before, (action, n, plan.statements)
        fresh, _ = broker(path, clock=Clock(clk.t))
        assert _state(fresh) == before
        fresh.close()
        assert integrity(path) == "ok"
        act(b, clk)  # the next attempt works, whole
        after = _state(b)
        assert after != before
        b.close()
        again, _ = broker(path, clock=Clock(clk.t))
        assert _state(again) == after
        again.close()
