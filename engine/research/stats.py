"""Multiple-testing-aware verdicts on a search: the deflated Sharpe ratio and PBO by CSCV.

* Deflated Sharpe ratio: Bailey, D. H. & López de Prado, M. (2014), "The Deflated Sharpe
  Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
  Portfolio Management 40(5), 94–107. The probabilistic Sharpe ratio of the selected
  strategy against the Sharpe ratio expected from the best of N unskilled trials.
* Probability of backtest overfitting by combinatorially symmetric cross-validation:
  Bailey, D. H., Borwein, J., López de Prado, M. & Zhu, Q. J. (2015/2017), "The Probability
  of Backtest Overfitting", Journal of Computational Finance 20(4).

Sharpe ratios here are per observation (not annualised) unless a name says otherwise.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

EULER_GAMMA = 0.5772156649015329


def _finite(x: float, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.floating, np.integer)) or not math.isfinite(float(x)):
        raise ValueError(f"{what} must be a finite number, not {x!r}")
    return float(x)


def expected_max_sharpe(n_trials: int, var_trials: float) -> float:
    """E[max SR] of ``n_trials`` independent unskilled trials whose Sharpe ratios have
    variance ``var_trials`` (per observation): the DSR's benchmark SR₀ (eq. 9 of the paper).

    Raises ``ValueError`` for fewer than 1 trial or a negative variance.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"the number of trials must be a whole number ≥ 1, not {n_trials!r}")
    v = _finite(var_trials, "the variance of the trials' Sharpe ratios")
    if v < 0:
        raise ValueError("the variance of the trials' Sharpe ratios cannot be negative")
    if n_trials == 1:
        return 0.0
    n = float(n_trials)
    z = (1 - EULER_GAMMA) * norm.ppf(1 - 1 / n) + EULER_GAMMA * norm.ppf(1 - 1 / (n * math.e))
    return math.sqrt(v) * float(z)


def probabilistic_sharpe(sr: float, benchmark: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0) -> float:
    """P(true SR > ``benchmark``) given the observed per-observation ``sr`` over ``n_obs``
    returns with ``skew`` and (non-excess) ``kurtosis``. Raises ``ValueError`` for bad inputs."""
    s = _finite(sr, "the Sharpe ratio")
    b = _finite(benchmark, "the benchmark Sharpe ratio")
    g3 = _finite(skew, "the skewness")
    g4 = _finite(kurtosis, "the kurtosis")
    if isinstance(n_obs, bool) or not isinstance(n_obs, (int, np.integer)) or n_obs < 2:
        raise ValueError(f"the number of observations must be ≥ 2, not {n_obs!r}")
    den = 1 - g3 * s + (g4 - 1) / 4 * s * s
    if den <= 0:
        raise ValueError("the skewness and kurtosis give a non-positive variance for this Sharpe ratio")
    return float(norm.cdf((s - b) * math.sqrt(n_obs - 1) / math.sqrt(den)))


def deflated_sharpe(sr: float, n_trials: int, var_trials: float, n_obs: int,
                    skew: float = 0.0, kurtosis: float = 3.0) -> float:
    """The deflated Sharpe ratio (a probability in [0, 1]): ``probabilistic_sharpe`` against
    ``expected_max_sharpe(n_trials, var_trials)``. All Sharpe figures per observation."""
    return probabilistic_sharpe(sr, expected_max_sharpe(n_trials, var_trials), n_obs, skew, kurtosis)


@dataclass(frozen=True, slots=True)
class DeflatedSharpe:
    """The DSR of a search's best trial, with the figures it was computed from."""

    dsr: float
    sharpe: float  # per observation, of the selected trial
    benchmark: float  # SR₀, per observation
    n_trials: int
    n_obs: int
    skew: float
    kurtosis: float


def _moments(r: np.ndarray) -> tuple[float, float, float]:
    m = float(np.mean(r))
    sd = float(np.std(r, ddof=1))
    if sd == 0:
        return 0.0, 0.0, 3.0
    z = (r - m) / float(np.std(r))
    return m / sd, float(np.mean(z ** 3)), float(np.mean(z ** 4))


def deflated_sharpe_of(best_returns: np.ndarray, trial_sharpes: np.ndarray) -> DeflatedSharpe:
    """DSR of the trial with per-period ``best_returns``, selected among trials with
    per-observation Sharpe ratios ``trial_sharpes`` (all of them, the best included).

    Raises ``ValueError`` with fewer than 3 returns or no finite trial Sharpe ratio.
    """
    r = np.asarray(best_returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 3:
        raise ValueError("the deflated Sharpe ratio needs at least 3 returns")
    t = np.asarray(trial_sharpes, dtype=np.float64)
    t = t[np.isfinite(t)]
    if t.size == 0:
        raise ValueError("no trial has a finite Sharpe ratio")
    sr, g3, g4 = _moments(r)
    var = float(np.var(t, ddof=1)) if t.size > 1 else 0.0
    bench = expected_max_sharpe(int(t.size), var)
    den = 1 - g3 * sr + (g4 - 1) / 4 * sr * sr
    dsr = float(norm.cdf((sr - bench) * math.sqrt(r.size - 1) / math.sqrt(den))) if den > 0 else math.nan
    return DeflatedSharpe(dsr, sr, bench, int(t.size), int(r.size), g3, g4)


@dataclass(frozen=True, slots=True)
class PBO:
    """Probability of backtest overfitting: the share of CSCV splits whose in-sample best is
    below the out-of-sample median (logit ≤ 0), with each split's logit."""

    pbo: float
    logits: np.ndarray
    n_splits: int
    n_blocks: int


def _sharpe_cols(m: np.ndarray) -> np.ndarray:
    sd = m.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = m.mean(axis=0) / sd
    return np.where(sd > 0, out, -np.inf)


def pbo_cscv(returns: np.ndarray, n_blocks: int = 16) -> PBO:
    """PBO by CSCV over ``returns`` (T observations × N trials): rows are cut into
    ``n_blocks`` (even) contiguous blocks; every choice of half of them is the in-sample set
    and the rest out of sample; the trial with the best in-sample Sharpe ratio gets its
    out-of-sample relative rank ω = rank / (N + 1) and logit λ = ln(ω / (1 − ω)).

    Raises ``ValueError`` for fewer than 2 trials, an odd or too small block count, or fewer
    rows than blocks.
    """
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError("PBO needs a matrix of returns with at least 2 trials (columns)")
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, int) or n_blocks < 2 or n_blocks % 2:
        raise ValueError(f"the number of CSCV blocks must be an even number ≥ 2, not {n_blocks!r}")
    if m.shape[0] < 2 * n_blocks:
        raise ValueError(f"{m.shape[0]} observations are too few for {n_blocks} CSCV blocks (2 per block at least)")
    m = np.nan_to_num(m, nan=0.0, posinf=0.0, neginf=0.0)
    blocks = np.array_split(np.arange(m.shape[0]), n_blocks)
    n = m.shape[1]
    logits = []
    for chosen in itertools.combinations(range(n_blocks), n_blocks // 2):
        ins = np.concatenate([blocks[k] for k in chosen])
        oos = np.concatenate([blocks[k] for k in range(n_blocks) if k not in chosen])
        best = int(np.argmax(_sharpe_cols(m[ins])))
        perf = _sharpe_cols(m[oos])
        rank = 1 + int(np.sum(perf < perf[best])) + 0.5 * int(np.sum(perf == perf[best]) - 1)
        w = rank / (n + 1)
        logits.append(math.log(w / (1 - w)))
    lg = np.asarray(logits)
    return PBO(float(np.mean(lg <= 0)), lg, len(lg), n_blocks)
