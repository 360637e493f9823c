"""Fill rules of the paper broker (bar mode for backtests, quote mode for live paper).

Paper fills must be honest: where the data cannot tell what happened, we assume the outcome
that is worse for the trader. The price rules are the functions of this module
(``match_bar``, ``match_quote``, ``fill_price``, ``trail_stop``, ``participation_cap``);
``engine.paper.account`` applies them and does the order bookkeeping (OCO, bracket, TIF).

Bar mode (backtests, and live paper fed with bars)
--------------------------------------------------
An order can fill only on a bar that starts **after** it was submitted: an order placed on
a bar's close (which is when a strategy sees the bar) never fills on that same bar.
With a latency of *N* ms, the first eligible bar is also the first whose start is at or
after submission + *N* ms. Then, for each eligible bar (O, H, L, C, V), as backtrader does:

* **Market**: fills at the open of the first eligible bar (the next bar's open).
* **Limit buy**: at the open if the bar opens at or below the limit; else at the limit if
  the low reaches it; else no fill. **Limit sell**: at the open if it opens at or above the
  limit; else at the limit if the high reaches it.
* **Stop buy**: triggers at the open if the bar gaps through the stop (O ≥ stop) and fills
  at the open; else triggers if the high reaches the stop and fills at the stop.
  **Stop sell** mirrors it (O ≤ stop → open; L ≤ stop → stop). A triggered stop is a
  market order from then on (a remainder fills at later opens).
* **Stop-limit**: triggers like a stop. Triggered at the open, the limit rule is applied to
  the whole bar. Triggered inside the bar, it fills at the stop if the limit is at or beyond
  the stop (buy: limit ≥ stop); otherwise we cannot know whether the price came back to the
  limit after the trigger, so it does not fill on that bar and works as a limit afterwards.
* **Trailing stop** (amount or percent): a stop whose price trails the best price seen
  since it became active (sell: the highest high/last; buy: the lowest low/last). On each
  bar the trigger is checked with the stop price from *before* the bar, then the stop
  ratchets with the bar's high (sell) or low (buy) — only in the trader's favour, never back.
* **Several orders on one bar** are matched market first, then stops (stop, stop-limit,
  trailing), then limits — so when both legs of an OCO pair could fill in one bar, the
  stop-loss is assumed to have come first.
* **OCO**: when one order of the pair fills completely the other is cancelled; a partial
  fill reduces the other by the same quantity (IBKR's "reduce on fill" OCA behaviour).
* **Bracket children** (take-profit limit + stop-loss stop, an OCO pair, GTC) wait until
  the entry fills; each entry fill activates or resizes them to the quantity that is open.
  If the entry fills inside a bar, the children are matched against the rest of that bar
  with the entry's fill price as their "open" (so a gap through the stop-loss fills at the
  entry price) and the bar's high/low as the range. If an exit closes everything while the
  entry is still partly working, the entry's rest is cancelled; cancelling an entry that
  has not filled cancels its children.
* **Time in force**: DAY orders expire after the first eligible daily (or longer) bar, or
  for intraday bars and quotes at the real close of the symbol's exchange (from the market
  calendar: holidays and half days known — entered on 2024-11-29 they expire at 13:00 New
  York, entered on Thanksgiving at the next session's close; entered at or after a close, or
  on a weekend, at the next session's close); GTC works until cancelled; IOC
  fills what it can on its first eligible bar and cancels the rest; FOK fills completely
  on its first eligible bar or is cancelled.

Quote mode (live paper on delayed quotes)
-----------------------------------------
* **Market** buys fill at the ask, sells at the bid — never inside the spread. An option
  quote may have no bid (0, a far wing): buys still fill at its ask, sells wait for a bid.
* **Limit** buys fill at the ask when ask ≤ limit, sells at the bid when bid ≥ limit.
* **Stops** trigger on the last trade price (the bid for sells / the ask for buys when no
  last is known): buy when last ≥ stop, sell when last ≤ stop; then fill as market (stop)
  or limit (stop-limit) against the same quote. Trailing stops trail the last price.
* **Size**: when the quote carries a displayed size, the account's fills on that side
  take at most that size in total; the rest waits for the next quote.

Size: volume participation
--------------------------
In bar mode an account takes at most ``participation`` (default 10 %) of a bar's volume,
summed over all its orders in that symbol; larger orders fill partially over several bars
(a market remainder at each later open, a limit remainder by the limit rule). A bar with
zero or unknown volume has no cap (many index and FX series carry no volume).

Slippage, commission, latency
-----------------------------
Slippage always moves the price against the trader and is applied to market, stop and
trailing-stop fills; limit and stop-limit fills are slipped too but never beyond the limit.
In bar mode a slipped price is clipped to the bar's [low, high] (no trade happened outside
it). Models: ``none``; ``bps:N`` fixed N basis points; ``spread:N`` half of an assumed
N-bps spread in bar mode (in quote mode the spread is already paid by filling at bid/ask);
``sqrt:K`` square-root market impact, price × K × σ × √(qty / bar volume) with σ the bar's
(high − low) / open (no impact where volume is unknown). Derived prices are rounded against
the trader (see ``engine.paper.money``).
Commissions, rounded up to the cent: ``per_share:RATE:MIN[:MAX_PCT]`` (e.g. IBKR fixed
0.005 per share, minimum 1.00, maximum 1 % of the trade value), charged **per order**: an
execution pays the fee of the order's cumulative quantity and value minus what its earlier
executions paid (three partial fills of 10 shares pay $1.00 in all, and the 1 % cap is of
the order's value); ``percent:P`` (P % of the
trade value), ``flat:A`` per fill; any of them followed by ``+reg`` adds the US regulatory
fees on sells (SEC Section 31 fee on the sale proceeds and FINRA TAF per share sold, capped
per trade; ``+reg:SEC_RATE:TAF_PER_SHARE:TAF_MAX`` sets the rates). New live paper accounts
get IBKR Pro fixed (``per_share:0.005:1.00:1``) unless another model is picked; each
account keeps the model it was created with. Option orders pay the account's option model,
by default IBKR Pro options ``per_contract:0.65:1.00`` ($0.65 a contract, $1.00 minimum per
order; see [Options paper trading](#options-paper-trading)). Backtests default to none. Latency: see bar
mode above; in quote mode an order ignores quotes stamped earlier than submission + latency.

Accounts
--------
A cash account can only buy with the cash it has (settlement delays are not modelled)
and sell shares it holds. A Reg-T margin account may sell short and hold gross positions
up to 4× its equity intraday (during a NYSE regular session, holidays and early closes
known, and with at least $25,000 of equity: the pattern day trader rule) and 2× otherwise; backtests use 4× on
intraday bars and 2× on daily bars. Positions kept past the close above 2× are not
liquidated; new orders that add exposure are then rejected until the account is back
inside its buying power. An order that would exceed buying power is rejected with the
numbers in the reason. A fill that no longer fits (the price moved) is cancelled with a
reason.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from engine.paper.contracts import is_option
from engine.paper.money import CENT, ZERO, fee_cents, price_against
from engine.paper.orders import Bar, Order, OrderType, Quote, _fast_init

_BPS = Decimal("0.0001")
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_MAX_PER_SHARE = Decimal(100)
_MAX_FEE = Decimal(1_000_000)
_MAX_SLIP = {"bps": Decimal(5000), "spread": Decimal(10000), "sqrt": Decimal(10)}

# --------------------------------------------------------------------------- slippage


@dataclass(frozen=True, slots=True)
class NoSlippage:
    """Fill at the rule's price."""

    def spec(self) -> str:
        return "none"

    def adjust(self, price: Decimal, is_buy: bool, qty: int, volume: float, rng: float, quote: bool) -> Decimal:
        return price


@dataclass(frozen=True, slots=True)
class FixedBps:
    """A fixed ``bps`` basis points against the trader."""

    bps: Decimal

    def spec(self) -> str:
        return f"bps:{self.bps}"

    def adjust(self, price: Decimal, is_buy: bool, qty: int, volume: float, rng: float, quote: bool) -> Decimal:
        f = self.bps * _BPS
        return price_against(price * (_ONE + f if is_buy else _ONE - f), is_buy)


@dataclass(frozen=True, slots=True)
class SpreadSlippage:
    """Half of an assumed ``bps`` spread in bar mode; nothing extra in quote mode."""

    bps: Decimal = Decimal(10)

    def spec(self) -> str:
        return f"spread:{self.bps}"

    def adjust(self, price: Decimal, is_buy: bool, qty: int, volume: float, rng: float, quote: bool) -> Decimal:
        if quote:
            return price
        f = self.bps * _BPS / 2
        return price_against(price * (_ONE + f if is_buy else _ONE - f), is_buy)


@dataclass(frozen=True, slots=True)
class SqrtImpact:
    """Square-root impact: price × k × σ × √(qty / volume), σ = bar range / open."""

    k: Decimal = Decimal("0.1")

    def spec(self) -> str:
        return f"sqrt:{self.k}"

    def adjust(self, price: Decimal, is_buy: bool, qty: int, volume: float, rng: float, quote: bool) -> Decimal:
        if not (volume > 0) or not (rng > 0):
            return price
        frac = Decimal(repr(float(self.k) * rng * math.sqrt(qty / volume)))
        return price_against(price * (_ONE + frac if is_buy else _ONE - frac), is_buy)


Slippage = NoSlippage | FixedBps | SpreadSlippage | SqrtImpact

# --------------------------------------------------------------------------- commission


@dataclass(frozen=True, slots=True)
class NoCommission:
    def spec(self) -> str:
        return "none"

    def fee(self, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return ZERO

    def order_fee(self, prev_qty: int, prev_value: Decimal, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return ZERO


@dataclass(frozen=True, slots=True)
class PerShare:
    """``rate`` per share, at least ``minimum``, at most ``max_pct`` % of the value."""

    rate: Decimal
    minimum: Decimal = ZERO
    max_pct: Decimal | None = None

    def spec(self) -> str:
        s = f"per_share:{self.rate}:{self.minimum}"
        return s + (f":{self.max_pct}" if self.max_pct is not None else "")

    def fee(self, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return self._fee(qty, price * qty)

    def _fee(self, qty: int, value: Decimal) -> Decimal:
        if qty <= 0:
            return ZERO
        f = max(self.rate * qty, self.minimum)
        if self.max_pct is not None:
            f = min(f, value * self.max_pct / _HUNDRED)
        return fee_cents(f)

    def order_fee(self, prev_qty: int, prev_value: Decimal, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        """Fee of an execution of ``qty`` at ``price`` of an order that has already filled
        ``prev_qty`` shares worth ``prev_value`` dollars: the order's fee on its cumulative
        quantity and value minus what its earlier executions were charged, so the minimum and
        the cap apply per order (IBKR Pro fixed), not per fill. Never negative (the fee grows
        with both quantity and value)."""
        total = self._fee(prev_qty + qty, prev_value + price * qty)
        return max(total - self._fee(prev_qty, prev_value), ZERO)


@dataclass(frozen=True, slots=True)
class PercentCommission:
    """``pct`` percent of the trade value."""

    pct: Decimal

    def spec(self) -> str:
        return f"percent:{self.pct}"

    def fee(self, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return fee_cents(price * qty * self.pct / _HUNDRED)

    def order_fee(self, prev_qty: int, prev_value: Decimal, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return self.fee(qty, price, is_sell)


@dataclass(frozen=True, slots=True)
class FlatCommission:
    """``amount`` per fill."""

    amount: Decimal

    def spec(self) -> str:
        return f"flat:{self.amount}"

    def fee(self, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return fee_cents(self.amount)

    def order_fee(self, prev_qty: int, prev_value: Decimal, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return self.fee(qty, price, is_sell)


# US regulatory fees on sales, passed on by every US broker (``RegulatoryFees``). The rates
# change: check the sources and give the current ones in the spec (``+reg:SEC:TAF:TAF_MAX``).
#: SEC Section 31 fee, dollars per dollar of sale proceeds: $27.80 per million, the rate set by
#: the SEC's Fee Rate Advisory #2 for fiscal 2024, in force since 2024-05-22 (sec.gov,
#: "Section 31 Fees"). The SEC set it to $0.00 from 2025-05-14 for the rest of fiscal 2025
#: (its FY2025 appropriation was collected); $27.80, the last non-zero rate, is kept as the
#: default so a paper sale is never cheaper than a real one.
SEC_FEE_RATE = Decimal("0.0000278")
#: FINRA Trading Activity Fee on covered equity sales, dollars per share sold, and its cap
#: per trade: $0.000166 and $8.30, in force since 2024-01-01 (FINRA By-Laws, Schedule A,
#: Section 1(b)).
FINRA_TAF_PER_SHARE = Decimal("0.000166")
FINRA_TAF_MAX = Decimal("8.30")


@dataclass(frozen=True, slots=True)
class RegulatoryFees:
    """Fees on sells only: the SEC Section 31 fee (``sec_rate`` × sale proceeds) and the
    FINRA TAF (``taf_per_share`` × shares sold, at most ``taf_max`` a trade), each rounded
    up to the cent."""

    sec_rate: Decimal = SEC_FEE_RATE
    taf_per_share: Decimal = FINRA_TAF_PER_SHARE
    taf_max: Decimal = FINRA_TAF_MAX

    def spec(self) -> str:
        return f"reg:{self.sec_rate}:{self.taf_per_share}:{self.taf_max}"

    def fee(self, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        if not is_sell:
            return ZERO
        return fee_cents(price * qty * self.sec_rate) + fee_cents(min(qty * self.taf_per_share, self.taf_max))


BaseCommission = NoCommission | PerShare | PercentCommission | FlatCommission


@dataclass(frozen=True, slots=True)
class WithRegulatoryFees:
    """A commission model plus the regulatory fees on sells (spec ``BASE+reg[:SEC:TAF:MAX]``)."""

    base: BaseCommission
    fees: RegulatoryFees = RegulatoryFees()

    def spec(self) -> str:
        return f"{self.base.spec()}+{self.fees.spec()}"

    def fee(self, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return self.base.fee(qty, price, is_sell) + self.fees.fee(qty, price, is_sell)

    def order_fee(self, prev_qty: int, prev_value: Decimal, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        """The base model's fee for this execution (per order for ``PerShare``) plus the
        regulatory fees of the execution itself."""
        return self.base.order_fee(prev_qty, prev_value, qty, price, is_sell) + self.fees.fee(qty, price, is_sell)


@dataclass(frozen=True, slots=True)
class PerContract:
    """Options: ``rate`` per contract, at least ``minimum`` per order (quantities are
    contracts; the premium does not matter)."""

    rate: Decimal
    minimum: Decimal = ZERO

    def spec(self) -> str:
        return f"per_contract:{self.rate}:{self.minimum}"

    def fee(self, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        return fee_cents(max(self.rate * qty, self.minimum)) if qty > 0 else ZERO

    def order_fee(self, prev_qty: int, prev_value: Decimal, qty: int, price: Decimal, is_sell: bool = False) -> Decimal:
        """This execution's part of the order's fee (the minimum applies once per order)."""
        return max(self.fee(prev_qty + qty, price) - self.fee(prev_qty, price), ZERO)


Commission = NoCommission | PerShare | PercentCommission | FlatCommission | WithRegulatoryFees | PerContract

#: Interactive Brokers Pro, fixed pricing (US stocks): $0.005 a share, at least $1.00 and at
#: most 1 % of the trade value per order (interactivebrokers.com, "Commissions Stocks").
IBKR_PRO_FIXED = PerShare(Decimal("0.005"), Decimal("1.00"), Decimal("1"))
#: The commission of a new paper account unless another model is picked.
DEFAULT_COMMISSION: Commission = IBKR_PRO_FIXED
#: Interactive Brokers Pro, US options (fixed, premium ≥ $0.10): $0.65 a contract, at least
#: $1.00 per order (interactivebrokers.com, "Commissions Options"). Every account's option
#: orders pay this unless its config names another ``option_commission``.
IBKR_PRO_OPTIONS = PerContract(Decimal("0.65"), Decimal("1.00"))
#: Named models a front end offers (spec strings for ``parse_commission``).
COMMISSION_MODELS: dict[str, str] = {
    "IBKR Pro fixed": IBKR_PRO_FIXED.spec(),
    "IBKR Pro fixed + SEC/FINRA fees": WithRegulatoryFees(IBKR_PRO_FIXED).spec(),
    "None": "none",
}


def _parse_reg(text: str) -> RegulatoryFees:
    parts = text.split(":")
    if parts[0] != "reg" or len(parts) not in (1, 4):
        raise ValueError
    if len(parts) == 1:
        return RegulatoryFees()
    sec, taf, cap = (Decimal(p) for p in parts[1:])
    if any(not n.is_finite() or n < 0 for n in (sec, taf, cap)) or sec > _ONE / 100 or taf > _ONE or cap > _MAX_FEE:
        raise ValueError
    return RegulatoryFees(sec, taf, cap)


def parse_commission(spec: str) -> Commission:
    """``none`` | ``per_share:RATE[:MIN[:MAX_PCT]]`` | ``percent:P`` | ``flat:A``, each
    optionally followed by ``+reg`` (SEC Section 31 fee and FINRA TAF on sells, today's
    rates ``SEC_FEE_RATE``, ``FINRA_TAF_PER_SHARE``, ``FINRA_TAF_MAX``) or
    ``+reg:SEC_RATE:TAF_PER_SHARE:TAF_MAX`` (rates given).

    Bounds: RATE ≤ 100 per share, MIN and A ≤ 1,000,000, P and MAX_PCT ≤ 100 (%); SEC_RATE
    ≤ 0.01 of proceeds, TAF ≤ $1 a share. Raises ``ValueError`` with the accepted forms for
    anything else.
    """
    base_text, plus, reg_text = spec.strip().lower().partition("+")
    if plus:
        base = parse_commission(base_text)
        try:
            if isinstance(base, (WithRegulatoryFees, PerContract)):
                raise ValueError  # SEC/FINRA share fees do not apply to a per-contract model here
            return WithRegulatoryFees(base, _parse_reg(reg_text.strip()))
        except (ArithmeticError, ValueError):
            raise ValueError(
                f"commission {spec!r} not understood: the regulatory fees are +reg or "
                "+reg:SEC_RATE:TAF_PER_SHARE:TAF_MAX (e.g. per_share:0.005:1:1+reg)"
            ) from None
    parts = base_text.strip().split(":")
    try:
        if parts == ["none"] or parts == [""]:
            return NoCommission()
        nums = [Decimal(p) for p in parts[1:]]
        if any(not n.is_finite() or n < 0 for n in nums):
            raise ValueError
        # sane bounds (they also keep fee arithmetic far inside Decimal's precision)
        if parts[0] == "per_share" and 1 <= len(nums) <= 3 and nums[0] <= _MAX_PER_SHARE \
                and (len(nums) < 2 or nums[1] <= _MAX_FEE) and (len(nums) < 3 or nums[2] <= _HUNDRED):
            return PerShare(nums[0], nums[1] if len(nums) > 1 else ZERO, nums[2] if len(nums) > 2 else None)
        if parts[0] == "percent" and len(nums) == 1 and nums[0] <= _HUNDRED:
            return PercentCommission(nums[0])
        if parts[0] == "flat" and len(nums) == 1 and nums[0] <= _MAX_FEE:
            return FlatCommission(nums[0])
        if parts[0] == "per_contract" and 1 <= len(nums) <= 2 and nums[0] <= _MAX_FEE \
                and (len(nums) < 2 or nums[1] <= _MAX_FEE):
            return PerContract(nums[0], nums[1] if len(nums) > 1 else ZERO)
    except (ArithmeticError, ValueError):
        pass
    raise ValueError(
        f"commission {spec!r} not understood; use none, per_share:RATE[:MIN[:MAX_PCT]], "
        "percent:P, flat:AMOUNT or per_contract:RATE[:MIN] (e.g. per_share:0.005:1.0), with RATE and P at most 100 and amounts at most 1000000"
    )


def parse_slippage(spec: str) -> Slippage:
    """``none`` | ``bps:N`` | ``spread[:N]`` | ``sqrt[:K]``; raises ``ValueError`` otherwise.

    Bounds: bps ≤ 5000 (50 %), spread ≤ 10000 bps, K ≤ 10."""
    parts = spec.strip().lower().split(":")
    try:
        nums = [Decimal(p) for p in parts[1:]]
        if any(not n.is_finite() or n < 0 for n in nums) or len(nums) > 1:
            raise ValueError
        if nums and nums[0] > _MAX_SLIP.get(parts[0], ZERO):
            raise ValueError
        if parts[0] in ("none", "") and not nums:
            return NoSlippage()
        if parts[0] == "bps" and nums:
            return FixedBps(nums[0])
        if parts[0] == "spread":
            return SpreadSlippage(nums[0]) if nums else SpreadSlippage()
        if parts[0] == "sqrt":
            return SqrtImpact(nums[0]) if nums else SqrtImpact()
    except (ArithmeticError, ValueError):
        pass
    raise ValueError(
        f"slippage {spec!r} not understood; use none, bps:N (N at most 5000), spread[:BPS] (at most 10000) "
        "or sqrt[:K] (K at most 10), e.g. bps:5"
    )


@dataclass(frozen=True, slots=True)
class FillConfig:
    """How an account's orders fill. ``participation`` is a fraction of bar volume (0 < p ≤ 1)."""

    slippage: Slippage = NoSlippage()
    commission: Commission = NoCommission()
    participation: float = 0.10
    latency_ms: int = 0
    #: what option orders pay (``commission`` stays the shares' model)
    option_commission: Commission = IBKR_PRO_OPTIONS

    def commission_for(self, symbol: str) -> Commission:
        """The commission model of orders in ``symbol`` (an OCC symbol: ``option_commission``)."""
        return self.option_commission if is_option(symbol) else self.commission

    def __post_init__(self) -> None:
        p, lat = self.participation, self.latency_ms
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise ValueError(f"participation must be a number in (0, 1], not {p!r}")
        if isinstance(lat, bool) or not isinstance(lat, int) or lat > 86_400_000:
            raise ValueError(f"latency must be whole milliseconds up to a day, not {lat!r}")
        if not isinstance(self.slippage, Slippage) or not isinstance(self.commission, Commission) \
                or not isinstance(self.option_commission, Commission):
            raise ValueError("slippage and commission must be models of engine.paper.fills")
        if not (0 < self.participation <= 1):
            raise ValueError(f"participation must be in (0, 1], not {self.participation}")
        if self.latency_ms < 0:
            raise ValueError("latency must be ≥ 0 ms")


# --------------------------------------------------------------------------- matching


@_fast_init
@dataclass(frozen=True, slots=True)
class Match:
    """What the rules say for one order on one bar or quote.

    ``price`` the fill price before slippage (None: no fill now); ``trigger`` the price at
    which an untriggered stop was hit (None: not triggered now); ``marketable`` True when
    the fill is market-like (slippage is not capped by a limit).
    """

    price: Decimal | None
    trigger: Decimal | None = None
    marketable: bool = True


NO_MATCH = Match(None)


def _limit_bar(is_buy: bool, limit: Decimal, o: Decimal, h: Decimal, lo: Decimal) -> Decimal | None:
    if is_buy:
        if o <= limit:
            return o
        return limit if lo <= limit else None
    if o >= limit:
        return o
    return limit if h >= limit else None


def match_bar(order: Order, o: Decimal, h: Decimal, lo: Decimal) -> Match:
    """Apply the bar-mode rules (module docstring) to ``order`` on a bar (o, h, lo).

    ``o`` is the bar's open, or the activation price for orders activated inside the bar.
    """
    t = order.type
    is_buy = order.is_buy
    if t is OrderType.MARKET:
        return Match(o)
    if t is OrderType.LIMIT:
        p = _limit_bar(is_buy, order.limit_price, o, h, lo)  # type: ignore[arg-type]
        return Match(p, None, False) if p is not None else NO_MATCH
    if order.triggered:
        if t is OrderType.STOP_LIMIT:
            p = _limit_bar(is_buy, order.limit_price, o, h, lo)  # type: ignore[arg-type]
            return Match(p, None, False) if p is not None else NO_MATCH
        return Match(o)
    stop: Decimal = order.stop_price  # type: ignore[assignment]
    if is_buy:
        gap, hit = o >= stop, h >= stop
    else:
        gap, hit = o <= stop, lo <= stop
    if gap:
        if t is OrderType.STOP_LIMIT:
            p = _limit_bar(is_buy, order.limit_price, o, h, lo)  # type: ignore[arg-type]
            return Match(p, o, False)
        return Match(o, o)
    if hit:
        if t is OrderType.STOP_LIMIT:
            limit: Decimal = order.limit_price  # type: ignore[assignment]
            ok = limit >= stop if is_buy else limit <= stop
            return Match(stop if ok else None, stop, False)
        return Match(stop, stop)
    return NO_MATCH


def match_quote(order: Order, q: Quote) -> Match:
    """Apply the quote-mode rules (module docstring) to ``order`` against quote ``q``."""
    t = order.type
    is_buy = order.is_buy
    px = q.ask if is_buy else q.bid
    if not px > 0:
        return NO_MATCH  # an option quote without a bid: nothing to sell into
    if t is OrderType.MARKET:
        return Match(px)
    if t is OrderType.LIMIT:
        lim = order.limit_price
        ok = px <= lim if is_buy else px >= lim  # type: ignore[operator]
        return Match(px, None, False) if ok else NO_MATCH
    trig = None
    if not order.triggered:
        last = q.last if q.last is not None else px
        stop: Decimal = order.stop_price  # type: ignore[assignment]
        if not (last >= stop if is_buy else last <= stop):
            return NO_MATCH
        trig = last
    if t is OrderType.STOP_LIMIT:
        lim = order.limit_price
        ok = px <= lim if is_buy else px >= lim  # type: ignore[operator]
        return Match(px if ok else None, trig, False)
    return Match(px, trig)


def trail_stop(order: Order, ref: Decimal) -> Decimal:
    """The trailing stop price for reference (best) price ``ref``, rounded against the trader."""
    is_buy = order.is_buy
    if order.trail_amount is not None:
        raw = ref + order.trail_amount if is_buy else ref - order.trail_amount
    else:
        f = order.trail_percent / _HUNDRED  # type: ignore[operator]
        raw = ref * (_ONE + f) if is_buy else ref * (_ONE - f)
    if raw <= 0:
        raw = CENT / 100
    return price_against(raw, is_buy)


def fill_price(
    order: Order, m: Match, slippage: Slippage, qty: int, volume: float, bar: Bar | None, quote: bool,
) -> Decimal:
    """The final fill price: slippage against the trader, capped at the limit for limit-type
    fills, clipped to the bar's [low, high] in bar mode."""
    price: Decimal = m.price  # type: ignore[assignment]
    if type(slippage) is NoSlippage:
        return price
    rng = 0.0
    if bar is not None and bar.open > 0:
        rng = float((bar.high - bar.low) / bar.open)
    p = slippage.adjust(price, order.is_buy, qty, volume, rng, quote)
    if not m.marketable and order.limit_price is not None:
        p = min(p, order.limit_price) if order.is_buy else max(p, order.limit_price)
    if bar is not None:
        p = min(max(p, bar.low), bar.high)
    return p


def participation_cap(volume: float, participation: float) -> int | None:
    """Most shares an account may take from a bar of ``volume``; None = no cap (unknown)."""
    if not (volume > 0):
        return None
    return int(math.floor(volume * participation + 1e-9))
