"""Ichimoku as drawn, against its textbook definition computed with pandas on NVDA bars.

TA-Lib has no Ichimoku, so the reference is pandas: midpoints of rolling 9/26/52 highs and
lows, spans shifted forward 26 bars, chikou shifted back 26."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.charts.ichimoku import ichimoku_layout

NVDA = Path(__file__).resolve().parents[2] / "data" / "NVDA-1999-2014.csv"


@pytest.fixture(scope="module")
def nvda():
    return pd.read_csv(NVDA)


def _reference(df: pd.DataFrame) -> dict[str, pd.Series]:
    h, l, c = df["High"], df["Low"], df["Close"]  # noqa: E741
    mid = lambda n: (h.rolling(n).max() + l.rolling(n).min()) / 2  # noqa: E731
    tenkan, kijun = mid(9), mid(26)
    n = len(df)
    # extend the index 26 bars past the last one so the projected cloud has somewhere to go
    ext = pd.RangeIndex(n + 26)
    return {
        "tenkan": tenkan, "kijun": kijun, "chikou": c.shift(-26),
        "senkou_a": ((tenkan + kijun) / 2).reindex(ext).shift(26),
        "senkou_b": mid(52).reindex(ext).shift(26),
    }


def test_every_line_matches_the_textbook_definition_on_nvda(nvda):
    got = ichimoku_layout(nvda["High"], nvda["Low"], nvda["Close"])
    ref = _reference(nvda)
    n = len(nvda)
    assert len(got.tenkan) == len(got.kijun) == len(got.chikou) == n
    assert len(got.senkou_a) == len(got.senkou_b) == n + 26 and got.displacement == 26
    for name, series in ref.items():
        np.testing.assert_allclose(getattr(got, name), series.to_numpy(), rtol=1e-12, equal_nan=True,
                                   err_msg=name)
    # warm-ups as defined: tenkan from bar 8, kijun from 25, span A drawn from 25 + 26, span B from 51 + 26
    assert np.isnan(got.tenkan[7]) and np.isfinite(got.tenkan[8])
    assert np.isnan(got.senkou_a[50]) and np.isfinite(got.senkou_a[51])
    assert np.isnan(got.senkou_b[76]) and np.isfinite(got.senkou_b[77])


def test_the_cloud_is_projected_26_bars_past_the_last_bar(nvda):
    got = ichimoku_layout(nvda["High"], nvda["Low"], nvda["Close"])
    n = len(nvda)
    h, l = nvda["High"].to_numpy(), nvda["Low"].to_numpy()  # noqa: E741
    last_mid52 = (h[-52:].max() + l[-52:].min()) / 2
    last_tenkan = (h[-9:].max() + l[-9:].min()) / 2
    last_kijun = (h[-26:].max() + l[-26:].min()) / 2
    # what the last bar computes is drawn 26 bars later, at x = n - 1 + 26
    assert got.senkou_b[n - 1 + 26] == pytest.approx(last_mid52)
    assert got.senkou_a[n - 1 + 26] == pytest.approx((last_tenkan + last_kijun) / 2)
    assert np.isfinite(got.senkou_a[n:]).all()
    # chikou: today's close drawn 26 bars back; nothing in the last 26 positions
    assert got.chikou[n - 27] == nvda["Close"].iloc[-1] and np.isnan(got.chikou[n - 26:]).all()


def test_short_or_bad_input_is_refused_or_empty():
    got = ichimoku_layout(np.ones(10), np.ones(10), np.ones(10))
    assert len(got.senkou_a) == 36 and np.isnan(got.senkou_a).all()
    with pytest.raises(ValueError):
        ichimoku_layout(np.ones(10), np.ones(9), np.ones(10))
    with pytest.raises(ValueError):
        ichimoku_layout(np.ones(10), np.ones(10), np.ones(10), tenkan=0)
