"""Deflated Sharpe ratio and PBO against the papers' worked examples and hand-checked cases."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.research.stats import deflated_sharpe, deflated_sharpe_of, expected_max_sharpe, pbo_cscv


def test_deflated_sharpe_numerical_example_of_the_paper() -> None:
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", section "A numerical
    # example": annualised SR 2.5 over T = 1,250 daily returns (250 a year), N = 100 trials
    # whose annualised Sharpe ratios have variance 0.5, skewness −3, kurtosis 10. The paper
    # finds E[max SR] ≈ 0.1132 (per day) and DSR ≈ 0.9004.
    var_daily = 0.5 / 250
    sr0 = expected_max_sharpe(100, var_daily)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe(2.5 / math.sqrt(250), 100, var_daily, 1250, skew=-3, kurtosis=10)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_one_trial_is_not_deflated() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    # with one trial the DSR is the PSR against 0: a Sharpe of 0 gives one half
    assert deflated_sharpe(0.0, 1, 0.0, 500) == pytest.approx(0.5)


def test_deflated_sharpe_of_returns_penalises_many_trials() -> None:
    rng = np.random.default_rng(5)
    best = rng.normal(0.001, 0.01, 1000)
    few = deflated_sharpe_of(best, np.array([0.1, 0.0, 0.02]))
    many = deflated_sharpe_of(best, rng.normal(0, 0.03, 1000))
    assert many.dsr < few.dsr
    assert many.n_trials == 1000 and many.n_obs == 1000


def test_pbo_hand_checked_two_blocks() -> None:
    # Two trials, two blocks. Block A: trial 0 earns, trial 1 loses; block B: the reverse.
    # IS = A picks trial 0, which is worst in B (ω = 1/3, λ < 0); IS = B picks trial 1, worst
    # in A. Both splits overfit: PBO = 1. With trial 0 better in both blocks: PBO = 0.
    a = np.array([[0.02, -0.01], [0.01, -0.02], [0.03, -0.01]])
    b = a[:, ::-1]
    flip = np.vstack([a, b])
    res = pbo_cscv(flip, n_blocks=2)
    assert res.n_splits == 2 and res.pbo == 1.0
    assert res.logits == pytest.approx([math.log(0.5)] * 2)
    good = np.vstack([a, a])
    assert pbo_cscv(good, n_blocks=2).pbo == 0.0


def test_pbo_of_noise_is_near_one_half_and_of_skill_is_low() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, (1600, 40))
    assert 0.25 < pbo_cscv(noise, 10).pbo < 0.75
    skill = noise.copy()
    skill[:, 7] += 0.004
    assert pbo_cscv(skill, 10).pbo < 0.05


def test_bad_inputs_say_why() -> None:
    with pytest.raises(ValueError, match="even"):
        pbo_cscv(np.zeros((100, 3)), 5)
    with pytest.raises(ValueError, match="at least 2 trials"):
        pbo_cscv(np.zeros((100, 1)), 4)
    with pytest.raises(ValueError, match="≥ 1"):
        expected_max_sharpe(0, 1.0)
