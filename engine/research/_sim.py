"""The fill state machine of the fast path, as plain Python over numpy arrays.

``engine.research._nb`` compiles these same functions with numba; without numba they run as
they are (slow, same results). Prices are integer micro-dollars (the paper engine's 1e-6
price quantum), cash too, so every comparison the broker makes (``qty × close ≤ cash`` on
submission, ``qty × open ≤ cash`` on the fill) is exact here as it is with its Decimals.

Status codes: 0 exact; 1 a fill would be partial (volume cap) — the event engine decides;
2 a fill could not be afforded at the open — the event engine decides.
"""
from __future__ import annotations

import math

import numpy as np

CROSS_RTOL = 1e-12  # engine.indicators.helpers.CROSS_RTOL (checked by a test)


def simulate(open_u, close_u, vol, entry, exit_, qty, cash_u, participation,  # type: ignore[no-untyped-def]
             out_in, out_out):
    """Long-only market-at-next-open fills of the backtester; trades' entry/exit bar indices
    go to ``out_in``/``out_out``. Returns (trades, status, open entry bar or -1, rejections)."""
    n = open_u.shape[0]
    pos = 0
    pending = 0
    cash = cash_u
    ntr = 0
    ebar = -1
    rej = 0
    for i in range(n):
        if pending != 0:
            v = vol[i]
            if v > 0.0:
                cap = math.floor(v * participation + 1e-9)
                if cap < qty:
                    return ntr, 1, ebar, rej
            if pending == 1:
                cost = qty * open_u[i]
                if cost > cash:
                    return ntr, 2, ebar, rej
                cash -= cost
                pos = qty
                ebar = i
            else:
                cash += qty * open_u[i]
                pos = 0
                out_in[ntr] = ebar
                out_out[ntr] = i
                ntr += 1
                ebar = -1
            pending = 0
        if pos == 0:
            if entry[i]:
                if qty * close_u[i] <= cash:
                    pending = 1
                else:
                    rej += 1
        elif exit_[i]:
            pending = -1
    return ntr, 0, ebar, rej


def sweep_sma(smas, fast_idx, slow_idx, open_u, close_u, close_f, vol, qty, cash_u, participation,  # type: ignore[no-untyped-def]
              out):
    """SMA-crossover sweep: for each combination c and symbol s, entry = crosses_above(
    sma_fast, sma_slow), exit = crosses_below, fills as ``simulate``. ``smas`` is
    (symbols, lengths, bars); ``out[c, s]`` gets (status, trades, final equity, mean and
    std (ddof 1) of bar-to-bar equity returns, max drawdown, gross profit, gross loss, wins)."""
    nc = fast_idx.shape[0]
    ns = smas.shape[0]
    n = smas.shape[2]
    cash0 = float(cash_u) / 1e6
    for c in range(nc):
        fi = fast_idx[c]
        si = slow_idx[c]
        for s in range(ns):
            a = smas[s, fi]
            b = smas[s, si]
            pos = 0
            pending = 0
            cash = cash_u
            ntr = 0
            status = 0
            entry_px = 0
            gp = 0.0
            gl = 0.0
            wins = 0
            prev_d = math.nan
            prev_eq = cash0
            peak = cash0
            mdd = 0.0
            cnt = 0
            mean = 0.0
            m2 = 0.0
            for i in range(n):
                if pending != 0:
                    v = vol[s, i]
                    if v > 0.0:
                        cap = math.floor(v * participation + 1e-9)
                        if cap < qty:
                            status = 1
                            break
                    if pending == 1:
                        cost = qty * open_u[s, i]
                        if cost > cash:
                            status = 2
                            break
                        cash -= cost
                        pos = qty
                        entry_px = open_u[s, i]
                    else:
                        cash += qty * open_u[s, i]
                        pos = 0
                        pnl = float(qty * (open_u[s, i] - entry_px)) / 1e6
                        ntr += 1
                        if pnl > 0:
                            gp += pnl
                            wins += 1
                        elif pnl < 0:
                            gl -= pnl
                    pending = 0
                # crossover of a and b with the formula language's noise rule
                x = a[i]
                y = b[i]
                d = x - y
                if abs(d) <= CROSS_RTOL * max(abs(x), abs(y)):
                    d = 0.0
                up = d > 0 and prev_d <= 0
                down = d < 0 and prev_d >= 0
                prev_d = d
                if pos == 0:
                    if up and qty * close_u[s, i] <= cash:
                        pending = 1
                elif down:
                    pending = -1
                eq = float(cash) / 1e6 + pos * close_f[s, i]
                if i > 0:
                    r = eq / prev_eq - 1.0
                    cnt += 1
                    dl = r - mean
                    mean += dl / cnt
                    m2 += dl * (r - mean)
                prev_eq = eq
                if eq > peak:
                    peak = eq
                dd = 1.0 - eq / peak
                if dd > mdd:
                    mdd = dd
            out[c, s, 0] = status
            out[c, s, 1] = ntr
            out[c, s, 2] = prev_eq
            out[c, s, 3] = mean
            out[c, s, 4] = math.sqrt(m2 / (cnt - 1)) if cnt > 1 else math.nan
            out[c, s, 5] = mdd
            out[c, s, 6] = gp
            out[c, s, 7] = gl
            out[c, s, 8] = wins
