"""The whitelist of functions a formula may call, with argument names and defaults.

Every function maps to ``engine.indicators`` (TA-Lib-compatible, NaN during warm-up).
Argument kinds:

* ``series`` – any expression (``close``, ``sma(close, 20)``, ``(high + low) / 2``);
* ``period`` – a whole-number constant ≥ 1 (``14``), never an expression over bars;
* ``number`` – a constant (``2`` or ``1.5``), e.g. the band width of ``bb_upper``.

Functions of several price fields (``atr(n)``, ``stoch_k(...)``, ``obv()``, ...) read
``high``/``low``/``close``/``volume`` of the bars themselves, like TA-Lib does.

Defaults (an omitted trailing argument takes this value):

==================  =========================================
rsi(x, n)            n = 14
macd*(x, f, s, sig)  fast 12, slow 26, signal 9
bb_*(x, n, k)        n = 20, k = 2
atr natr adx plus_di minus_di cci willr mfi (n)   n = 14
stoch_k/stoch_d(fastk, slowk, slowd)              5, 3, 3
roc(x, n) mom(x, n)  n = 10
shift(x, n) change_pct(x, n)                      n = 1
==================  =========================================

``sma ema wma dema tema highest lowest`` need their period.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_PERIOD = 100_000


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str  # "series" | "period" | "number"
    default: float | None = None
    minimum: int = 1  # for periods: the smallest the indicator accepts (TA-Lib's rule)

    def describe(self) -> str:
        if self.default is None:
            return self.name
        d = int(self.default) if float(self.default).is_integer() else self.default
        return f"{self.name}={d}"


@dataclass(frozen=True, slots=True)
class Context:
    """What an implementation may read besides its arguments: the bar fields (S × T)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    time: np.ndarray | None  # (T,) epoch seconds for session-aware functions, or None


Impl = Callable[[Context, Sequence[np.ndarray], Sequence[float]], np.ndarray]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    params: tuple[Param, ...]
    impl: Impl
    doc: str
    returns_bool: bool = False
    #: bars of warm-up the function adds on top of its series arguments' (TA-Lib lookback)
    lookback: Callable[[Sequence[float]], int] = lambda p: 0

    @property
    def series_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.kind == "series")

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if p.default is None)

    def signature(self) -> str:
        return f"{self.name}({', '.join(p.describe() for p in self.params)})"


def _ind() -> Any:
    # Imported lazily: the formula module must import (and parse/validate) without it.
    import engine.indicators as ind

    return ind


def _i(v: float) -> int:
    return int(v)


X = Param("x", "series")
N = Param("n", "period")


def _n(default: float | None = None, minimum: int = 1) -> Param:
    return Param("n", "period", default, minimum)


def _hlc(name: str) -> Impl:
    def impl(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
        return getattr(_ind(), name)(ctx.high, ctx.low, ctx.close, _i(p[0]))  # type: ignore[no-any-return]

    return impl


def _x_n(name: str) -> Impl:
    def impl(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
        return getattr(_ind(), name)(a[0], _i(p[0]))  # type: ignore[no-any-return]

    return impl


def _pick(name: str, index: int, *, hlc: bool = False, floats: tuple[int, ...] = ()) -> Impl:
    def impl(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
        args = [v if i in floats else _i(v) for i, v in enumerate(p)]
        fn = getattr(_ind(), name)
        out = fn(ctx.high, ctx.low, ctx.close, *args) if hlc else fn(a[0], *args)
        return out[index]  # type: ignore[no-any-return]

    return impl


def _macd_lb(p: Sequence[float]) -> int:
    return int(max(p[0], p[1]) - 1 + p[2] - 1)


def _crosses(name: str) -> Impl:
    def impl(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
        return np.asarray(getattr(_ind(), name)(a[0], a[1]), dtype=bool)

    return impl


def _abs(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
    out: np.ndarray = np.abs(a[0])
    return out


def _min(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
    out: np.ndarray = np.minimum(a[0], a[1])
    return out


def _max(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
    out: np.ndarray = np.maximum(a[0], a[1])
    return out


def _mfi(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
    return _ind().mfi(ctx.high, ctx.low, ctx.close, ctx.volume, _i(p[0]))  # type: ignore[no-any-return]


def _obv(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
    return _ind().obv(ctx.close, ctx.volume)  # type: ignore[no-any-return]


def _vwap(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
    return _ind().vwap(ctx.high, ctx.low, ctx.close, ctx.volume, time=ctx.time)  # type: ignore[no-any-return]


def _stoch(index: int) -> Impl:
    def impl(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
        return _ind().stoch(ctx.high, ctx.low, ctx.close, _i(p[0]), _i(p[1]), _i(p[2]))[index]  # type: ignore[no-any-return]

    return impl


def _build() -> dict[str, FunctionSpec]:
    specs: list[FunctionSpec] = []
    add = specs.append
    for name, what, lb in (
        ("sma", "simple moving average of x over n bars", lambda p: int(p[0]) - 1),
        ("ema", "exponential moving average (TA-Lib seed: SMA of the first n)", lambda p: int(p[0]) - 1),
        ("wma", "linearly weighted moving average", lambda p: int(p[0]) - 1),
        ("dema", "double exponential moving average", lambda p: 2 * (int(p[0]) - 1)),
        ("tema", "triple exponential moving average", lambda p: 3 * (int(p[0]) - 1)),
    ):
        add(FunctionSpec(name, (X, N), _x_n(name), what, lookback=lb))
    add(FunctionSpec("rsi", (X, _n(14, 2)), _x_n("rsi"), "Wilder's relative strength index, 0..100",
                     lookback=lambda p: int(p[0])))
    macd_params = (X, Param("fast", "period", 12, 2), Param("slow", "period", 26, 2), Param("signal", "period", 9))
    for i, name in enumerate(("macd", "macd_signal", "macd_hist")):
        add(FunctionSpec(name, macd_params, _pick("macd", i),
                         ("MACD line", "MACD signal line", "MACD histogram")[i], lookback=_macd_lb))
    bb_params = (X, _n(20, 2), Param("k", "number", 2.0))
    for i, name in enumerate(("bb_upper", "bb_mid", "bb_lower")):
        add(FunctionSpec(name, bb_params, _pick("bbands", i, floats=(1,)),
                         f"Bollinger band ({name[3:]}): SMA(n) {'+' if i == 0 else '-' if i == 2 else ''}"
                         f"{' k standard deviations' if i != 1 else ''}", lookback=lambda p: int(p[0]) - 1))
    for name, what, lb in (
        ("atr", "average true range (Wilder)", lambda p: int(p[0])),
        ("natr", "normalised ATR, percent of close", lambda p: int(p[0])),
        ("adx", "average directional index", lambda p: 2 * int(p[0]) - 1),
        ("plus_di", "plus directional indicator", lambda p: int(p[0])),
        ("minus_di", "minus directional indicator", lambda p: int(p[0])),
        ("cci", "commodity channel index", lambda p: int(p[0]) - 1),
        ("willr", "Williams %R, -100..0", lambda p: int(p[0]) - 1),
    ):
        add(FunctionSpec(name, (_n(14, 1 if name in ("atr", "natr") else 2),), _hlc(name),
                         what + " of the bars' high/low/close", lookback=lb))
    add(FunctionSpec("mfi", (_n(14),), _mfi, "money flow index of the bars, 0..100", lookback=lambda p: int(p[0])))
    add(FunctionSpec("obv", (), _obv, "on-balance volume of the bars"))
    stoch_params = (Param("fastk", "period", 5), Param("slowk", "period", 3), Param("slowd", "period", 3))
    add(FunctionSpec("stoch_k", stoch_params, _stoch(0), "slow stochastic %K of the bars",
                     lookback=lambda p: int(p[0] + p[1] - 2)))
    add(FunctionSpec("stoch_d", stoch_params, _stoch(1), "slow stochastic %D of the bars",
                     lookback=lambda p: int(p[0] + p[1] + p[2] - 3)))
    add(FunctionSpec("roc", (X, _n(10)), _x_n("roc"), "rate of change, percent over n bars",
                     lookback=lambda p: int(p[0])))
    add(FunctionSpec("mom", (X, _n(10)), _x_n("mom"), "momentum: x - x n bars ago", lookback=lambda p: int(p[0])))
    add(FunctionSpec("vwap", (), _vwap, "volume-weighted average price (per session for intraday bars)"))
    add(FunctionSpec("shift", (X, _n(1)), _x_n("shift"), "x as it was n bars ago", lookback=lambda p: int(p[0])))
    add(FunctionSpec("highest", (X, N), _x_n("highest"), "highest x of the last n bars (this one included)",
                     lookback=lambda p: int(p[0]) - 1))
    add(FunctionSpec("lowest", (X, N), _x_n("lowest"), "lowest x of the last n bars (this one included)",
                     lookback=lambda p: int(p[0]) - 1))
    add(FunctionSpec("crosses_above", (Param("a", "series"), Param("b", "series")), _crosses("crosses_above"),
                     "true on the bar where a goes from ≤ b to > b", returns_bool=True, lookback=lambda p: 1))
    add(FunctionSpec("crosses_below", (Param("a", "series"), Param("b", "series")), _crosses("crosses_below"),
                     "true on the bar where a goes from ≥ b to < b", returns_bool=True, lookback=lambda p: 1))
    add(FunctionSpec("change_pct", (X, _n(1)), _x_n("change_pct"), "percent change of x over n bars",
                     lookback=lambda p: int(p[0])))
    add(FunctionSpec("abs", (X,), _abs, "absolute value"))
    add(FunctionSpec("min", (Param("a", "series"), Param("b", "series")), _min, "smaller of a and b, bar by bar"))
    add(FunctionSpec("max", (Param("a", "series"), Param("b", "series")), _max, "larger of a and b, bar by bar"))
    return {s.name: s for s in specs}


#: name → spec, the complete whitelist
FUNCTIONS: dict[str, FunctionSpec] = _build()

#: the bar fields a formula may name
FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "volume")

KEYWORDS: tuple[str, ...] = ("and", "or", "not")

def _needs_news(ctx: Context, a: Sequence[np.ndarray], p: Sequence[float]) -> np.ndarray:
    # reached only by an evaluator that does not supply the news series (not the alerts')
    raise ValueError("sentiment needs the stored news: it is only available in alert conditions")


#: functions only some evaluators can compute (they need data beyond the bars). A parser
#: knows them only when asked (``Parser(extra=ALERT_FUNCTIONS)``); everywhere else their
#: name is refused with ``CONTEXT_ONLY``'s message.
ALERT_FUNCTIONS: dict[str, FunctionSpec] = {
    "sentiment": FunctionSpec(
        "sentiment", (Param("days", "period", 1),), _needs_news,
        "mean news sentiment (compound, -1..1) of the symbol's headlines over the last `days` "
        "sessions up to this bar; NaN without news. `sentiment` alone is sentiment(1)"),
}
CONTEXT_ONLY: dict[str, str] = {
    "sentiment": "'sentiment' (news sentiment) is only available in alert conditions, "
                 "not in scans, charts or strategies",
}

#: names a custom indicator may not take
RESERVED: frozenset[str] = frozenset(FUNCTIONS) | frozenset(FIELDS) | frozenset(KEYWORDS) | frozenset(
    {"true", "false"}
) | frozenset(ALERT_FUNCTIONS)
