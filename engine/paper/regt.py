"""Reg-T requirements of option positions (what short options take of buying power).

The rules (Federal Reserve Regulation T with the Cboe/FINRA 4210 option margin rules, as in
the Cboe *Margin Manual*, 2000, "Uncovered (naked) equity options" and "Spreads"), per
underlying:

* **Long options** are paid in full: the premium leaves cash, and they have no loan value
  (a margin account's leverage applies to shares only).
* **Naked short option** (margin account), per contract × 100 shares: 100 % of the option's
  current value + 20 % of the underlying price (15 % for a broad-based index,
  ``engine.paper.contracts.INDEX_ROOTS``) − the out-of-the-money amount, at least the option's
  value + 10 % of the underlying price (calls) or + 10 % of the strike (puts).
* **Covered calls**: a short call against 100 long shares each needs nothing more (the shares
  are margined as shares). In a cash account short calls must be covered this way.
* **Cash-secured puts** (cash account): the strike × 100 is held in cash.
* **Spreads and other defined-risk combinations** (verticals, iron condors and butterflies,
  calendars and diagonals whose long legs expire on or after the short ones): the maximum loss
  at the first short expiry, with each long leg valued at its intrinsic value (its lowest
  possible value; an American option is never worth less). For a credit spread that is the
  width of the strikes × 100 (the premium received stays in cash and offsets it), for an
  iron condor the wider side only (both sides cannot lose at once), for a debit spread 0.

An underlying's requirement is the lower of the defined-risk figure (when its loss is bounded)
and the naked figure of its short legs (longs ignored): both are treatments Reg-T allows, and
brokers pick the cheaper. A cash account only allows bounded combinations (covered calls,
cash-secured puts, long-protected spreads); an uncovered call is refused.

Money figures are exact ``Decimal`` dollars.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from engine.paper.contracts import MULTIPLIER, OptionContract, option_contract

ZERO = Decimal(0)
_M = Decimal(MULTIPLIER)
NAKED_PCT = Decimal("0.20")
INDEX_NAKED_PCT = Decimal("0.15")
MIN_PCT = Decimal("0.10")


class RequirementError(ValueError):
    """A combination that cannot be held (uncovered calls in a cash account) or priced (no
    price for the underlying or the option)."""


@dataclass(frozen=True, slots=True)
class OptionLeg:
    """``qty`` signed contracts (short < 0) of ``contract``, worth ``price`` per share now."""

    contract: OptionContract
    qty: int
    price: Decimal


def naked_requirement(contract: OptionContract, contracts: int, spot: Decimal, price: Decimal) -> Decimal:
    """Reg-T requirement of ``contracts`` (> 0) uncovered short contracts (see the module
    docstring), dollars. ``spot`` the underlying price, ``price`` the option's value per share."""
    pct = INDEX_NAKED_PCT if contract.cash_settled else NAKED_PCT
    k = contract.strike
    otm = max(k - spot, ZERO) if contract.is_call else max(spot - k, ZERO)
    floor_base = spot if contract.is_call else k
    per_share = price + max(pct * spot - otm, MIN_PCT * floor_base)
    return per_share * _M * contracts


def _payoff(legs: list[tuple[OptionContract, int]], s: Decimal) -> Decimal:
    return sum((q * _M * c.intrinsic(s) for c, q in legs), ZERO)


def max_loss(legs: Iterable[tuple[OptionContract, int]]) -> Decimal | None:
    """The largest loss at the first short expiry of ``legs`` (contract, signed contracts),
    premiums not counted and later-expiring legs at intrinsic value; None when the loss is
    unbounded (more short calls than long calls). Dollars, ≥ 0."""
    legs = list(legs)
    shorts = [c.expiry for c, q in legs if q < 0]
    if not shorts:
        return ZERO
    first = min(shorts)
    live = [(c, q) for c, q in legs if c.expiry >= first]
    if sum(q for c, q in live if c.is_call) < 0:
        return None
    nodes = {ZERO} | {c.strike for c, _q in live}
    worst = min(_payoff(live, s) for s in nodes)
    return max(-worst, ZERO)


def underlying_requirement(legs: list[OptionLeg], shares: int, spot: Decimal | None, *, cash_account: bool) -> Decimal:
    """Requirement of one underlying's option legs with ``shares`` held (see the module
    docstring). Raises ``RequirementError`` for uncovered calls in a cash account or a short
    leg that needs ``spot`` when it is unknown."""
    if not any(leg.qty < 0 for leg in legs):
        return ZERO
    # covered calls: each 100 long shares cover one short call (the lowest strikes first,
    # which are the ones that need it most)
    cover = max(shares, 0) // MULTIPLIER
    pairs: list[tuple[OptionContract, int]] = []
    naked_legs: list[OptionLeg] = []
    for leg in sorted(legs, key=lambda x: (not x.contract.is_call, x.contract.strike)):
        q = leg.qty
        if q < 0 and leg.contract.is_call and cover:
            used = min(cover, -q)
            cover -= used
            q += used
        if q:
            pairs.append((leg.contract, q))
            if q < 0:
                naked_legs.append(OptionLeg(leg.contract, q, leg.price))
    bounded = max_loss(pairs)
    if cash_account:
        if bounded is None:
            c = next(c for c, q in pairs if q < 0 and c.is_call)
            raise RequirementError(
                f"a cash account cannot sell uncovered calls ({c.describe()}): hold 100 shares per call, "
                "buy a call above it (a spread) or use a margin account")
        return bounded
    if not naked_legs:
        return bounded if bounded is not None else ZERO
    if spot is None:
        root = naked_legs[0].contract.underlying
        raise RequirementError(f"no price for {root} yet: a short option's requirement needs the underlying's price")
    naked = sum((naked_requirement(leg.contract, -leg.qty, spot, leg.price) for leg in naked_legs), ZERO)
    return naked if bounded is None else min(naked, bounded)


def requirement(positions: Mapping[str, int], prices: Mapping[str, Decimal], *, cash_account: bool) -> Decimal:
    """Reg-T requirement (dollars) of every option in ``positions`` (symbol → signed
    quantity; shares are read for covered calls), valued at ``prices`` (per share). Raises
    ``RequirementError`` like ``underlying_requirement``."""
    by_root: dict[str, list[OptionLeg]] = {}
    for sym, q in positions.items():
        c = option_contract(sym)
        if c is None or not q:
            continue
        px = prices.get(c.symbol, ZERO)
        by_root.setdefault(c.underlying, []).append(OptionLeg(c, q, px))
    total = ZERO
    for root, legs in by_root.items():
        total += underlying_requirement(legs, positions.get(root, 0), prices.get(root), cash_account=cash_account)
    return total


__all__ = ["INDEX_NAKED_PCT", "MIN_PCT", "NAKED_PCT", "OptionLeg", "RequirementError", "max_loss",
           "naked_requirement", "requirement", "underlying_requirement"]
