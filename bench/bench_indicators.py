"""Indicators on 1,000,000 bars: ours vs TA-Lib (peer) with plain pandas in the note.

Synthetic geometric random walk from a fixed seed (positive prices). pandas-ta does not
install here, so the pandas figure is the plain pandas rolling/ewm formulation a user
would otherwise write (noted as "pandas n/a" where pandas has no vectorised form).

Ours and TA-Lib are timed in alternation (``interleaved``), medians of 11 rounds; pandas
takes the median of 3. The first line of the output names the CPU (bench/core.py).
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import talib

import engine.indicators as ind
from bench.core import Result, benchmark, median_of
from engine.indicators._backend import backend

N = 1_000_000
_rng = np.random.default_rng(20240601)
C = 100.0 * np.exp(np.cumsum(_rng.normal(0.0, 0.01, N)))
_spread = np.abs(_rng.normal(0.0, 0.006, N)) * C
H, L = C + _spread, C - _spread
V = _rng.integers(1_000, 1_000_000, N).astype(np.float64)
S, HS, LS, VS = pd.Series(C), pd.Series(H), pd.Series(L), pd.Series(V)


def _tr_pd() -> pd.Series:
    pc = S.shift(1)
    return pd.concat([HS - LS, (HS - pc).abs(), (LS - pc).abs()], axis=1).max(axis=1)


def _rsi_pd(n: int = 14) -> pd.Series:
    d = S.diff()
    g = d.clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    lo = (-d).clip(lower=0).ewm(alpha=1 / n, adjust=False).mean()
    return 100 * g / (g + lo)


def _adx_pd(n: int = 14) -> pd.Series:
    up, dn = HS.diff(), -LS.diff()
    pdm = up.where((up > dn) & (up > 0), 0.0)
    mdm = dn.where((dn > up) & (dn > 0), 0.0)
    tr = _tr_pd().ewm(alpha=1 / n, adjust=False).mean()
    pdi = 100 * pdm.ewm(alpha=1 / n, adjust=False).mean() / tr
    mdi = 100 * mdm.ewm(alpha=1 / n, adjust=False).mean() / tr
    return (100 * (pdi - mdi).abs() / (pdi + mdi)).ewm(alpha=1 / n, adjust=False).mean()


def _stoch_pd() -> tuple[pd.Series, pd.Series]:
    hh, ll = HS.rolling(5).max(), LS.rolling(5).min()
    k = (100 * (S - ll) / (hh - ll)).rolling(3).mean()
    return k, k.rolling(3).mean()


def _mfi_pd(n: int = 14) -> pd.Series:
    tp = (HS + LS + S) / 3
    mf = tp * VS
    d = tp.diff()
    pos = mf.where(d > 0, 0.0).rolling(n).sum()
    neg = mf.where(d < 0, 0.0).rolling(n).sum()
    return 100 * pos / (pos + neg)


def _macd_pd() -> Any:
    line = S.ewm(span=12, adjust=False).mean() - S.ewm(span=26, adjust=False).mean()
    sig = line.ewm(span=9, adjust=False).mean()
    return line, sig, line - sig


CASES: dict[str, tuple[Callable[[], Any], Callable[[], Any] | None, Callable[[], Any] | None]] = {
    "sma": (lambda: ind.sma(C, 20), lambda: talib.SMA(C, 20), lambda: S.rolling(20).mean()),
    "ema": (lambda: ind.ema(C, 20), lambda: talib.EMA(C, 20),
            lambda: S.ewm(span=20, adjust=False).mean()),
    "wma": (lambda: ind.wma(C, 20), lambda: talib.WMA(C, 20), None),
    "dema": (lambda: ind.dema(C, 20), lambda: talib.DEMA(C, 20), None),
    "rsi": (lambda: ind.rsi(C), lambda: talib.RSI(C, 14), _rsi_pd),
    "macd": (lambda: ind.macd(C), lambda: talib.MACD(C), _macd_pd),
    "bbands": (lambda: ind.bbands(C), lambda: talib.BBANDS(C, 20, 2, 2),
               lambda: (S.rolling(20).mean(), S.rolling(20).std(ddof=0))),
    "atr": (lambda: ind.atr(H, L, C), lambda: talib.ATR(H, L, C, 14),
            lambda: _tr_pd().ewm(alpha=1 / 14, adjust=False).mean()),
    "adx": (lambda: ind.adx(H, L, C), lambda: talib.ADX(H, L, C, 14), _adx_pd),
    "stoch": (lambda: ind.stoch(H, L, C), lambda: talib.STOCH(H, L, C), _stoch_pd),
    "stochrsi": (lambda: ind.stochrsi(C), lambda: talib.STOCHRSI(C), None),
    "willr": (lambda: ind.willr(H, L, C), lambda: talib.WILLR(H, L, C),
              lambda: -100 * (HS.rolling(14).max() - S)
              / (HS.rolling(14).max() - LS.rolling(14).min())),
    "cci": (lambda: ind.cci(H, L, C), lambda: talib.CCI(H, L, C), None),
    "mfi": (lambda: ind.mfi(H, L, C, V), lambda: talib.MFI(H, L, C, V), _mfi_pd),
    "obv": (lambda: ind.obv(C, V), lambda: talib.OBV(C, V),
            lambda: (np.sign(S.diff()).fillna(0) * VS).cumsum()),
    "highest": (lambda: ind.highest(C, 20), lambda: talib.MAX(C, 20),
                lambda: S.rolling(20).max()),
    "sar": (lambda: ind.sar(H, L), lambda: talib.SAR(H, L), None),
    "supertrend": (lambda: ind.supertrend(H, L, C), None, None),
    "vwap": (lambda: ind.vwap(H, L, C, V), None,
             lambda: ((HS + LS + S) / 3 * VS).cumsum() / VS.cumsum()),
}

_SLOW = {"sar", "supertrend"}  # Python loops on the numpy fallback: time them twice
ROUNDS = 11  # interleaved rounds of ours and TA-Lib; the medians are reported


def interleaved(ours_fn: Callable[[], Any], peer_fn: Callable[[], Any] | None,
                rounds: int = ROUNDS) -> tuple[float, float | None]:
    """Median wall times (seconds) of ``ours_fn`` and ``peer_fn`` timed in alternation,
    one call each per round: on a shared machine whose speed drifts, both see the same
    minutes (a best-of run of one, then of the other, compares different moments)."""
    ours: list[float] = []
    peer: list[float] = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        ours_fn()
        t1 = time.perf_counter()
        ours.append(t1 - t0)
        if peer_fn is not None:
            peer_fn()
            peer.append(time.perf_counter() - t1)
    return statistics.median(ours), (statistics.median(peer) if peer else None)


def _run(name: str) -> Result:
    ours_fn, ta_fn, pd_fn = CASES[name]
    rounds = 2 if name in _SLOW and backend() == "numpy" else ROUNDS
    # Warm-up outside the timed region: the first call loads the compiled numba kernel
    # from its on-disk cache, or compiles it (a one-off per installation and version).
    t0 = time.perf_counter()
    ours_fn()
    first = time.perf_counter() - t0
    if ta_fn:
        ta_fn()
    ours, ta = interleaved(ours_fn, ta_fn, rounds)
    note = f"1M bars; {backend()}; median of {rounds} interleaved; first call {first * 1e3:.0f}ms"
    if pd_fn is not None:
        p = median_of(pd_fn, repeat=3)
        note += f"; pandas {p * 1e3:.1f}ms ({p / ours:.1f}x ours)"
    else:
        note += "; pandas n/a"
    return Result(f"indicators.{name}", ours, "talib" if ta_fn else None, ta, note)


def _register(name: str) -> None:
    benchmark(f"indicators.{name}")(lambda: _run(name))


for _name in CASES:
    _register(_name)
