"""Risk before sending: what a bracket or a stop can lose and win, and sizing by risk.

Pure functions over exact ``Decimal`` money, no broker state (the ticket passes the entry
price, the exits, the quantity and the account's equity), after TradingView's long/short
position tool:

* **Risk** ($): what the position loses if the stop fills at its price:
  qty × |entry − stop|, **plus the estimated commissions of the entry and of the exit**
  (a round trip), when a commission model is given. **Reward** ($): qty × |target −
  entry| **minus** the same round-trip commissions. Fees are included because they are
  money the trader loses either way: a $200 risk means at most $200 gone if the stop
  fills at its price (slippage through the stop is not modelled: a gap can lose more).
* **Reward:risk**: reward ÷ risk (None without a target or a stop, or with no risk).
* **Risk % of equity**: risk ÷ equity × 100.
* **Sizing**: the whole shares whose risk stays within the amount (dollars, or % of
  equity): floor(amount ÷ per-share risk) without commissions; with them, the largest
  quantity whose risk *including* round-trip commissions is still within the amount.

Prices are per share, money in dollars, percentages in percent points (2 = 2 %).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from engine.paper.money import CENT, ZERO
from engine.paper.orders import Side

#: ``fee(qty, price)`` in dollars: a commission model's ``fee`` (``engine.paper.fills``)
FeeModel = Callable[[int, Decimal], Decimal]
_HUNDRED = Decimal(100)
_RATIO = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class RiskFigures:
    """``risk_reward``'s answer (see module docstring). ``risk``/``reward`` in dollars to the
    cent (None: no stop / no target); ``reward_risk`` the ratio to 0.01; ``risk_pct`` risk
    as % of equity to 0.01 (None without equity); ``fees`` the round-trip commission
    estimate included in both; ``per_share_risk`` |entry − stop| (None: no stop)."""

    qty: int
    entry: Decimal
    stop: Decimal | None
    target: Decimal | None
    per_share_risk: Decimal | None
    risk: Decimal | None
    reward: Decimal | None
    reward_risk: Decimal | None
    risk_pct: Decimal | None
    fees: Decimal


def _positive(v: object, what: str) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, (Decimal, int)):
        raise ValueError(f"{what} must be an exact number (Decimal or int), not {v!r}")
    d = Decimal(v)
    if not d.is_finite() or d <= 0:
        raise ValueError(f"{what} must be a positive number, not {v}")
    return d


def _optional(v: object, what: str) -> Decimal | None:
    return None if v is None else _positive(v, what)


def _side(side: Side | str) -> Side:
    try:
        return Side(side)
    except ValueError:
        raise ValueError(f"side must be buy or sell, not {side!r}") from None


def _check_sides(side: Side, entry: Decimal, stop: Decimal | None, target: Decimal | None) -> None:
    long = side is Side.BUY
    if stop is not None and (stop >= entry if long else stop <= entry):
        where = "below" if long else "above"
        raise ValueError(f"the stop {stop} must be {where} the entry {entry} for a {'buy' if long else 'sell'}")
    if target is not None and (target <= entry if long else target >= entry):
        where = "above" if long else "below"
        raise ValueError(f"the target {target} must be {where} the entry {entry} for a {'buy' if long else 'sell'}")


def round_trip_fees(qty: int, entry: Decimal, exit_price: Decimal, fee: FeeModel | None) -> Decimal:
    """Commission of buying/selling ``qty`` at ``entry`` plus closing it at ``exit_price``
    (dollars; 0 without a model)."""
    if fee is None or qty <= 0:
        return ZERO
    return fee(qty, entry) + fee(qty, exit_price)


def risk_reward(
    side: Side | str, qty: int, entry: Decimal | int, *, stop: Decimal | int | None = None,
    target: Decimal | int | None = None, equity: Decimal | int | None = None, fee: FeeModel | None = None,
) -> RiskFigures:
    """The risk figures of ``qty`` shares entered at ``entry`` on ``side`` with a ``stop``
    and/or a ``target`` (prices per share), for an account of ``equity`` dollars, with
    ``fee`` the commission model (fees included, see module docstring).

    Raises ``ValueError`` (one sentence) for a non-positive or non-exact value, a quantity
    that is not a positive whole number, or a stop/target on the wrong side of the entry
    (a buy's stop must be below its entry, its target above; a sell mirrored).
    """
    s = _side(side)
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise ValueError(f"quantity must be a positive whole number of shares, not {qty!r}")
    e = _positive(entry, "entry price")
    st = _optional(stop, "stop price")
    tg = _optional(target, "target price")
    eq = None if equity is None else _positive(equity, "equity")
    _check_sides(s, e, st, tg)
    per_share = abs(e - st) if st is not None else None
    risk = reward = ratio = pct = None
    fees = ZERO
    if st is not None:
        fees = round_trip_fees(qty, e, st, fee)
        risk = (qty * abs(e - st) + fees).quantize(CENT, ROUND_HALF_UP)
        if eq is not None:
            pct = (risk / eq * _HUNDRED).quantize(_RATIO, ROUND_HALF_UP)
    if tg is not None:
        tp_fees = round_trip_fees(qty, e, tg, fee)
        fees = max(fees, tp_fees)
        reward = (qty * abs(tg - e) - tp_fees).quantize(CENT, ROUND_HALF_UP)
    if risk is not None and reward is not None and risk > 0:
        ratio = (reward / risk).quantize(_RATIO, ROUND_HALF_UP)
    return RiskFigures(qty, e, st, tg, per_share, risk, reward, ratio, pct, fees)


def risk_budget(value: Decimal | int, *, percent: bool = False, equity: Decimal | int | None = None) -> Decimal:
    """The dollars to risk: ``value`` dollars, or ``value`` % of ``equity`` (to the cent,
    rounded down). Raises ``ValueError`` for a non-positive value, a percent of 100 or more,
    or a percent without equity."""
    v = _positive(value, "risk")
    if not percent:
        return v
    if v >= _HUNDRED:
        raise ValueError(f"risk {v} % of equity is not below 100 %")
    if equity is None:
        raise ValueError("no account equity yet to turn the risk % into dollars")
    eq = _positive(equity, "equity")
    return (eq * v / _HUNDRED).quantize(CENT, ROUND_FLOOR)


def size_for_risk(
    side: Side | str, entry: Decimal | int, stop: Decimal | int, risk: Decimal | int, *, fee: FeeModel | None = None,
) -> int:
    """Whole shares to trade so that a stop fill at ``stop`` loses at most ``risk`` dollars:
    floor(risk ÷ |entry − stop|), then (with a commission model ``fee``) the largest
    quantity whose risk including round-trip commissions is within ``risk``. 0 when not
    even one share fits. Raises ``ValueError`` as ``risk_reward`` does."""
    s = _side(side)
    e = _positive(entry, "entry price")
    st = _positive(stop, "stop price")
    budget = _positive(risk, "risk")
    _check_sides(s, e, st, None)
    per_share = abs(e - st)
    n = int((budget / per_share).to_integral_value(ROUND_FLOOR))
    if fee is None or n <= 0:
        return max(n, 0)

    def fits(q: int) -> bool:
        return q * per_share + round_trip_fees(q, e, st, fee) <= budget

    lo, hi = 0, n  # fits(0) is True; find the largest q ≤ n that fits (risk grows with q)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


__all__ = ["FeeModel", "RiskFigures", "risk_budget", "risk_reward", "round_trip_fees", "size_for_risk"]
