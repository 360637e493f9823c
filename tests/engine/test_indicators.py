"""engine.indicators against TA-Lib (real ORCL/NVDA bars and 1M synthetic bars), against
hand-computed references for the indicators TA-Lib lacks, and the panel/NaN contract."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

import engine.indicators as ind

RTOL = 1e-9


def load(shared_data, name):
    df = pd.read_csv(shared_data / name)
    return {k.lower(): df[k].to_numpy(np.float64) for k in ("Open", "High", "Low", "Close", "Volume")}


@pytest.fixture(params=["ORCL-1995-2014.csv", "NVDA-1999-2014.csv"])
def bars(request, shared_data):
    return load(shared_data, request.param)


def assert_ta(ours, ref, scale=0.0, what=""):
    """NaN exactly where TA-Lib has NaN; elsewhere within 1e-9 relative. ``scale`` is the
    indicator's natural range (100 for 0..100 oscillators): a reference of exactly 0
    (TA-Lib's flat-window value) is then compared to 1e-9 of that range."""
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape and ours.dtype == np.float64, what
    nan_ours, nan_ref = np.isnan(ours), np.isnan(ref)
    if not (nan_ours == nan_ref).all():
        i = int(np.argmax(nan_ours != nan_ref))
        raise AssertionError(f"{what}: NaN mismatch at bar {i}: ours {ours[i]}, TA-Lib {ref[i]}")
    ok = ~nan_ref
    assert ok.any(), what
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=RTOL, atol=RTOL * scale, err_msg=what)


# --------------------------------------------------------------------------- TA-Lib parity

@pytest.mark.parametrize("n", [2, 5, 14, 20, 50])
def test_moving_averages_match_talib(bars, n):
    c = bars["close"]
    assert_ta(ind.sma(c, n), talib.SMA(c, n), what=f"SMA{n}")
    assert_ta(ind.ema(c, n), talib.EMA(c, n), what=f"EMA{n}")
    assert_ta(ind.wma(c, n), talib.WMA(c, n), what=f"WMA{n}")
    assert_ta(ind.dema(c, n), talib.DEMA(c, n), what=f"DEMA{n}")
    assert_ta(ind.tema(c, n), talib.TEMA(c, n), what=f"TEMA{n}")


@pytest.mark.parametrize("n", [2, 7, 14, 30])
def test_oscillators_match_talib(bars, n):
    h, l, c, v = bars["high"], bars["low"], bars["close"], bars["volume"]
    assert_ta(ind.rsi(c, n), talib.RSI(c, n), 100, f"RSI{n}")
    assert_ta(ind.cci(h, l, c, n), talib.CCI(h, l, c, n), 100, f"CCI{n}")
    assert_ta(ind.willr(h, l, c, n), talib.WILLR(h, l, c, n), 100, f"WILLR{n}")
    assert_ta(ind.mfi(h, l, c, v, n), talib.MFI(h, l, c, v, n), 100, f"MFI{n}")
    assert_ta(ind.roc(c, n), talib.ROC(c, n), what=f"ROC{n}")
    assert_ta(ind.mom(c, n), talib.MOM(c, n), what=f"MOM{n}")


@pytest.mark.parametrize("n", [2, 5, 14, 28])
def test_atr_adx_di_match_talib(bars, n):
    h, l, c = bars["high"], bars["low"], bars["close"]
    assert_ta(ind.atr(h, l, c, n), talib.ATR(h, l, c, n), what=f"ATR{n}")
    assert_ta(ind.natr(h, l, c, n), talib.NATR(h, l, c, n), what=f"NATR{n}")
    assert_ta(ind.adx(h, l, c, n), talib.ADX(h, l, c, n), 100, f"ADX{n}")
    assert_ta(ind.plus_di(h, l, c, n), talib.PLUS_DI(h, l, c, n), 100, f"+DI{n}")
    assert_ta(ind.minus_di(h, l, c, n), talib.MINUS_DI(h, l, c, n), 100, f"-DI{n}")


@pytest.mark.parametrize("fast,slow,signal", [(12, 26, 9), (5, 35, 5), (3, 10, 16)])
def test_macd_matches_talib(bars, fast, slow, signal):
    c = bars["close"]
    ours = ind.macd(c, fast, slow, signal)
    ref = talib.MACD(c, fast, slow, signal)
    # Line/signal/hist are differences of prices: 1e-9 relative, or 1e-9 of the price level
    # where TA-Lib's own difference is at rounding noise.
    for o, r, name in zip(ours, ref, ("line", "signal", "hist")):
        assert_ta(o, r, scale=float(np.median(c)) * 1e-3, what=f"MACD {name}")


@pytest.mark.parametrize("n,k", [(20, 2.0), (10, 1.5), (50, 3.0)])
def test_bbands_match_talib(bars, n, k):
    c = bars["close"]
    up, mid, lo = ind.bbands(c, n, k)
    ru, rm, rl = talib.BBANDS(c, n, k, k)
    assert_ta(up, ru, what="upper")
    assert_ta(mid, rm, what="mid")
    assert_ta(lo, rl, what="lower")
    # %B and bandwidth from TA-Lib's bands.
    w = ru - rl
    with np.errstate(all="ignore"):
        ref_pb = np.where(w > 0, (c - rl) / w, np.nan)
        ref_bw = (ru - rl) / rm
    pb = ind.bb_percent_b(c, n, k)
    ok = ~np.isnan(ref_pb)
    assert (np.isnan(pb) == np.isnan(ref_pb)).all()
    np.testing.assert_allclose(pb[ok], ref_pb[ok], rtol=1e-9, atol=1e-9)
    assert_ta(ind.bb_bandwidth(c, n, k), ref_bw, scale=1.0, what="bandwidth")


@pytest.mark.parametrize("p", [(5, 3, 3), (14, 3, 3), (9, 1, 5)])
def test_stoch_matches_talib(bars, p):
    h, l, c = bars["high"], bars["low"], bars["close"]
    k, d = ind.stoch(h, l, c, *p)
    rk, rd = talib.STOCH(h, l, c, p[0], p[1], 0, p[2], 0)
    assert_ta(k, rk, 100, "slow %K")
    assert_ta(d, rd, 100, "slow %D")


@pytest.mark.parametrize("p", [(14, 5, 3), (14, 14, 3), (7, 3, 1)])
def test_stochrsi_matches_talib(bars, p):
    c = bars["close"]
    k, d = ind.stochrsi(c, *p)
    rk, rd = talib.STOCHRSI(c, p[0], p[1], p[2], 0)
    assert_ta(k, rk, 100, "StochRSI %K")
    assert_ta(d, rd, 100, "StochRSI %D")


def test_obv_and_sar_match_talib(bars):
    h, l, c, v = bars["high"], bars["low"], bars["close"], bars["volume"]
    assert_ta(ind.obv(c, v), talib.OBV(c, v), what="OBV")
    assert_ta(ind.sar(h, l), talib.SAR(h, l), what="SAR")
    assert_ta(ind.sar(h, l, 0.01, 0.1), talib.SAR(h, l, 0.01, 0.1), what="SAR(0.01,0.1)")


def test_highest_lowest_donchian_match_talib(bars):
    h, l = bars["high"], bars["low"]
    np.testing.assert_array_equal(ind.highest(h, 1), h)
    for n in (2, 20, 55):
        assert_ta(ind.highest(h, n), talib.MAX(h, n), what=f"MAX{n}")
        assert_ta(ind.lowest(l, n), talib.MIN(l, n), what=f"MIN{n}")
    up, mid, lo = ind.donchian(h, l, 20)
    assert_ta(up, talib.MAX(h, 20))
    assert_ta(lo, talib.MIN(l, 20))
    assert_ta(mid, (talib.MAX(h, 20) + talib.MIN(l, 20)) / 2)


def test_keltner_is_talib_ema_plus_minus_k_atr(bars):
    h, l, c = bars["high"], bars["low"], bars["close"]
    up, mid, lo = ind.keltner(h, l, c, 20, 2.0, 10)
    e, a = talib.EMA(c, 20), talib.ATR(h, l, c, 10)
    assert np.isnan(mid[:19]).all() and not np.isnan(mid[19:]).any()
    assert_ta(mid, e)
    assert_ta(up, e + 2.0 * a)
    assert_ta(lo, e - 2.0 * a)


@pytest.fixture(scope="module")
def walk():
    rng = np.random.default_rng(7)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, 1_000_000)))
    spread = np.abs(rng.normal(0, 0.005, c.size)) * c
    return c + spread, c - spread, c, rng.integers(1_000, 100_000, c.size).astype(float)


def test_precision_holds_on_a_million_bars(walk):
    """Block-wise prefix sums and the blocked IIR keep 1e-9 relative over 1M bars."""
    h, l, c, v = walk
    assert_ta(ind.sma(c, 20), talib.SMA(c, 20), what="SMA 1M")
    assert_ta(ind.sma(c, 200), talib.SMA(c, 200), what="SMA200 1M")
    assert_ta(ind.ema(c, 14), talib.EMA(c, 14), what="EMA 1M")
    assert_ta(ind.wma(c, 30), talib.WMA(c, 30), what="WMA 1M")
    assert_ta(ind.rsi(c), talib.RSI(c), 100, "RSI 1M")
    assert_ta(ind.atr(h, l, c), talib.ATR(h, l, c), what="ATR 1M")
    for o, r in zip(ind.bbands(c), talib.BBANDS(c, 20, 2, 2)):
        assert_ta(o, r, what="BBANDS 1M")
    for o, r in zip(ind.macd(c), talib.MACD(c)):
        assert_ta(o, r, scale=1e-1, what="MACD 1M")
    # long inputs run chunk by chunk: the chunk seams must not show
    assert_ta(ind.willr(h, l, c), talib.WILLR(h, l, c), 100, "WILLR 1M")
    assert_ta(ind.cci(h, l, c), talib.CCI(h, l, c), 100, "CCI 1M")
    assert_ta(ind.mfi(h, l, c, v), talib.MFI(h, l, c, v), 100, "MFI 1M")
    assert_ta(ind.tema(c, 10), talib.TEMA(c, 10), what="TEMA 1M")
    assert_ta(ind.adx(h, l, c), talib.ADX(h, l, c), 100, "ADX 1M")
    assert_ta(ind.obv(c, v), talib.OBV(c, v), what="OBV 1M")
    assert_ta(ind.minus_di(h, l, c), talib.MINUS_DI(h, l, c), 100, "-DI 1M")
    for o, r in zip(ind.stoch(h, l, c), talib.STOCH(h, l, c)):
        assert_ta(o, r, 100, "STOCH 1M")


def test_long_windows_and_long_rows_are_bit_identical_to_talib(walk):
    """highest/lowest switch method by window length (doubling below 4 bars, the
    square-root decomposition from 4 to 32 with one or more join passes, van
    Herk/Gil-Werman from 33): all give TA-Lib MAX/MIN exactly, also on 1M bars."""
    h, l, _, _ = walk
    for n in (2, 3, 4, 5, 8, 14, 15, 16, 20, 21, 24, 25, 32, 33, 200, 5000):
        np.testing.assert_array_equal(ind.highest(h, n), talib.MAX(h, n), err_msg=f"MAX{n}")
        np.testing.assert_array_equal(ind.lowest(l, n), talib.MIN(l, n), err_msg=f"MIN{n}")


def test_window_extremes_in_two_halves_match_talib_at_every_length_and_gap(walk):
    """From 33 bars, highest/lowest run the row's two halves side by side (van
    Herk/Gil-Werman), from 4 to 32 in chunks of the square-root decomposition: rows of
    every length around the block, half and chunk boundaries give TA-Lib MAX/MIN exactly,
    and a NaN or inf at any bar (the first block or chunk, either half, the seam between
    them, the tail) ends the span there, as on the trimmed row."""
    h = walk[0][:1200]
    for n in (4, 5, 16, 17, 20, 25, 32, 33, 40):
        for m in range(n - 1, 5 * n + 3):
            x = h[:m]
            np.testing.assert_array_equal(ind.highest(x, n), talib.MAX(x, n),
                                          err_msg=f"MAX{n} on {m} bars")
            np.testing.assert_array_equal(ind.lowest(x, n), talib.MIN(x, n),
                                          err_msg=f"MIN{n} on {m} bars")
        x = h[:max(7 * n + 5, 1100)]  # past two 512-bar chunks of the decomposition
        for k in range(1, len(x)):
            y = x.copy()
            y[k] = (np.nan, np.inf, -np.inf)[k % 3]
            for ours, peer in ((ind.highest, talib.MAX), (ind.lowest, talib.MIN)):
                got = ours(y, n)
                ref = peer(x[:k], n) if k >= n else np.full(k, np.nan)
                np.testing.assert_array_equal(got[:k], ref, err_msg=f"n={n} gap at {k}")
                assert np.isnan(got[k:]).all(), f"n={n} gap at {k}"


def test_a_gap_late_in_a_long_row_is_found_after_the_optimistic_pass(walk):
    """The fused kernels compute a long row before knowing it is finite and start over
    on its span when it is not: a NaN or inf near the end (in any input the indicator
    reads) gives exactly the prefix's values, then NaN."""
    h, l, c, v = walk
    cut = len(c) - 1234
    # name: (indicator, the inputs it reads: 0 high, 1 low, 2 close, 3 volume)
    cases = {
        "sma": (lambda h, l, c, v: ind.sma(c, 20), (2,)),
        "wma": (lambda h, l, c, v: ind.wma(c, 20), (2,)),
        "rsi": (lambda h, l, c, v: ind.rsi(c), (2,)),
        "adx": (lambda h, l, c, v: ind.adx(h, l, c), (0, 1, 2)),
        "sar": (lambda h, l, c, v: ind.sar(h, l), (0, 1)),
        "vwap": (lambda h, l, c, v: ind.vwap(h, l, c, v), (0, 1, 2, 3)),
        "bbands": (lambda h, l, c, v: ind.bbands(c)[0], (2,)),
        "highest": (lambda h, l, c, v: ind.highest(c, 20), (2,)),
        "lowest": (lambda h, l, c, v: ind.lowest(c, 200), (2,)),
        "atr": (lambda h, l, c, v: ind.atr(h, l, c), (0, 1, 2)),
        "willr": (lambda h, l, c, v: ind.willr(h, l, c), (0, 1, 2)),
    }
    for name, (f, reads) in cases.items():
        ref = f(h[:cut], l[:cut], c[:cut], v[:cut])
        for which in reads:
            x = [h, l, c, v]
            x[which] = x[which].copy()
            x[which][cut] = np.nan if which % 2 else np.inf
            got = f(*x)
            np.testing.assert_array_equal(got[:cut], ref, err_msg=f"{name} input {which}")
            assert np.isnan(got[cut:]).all(), f"{name} input {which}"


def test_a_gap_inside_the_first_window_ends_the_span_there(walk):
    """A NaN a few bars in (before the first full window) ends the row's valid span at
    once: every output is NaN, also on the optimistic long-row path (which once checked
    only the bars windows end at, and returned values mixing bars across the gap)."""
    h, l, c, _ = walk
    for n in (5, 20, 32, 33, 200):
        for k in (1, n // 2, n - 2):
            x = c.copy()
            x[k] = np.nan
            assert np.isnan(ind.highest(x, n)).all(), f"highest n={n} gap at {k}"
            assert np.isnan(ind.lowest(x, n)).all(), f"lowest n={n} gap at {k}"
            assert np.isnan(ind.wma(x, n)).all(), f"wma n={n} gap at {k}"
            hh = h.copy()
            hh[k] = np.inf
            assert np.isnan(ind.willr(hh, l, c, n)).all(), f"willr n={n} gap at {k}"


# --------------------------------------------------------------------------- hand references

def test_vwap_cumulative_for_daily_bars():
    h = np.array([11.0, 12.0, 13.0])
    l = np.array([9.0, 10.0, 11.0])
    c = np.array([10.0, 11.0, 12.0])
    v = np.array([100.0, 300.0, 0.0])
    # typical prices 10, 11, 12: (1000)/100, (1000+3300)/400, unchanged (no volume)
    expected = np.array([10.0, 4300.0 / 400.0, 4300.0 / 400.0])
    np.testing.assert_allclose(ind.vwap(h, l, c, v), expected, rtol=1e-15)
    daily = np.array([0, 86_400, 172_800], dtype=np.int64)
    np.testing.assert_allclose(ind.vwap(h, l, c, v, daily), expected, rtol=1e-15)


def test_vwap_resets_each_utc_day_on_intraday_bars():
    day = 86_400
    t = np.array([day + 3600 * 22, day + 3600 * 23, 2 * day + 60, 2 * day + 120], dtype=np.int64)
    h = np.array([2.0, 4.0, 10.0, 12.0])
    l = np.array([2.0, 4.0, 10.0, 12.0])
    c = np.array([2.0, 4.0, 10.0, 12.0])
    v = np.array([1.0, 3.0, 5.0, 5.0])
    expected = [2.0, (2 + 12) / 4, 10.0, (50 + 60) / 10]
    np.testing.assert_allclose(ind.vwap(h, l, c, v, t), expected, rtol=1e-15)
    # Without times the same bars give one cumulative VWAP.
    np.testing.assert_allclose(ind.vwap(h, l, c, v)[-1], (2 + 12 + 50 + 60) / 14, rtol=1e-15)
    panel = ind.vwap(np.vstack([h, h]), np.vstack([l, l]), np.vstack([c, c]), np.vstack([v, v]), t)
    np.testing.assert_allclose(panel, [expected, expected], rtol=1e-15)


def test_vwap_rejects_bad_times():
    x = np.ones(3)
    with pytest.raises(ValueError, match="one per bar"):
        ind.vwap(x, x, x, x, np.array([1, 2]))
    with pytest.raises(ValueError, match="strictly increasing"):
        ind.vwap(x, x, x, x, np.array([1, 5, 5]))


def _supertrend_reference(h, l, c, n, mult):
    """TradingView's published SuperTrend script, transcribed bar by bar over TA-Lib's ATR."""
    a = talib.ATR(h, l, c, n)
    line = np.full(c.size, np.nan)
    dirn = np.full(c.size, np.nan)
    up1 = dn1 = None
    trend = 1
    for t in range(c.size):
        if np.isnan(a[t]):
            continue
        src = (h[t] + l[t]) / 2
        up = src - mult * a[t]
        dn = src + mult * a[t]
        if up1 is not None:
            up = max(up, up1) if c[t - 1] > up1 else up
            dn = min(dn, dn1) if c[t - 1] < dn1 else dn
            if trend == -1 and c[t] > dn1:
                trend = 1
            elif trend == 1 and c[t] < up1:
                trend = -1
        line[t] = up if trend == 1 else dn
        dirn[t] = trend
        up1, dn1 = up, dn
    return line, dirn


def test_supertrend_matches_bar_by_bar_reference(bars):
    h, l, c = bars["high"], bars["low"], bars["close"]
    line, dirn = ind.supertrend(h, l, c, 10, 3.0)
    rl, rd = _supertrend_reference(h, l, c, 10, 3.0)
    assert_ta(line, rl, what="SuperTrend line")
    np.testing.assert_array_equal(dirn, rd)
    assert set(np.unique(dirn[~np.isnan(dirn)])) == {-1.0, 1.0}


def test_supertrend_flips_down_on_a_collapse():
    # Flat bars of range 1 (ATR(2) = 1), then a crash below the lower band.
    h = np.array([11.0, 11, 11, 11, 11, 6])
    l = np.array([10.0, 10, 10, 10, 10, 5])
    c = np.array([10.5, 10.5, 10.5, 10.5, 10.5, 5.5])
    line, dirn = ind.supertrend(h, l, c, 2, 1.0)
    # bar 2..4: lower band = 10.5 - 1 = 9.5, direction up; bar 5: close 5.5 < 9.5 -> down,
    # line = upper band: hl2 5.5 + ATR (TR 5.5 -> (1*1 + 5.5)/2 = 3.25) = 8.75.
    np.testing.assert_array_equal(dirn, [np.nan, np.nan, 1, 1, 1, -1])
    np.testing.assert_allclose(line[2:], [9.5, 9.5, 9.5, 8.75])


def test_ichimoku_against_explicit_windows(bars):
    h, l, c = bars["high"][:400], bars["low"][:400], bars["close"][:400]
    tk, kj, sa, sb, ch = ind.ichimoku(h, l, c)

    def mid(t, n):
        return (max(h[t - n + 1:t + 1]) + min(l[t - n + 1:t + 1])) / 2 if t >= n - 1 else np.nan

    for t in range(400):
        assert tk[t] == pytest.approx(mid(t, 9), nan_ok=True)
        assert kj[t] == pytest.approx(mid(t, 26), nan_ok=True)
        src = t - 26
        ea = (mid(src, 9) + mid(src, 26)) / 2 if src >= 0 else np.nan
        assert sa[t] == pytest.approx(ea, nan_ok=True), t
        assert sb[t] == pytest.approx(mid(src, 52) if src >= 0 else np.nan, nan_ok=True), t
        assert ch[t] == pytest.approx(c[t + 26] if t + 26 < 400 else np.nan, nan_ok=True)
    assert np.isnan(sa[:26 + 25]).all() and not np.isnan(sa[51:]).any()
    assert np.isnan(sb[:26 + 51]).all() and not np.isnan(sb[77:]).any()


def test_wma_small_hand_example():
    x = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    # weights 1, 2, 3 (newest 3): (1*2 + 2*3 + 3*4)/6 at bar 3, (3 + 8 + 30)/6 at bar 4
    np.testing.assert_allclose(ind.wma(x, 3), [np.nan, np.nan, 14 / 6, 20 / 6, 41 / 6])


# --------------------------------------------------------------------------- panels and NaN

def _call(spec, data, **kw):
    args = [data[k] if k != "x" else data["close"] for k in spec.inputs]
    out = spec.func(*args, **kw)
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("name", sorted(ind.REGISTRY))
def test_panel_rows_equal_series_with_leading_nan(shared_data, name):
    spec = ind.REGISTRY[name]
    d = load(shared_data, "ORCL-1995-2014.csv")
    d2 = load(shared_data, "NVDA-1999-2014.csv")
    n = 600
    pads = [0, 7, 150]
    sources = [d, d2, d]
    offs = [0, 0, 900]
    panel = {}
    for key in ("high", "low", "close", "volume"):
        rows = []
        for pad, src, off in zip(pads, sources, offs):
            r = np.full(n, np.nan)
            r[pad:] = src[key][off:off + n - pad]
            rows.append(r)
        panel[key] = np.vstack(rows)
    outs = _call(spec, panel, **spec.defaults)
    assert len(outs) == len(spec.outputs)
    for row, (pad, src, off) in enumerate(zip(pads, sources, offs)):
        trimmed = {k: src[k][off:off + n - pad] for k in ("high", "low", "close", "volume")}
        singles = _call(spec, trimmed, **spec.defaults)
        for o, s, oname in zip(outs, singles, spec.outputs):
            assert o.shape == (3, n)
            if name == "ichimoku" and oname == "chikou":
                # close shifted back in time: bars before the history see its first closes
                np.testing.assert_array_equal(o[row, :n - 26], panel["close"][row, 26:])
                continue
            assert np.isnan(o[row, :pad]).all(), f"{name}.{oname} row {row}: values in padding"
            np.testing.assert_allclose(o[row, pad:], s, rtol=1e-12, atol=1e-12,
                                       err_msg=f"{name}.{oname} row {row}")


def test_gap_in_the_middle_makes_the_rest_nan(shared_data):
    d = load(shared_data, "ORCL-1995-2014.csv")
    c = d["close"][:300].copy()
    c[200] = np.nan
    for out in (ind.sma(c, 10), ind.ema(c, 10), ind.rsi(c), ind.macd(c)[0], ind.highest(c, 5)):
        assert not np.isnan(out[40:200]).any()
        assert np.isnan(out[200:]).all()
    clean = ind.ema(d["close"][:200], 10)
    np.testing.assert_allclose(ind.ema(c, 10)[:200], clean, rtol=1e-12)


def test_panel_and_series_agree_with_talib_through_all_nan_row(shared_data):
    d = load(shared_data, "NVDA-1999-2014.csv")
    c = d["close"][:500]
    panel = np.vstack([c, np.full(500, np.nan)])
    out = ind.rsi(panel)
    assert_ta(out[0], talib.RSI(c), 100)
    assert np.isnan(out[1]).all()


def test_short_series_are_all_nan_not_errors():
    x = np.array([1.0, 2.0, 3.0])
    for out in (ind.sma(x, 5), ind.ema(x, 5), ind.rsi(x), ind.macd(x)[2], ind.atr(x, x, x),
                ind.adx(x, x, x), ind.bbands(x)[0], ind.stoch(x, x, x)[1], ind.supertrend(x, x, x)[0],
                ind.wma(x, 4), ind.cci(x, x, x), ind.mfi(x, x, x, x), ind.stochrsi(x)[0]):
        assert out.shape == (3,) and np.isnan(out).all()
    assert ind.sma(np.empty(0), 3).shape == (0,)


# --------------------------------------------------------------------------- helpers

def test_shift_and_change_pct():
    x = np.array([10.0, 11.0, 0.0, 12.0])
    np.testing.assert_array_equal(ind.shift(x, 1), [np.nan, 10, 11, 0])
    np.testing.assert_array_equal(ind.shift(x, -2), [0, 12, np.nan, np.nan])
    np.testing.assert_allclose(ind.change_pct(x, 1), [np.nan, 10.0, -100.0, np.nan])
    p = np.vstack([x, 2 * x])
    np.testing.assert_array_equal(ind.shift(p, 1)[1], [np.nan, 20, 22, 0])


def test_crosses_above_and_below():
    a = np.array([1.0, 2.0, 3.0, 3.0, 2.0, 1.0, np.nan, 3.0])
    b = 2.5
    np.testing.assert_array_equal(ind.crosses_above(a, b), [0, 0, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(ind.crosses_below(a, b), [0, 0, 0, 0, 1, 0, 0, 0])
    # Touching then leaving counts: a[t-1] <= b[t-1].
    np.testing.assert_array_equal(ind.crosses_above([1.0, 2.0, 3.0], [1.0, 2.0, 2.0]), [0, 0, 1])
    panel = np.vstack([a, a[::-1]])
    got = ind.crosses_above(panel, b)
    assert got.dtype == bool and got.shape == panel.shape
    np.testing.assert_array_equal(got[0], ind.crosses_above(a, b))


# --------------------------------------------------------------------------- API contract

def test_bad_input_gets_a_clear_error():
    x = np.arange(50.0)
    with pytest.raises(ValueError, match="n must be an integer >= 2"):
        ind.rsi(x, 1)
    with pytest.raises(ValueError, match="low has shape"):
        ind.atr(x, x[:-1], x)
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        ind.sma(np.ones((2, 2, 2)), 2)
    with pytest.raises(ValueError, match="k must be a positive number"):
        ind.bbands(x, 20, -1)
    with pytest.raises(ValueError, match="cannot be read as float64"):
        ind.ema(["a", "b"], 2)


def test_registry_describes_every_public_indicator(shared_data):
    d = load(shared_data, "ORCL-1995-2014.csv")
    short = {k: v[:300] for k, v in d.items()}
    for name, spec in ind.REGISTRY.items():
        assert getattr(ind, name) is spec.func
        outs = _call(spec, short, **spec.defaults)
        assert len(outs) == len(spec.outputs), name
        assert all(o.shape == (300,) and o.dtype == np.float64 for o in outs), name
        assert any(np.isfinite(o).any() for o in outs), name
    assert ind.REGISTRY["macd"].defaults == {"fast": 12, "slow": 26, "signal": 9}
    assert ind.REGISTRY["stoch"].outputs == ("slowk", "slowd")
    assert ind.REGISTRY["atr"].inputs == ("high", "low", "close")


def test_flat_stretches_match_talib(shared_data):
    """A halted stock (identical bars) makes TR, DX and ranges zero: TA-Lib keeps the
    previous ADX, returns 0 for DI/STOCH/WILLR/CCI — so must we."""
    d = load(shared_data, "ORCL-1995-2014.csv")
    h, l, c, v = (d[k][:700].copy() for k in ("high", "low", "close", "volume"))
    for a in (h, l, c):
        a[100:160] = 5.0
        a[300:620] = 4.0  # long enough for the smoothed true range to fall below 1e-8
    assert_ta(ind.adx(h, l, c), talib.ADX(h, l, c), 100, "ADX flat")
    assert_ta(ind.plus_di(h, l, c), talib.PLUS_DI(h, l, c), 100, "+DI flat")
    assert_ta(ind.rsi(c), talib.RSI(c), 100, "RSI flat")
    assert_ta(ind.willr(h, l, c), talib.WILLR(h, l, c), 100, "WILLR flat")
    assert_ta(ind.cci(h, l, c), talib.CCI(h, l, c), 100, "CCI flat")
    assert_ta(ind.stoch(h, l, c)[0], talib.STOCH(h, l, c)[0], 100, "STOCH flat")
    assert_ta(ind.mfi(h, l, c, v), talib.MFI(h, l, c, v), 100, "MFI flat")
    assert_ta(ind.bbands(c)[0], talib.BBANDS(c, 20, 2, 2)[0], what="BBANDS flat")
    # and the panel path (rows > 1) takes the same branch
    panel = ind.adx(np.vstack([h, h]), np.vstack([l, l]), np.vstack([c, c]))
    assert_ta(panel[1], talib.ADX(h, l, c), 100, "ADX flat panel")


def test_intraday_vwap_panel_row_with_leading_nan_equals_trimmed_series():
    day = 86_400
    t = np.arange(8, dtype=np.int64) * 3 * 3600  # 3-hour bars: a new UTC day every 8 bars
    t = np.concatenate([t, t + day])
    rng = np.random.default_rng(3)
    c = 50 + rng.normal(size=16).cumsum()
    h, l, v = c + 1, c - 1, rng.integers(1, 100, 16).astype(float)
    pad = 5
    ph, pl, pc, pv = (np.vstack([x, np.r_[np.full(pad, np.nan), x[pad:]]]) for x in (h, l, c, v))
    out = ind.vwap(ph, pl, pc, pv, t)
    np.testing.assert_allclose(out[0], ind.vwap(h, l, c, v, t), rtol=1e-14)
    assert np.isnan(out[1, :pad]).all()
    np.testing.assert_allclose(out[1, pad:], ind.vwap(h[pad:], l[pad:], c[pad:], v[pad:], t[pad:]),
                               rtol=1e-14)
    # the day boundary restarts the average: first bar of day two is its own typical price
    assert out[0, 8] == pytest.approx((h[8] + l[8] + c[8]) / 3)


def test_bbands_keep_precision_when_the_spread_is_tiny_next_to_the_price():
    """E[x^2] - mean^2 would lose every digit here (price 100, moves of 1e-5)."""
    rng = np.random.default_rng(11)
    x = 100.0 + rng.normal(0, 1e-5, 3_000)
    for o, r in zip(ind.bbands(x, 20, 2.0), talib.BBANDS(x, 20, 2, 2)):
        assert_ta(o, r, what="BBANDS low vol")
    width = ind.bb_bandwidth(x, 20, 2.0)
    u, m, lo = talib.BBANDS(x, 20, 2, 2)
    assert_ta(width, (u - lo) / m, scale=1e-6, what="bandwidth low vol")


def test_long_panels_are_processed_in_chunks_with_the_same_results():
    """16 symbols x 10,000 bars goes through the chunked paths (chunks of 4,096 columns)."""
    rng = np.random.default_rng(5)
    rows, n = 16, 10_000
    c = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, (rows, n)), axis=1))
    h, l = c * 1.01, c * 0.99
    pads = rng.integers(0, 3_000, rows)
    for r, p in enumerate(pads):
        for a in (c, h, l):
            a[r, :p] = np.nan
    results = {
        "rsi": (ind.rsi(c), lambda i, p: talib.RSI(c[i, p:]), 100),
        "atr": (ind.atr(h, l, c), lambda i, p: talib.ATR(h[i, p:], l[i, p:], c[i, p:]), 0),
        "sma": (ind.sma(c, 30), lambda i, p: talib.SMA(c[i, p:], 30), 0),
        "max": (ind.highest(h, 21), lambda i, p: talib.MAX(h[i, p:], 21), 0),
        "bb": (ind.bbands(c)[0], lambda i, p: talib.BBANDS(c[i, p:], 20, 2, 2)[0], 0),
    }
    for name, (panel, ref, scale) in results.items():
        for i, p in enumerate(pads):
            assert np.isnan(panel[i, :p]).all()
            assert_ta(panel[i, p:], ref(i, p), scale, f"{name} row {i}")


def test_small_magnitudes_are_not_zeroed():
    """Fractional volumes (crypto, FX lots) and penny prices: TA-Lib 0.8 computes them
    normally, and so must we (no 1e-8 / 'below 1' cut-offs)."""
    rng = np.random.default_rng(2)
    c = 10 + rng.normal(0, 0.1, 200).cumsum()
    h, l, v = c + 0.1, c - 0.1, np.full(200, 0.001)
    assert_ta(ind.mfi(h, l, c, v), talib.MFI(h, l, c, v), 100, "MFI tiny volume")
    assert np.nanmin(ind.mfi(h, l, c, v)) > 0
    p = 1e-9 * (1 + 0.01 * rng.normal(size=200).cumsum())
    assert_ta(ind.natr(p * 1.01, p * 0.99, p), talib.NATR(p * 1.01, p * 0.99, p), what="NATR tiny")
    assert_ta(ind.rsi(p), talib.RSI(p), 100, "RSI tiny")
    assert_ta(ind.bbands(p)[0], talib.BBANDS(p, 20, 2, 2)[0], what="BBANDS tiny")


@pytest.mark.parametrize("uneven", [False, True])
def test_session_vwap_over_many_days_matches_a_bar_by_bar_loop(uneven):
    rng = np.random.default_rng(4)
    n = 6_000
    steps = rng.integers(60, 4_000, n)
    if uneven:
        steps[:3_000] = 1  # one huge first session, then many short ones
    t = np.cumsum(steps).astype(np.int64)
    c = 50 + rng.normal(0, 0.1, n).cumsum()
    h, l = c + 0.2, c - 0.2
    v = rng.integers(0, 1_000, n).astype(float)
    v[:5] = 0.0  # no volume yet: no VWAP
    got = ind.vwap(h, l, c, v, t)
    expected = np.empty(n)
    day = t // 86_400
    pv = vol = 0.0
    for i in range(n):
        if i == 0 or day[i] != day[i - 1]:
            pv = vol = 0.0
        pv += (h[i] + l[i] + c[i]) / 3 * v[i]
        vol += v[i]
        expected[i] = pv / vol if vol else np.nan
    assert_ta(got, expected, what="session VWAP")


# --------------------------------------------------------------------------- backends
# The compiled numba kernels are what users run; the numpy kernels are the fallback for a
# platform without numba. Both must give TA-Lib's numbers and the same panel/NaN contract.

import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from engine.indicators import _backend  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["numba", "numpy"])
def backend(request):
    previous = _backend.set_backend(request.param)
    yield request.param
    _backend.set_backend(previous)


def test_numba_kernels_are_what_runs_by_default():
    assert _backend.backend() == "numba"


def test_both_backends_match_talib(bars, backend):
    h, l, c, v = bars["high"], bars["low"], bars["close"], bars["volume"]
    assert _backend.backend() == backend
    assert_ta(ind.sma(c, 20), talib.SMA(c, 20), what=f"{backend} SMA")
    assert_ta(ind.ema(c, 14), talib.EMA(c, 14), what=f"{backend} EMA")
    assert_ta(ind.wma(c, 10), talib.WMA(c, 10), what=f"{backend} WMA")
    assert_ta(ind.tema(c, 9), talib.TEMA(c, 9), what=f"{backend} TEMA")
    assert_ta(ind.rsi(c), talib.RSI(c), 100, f"{backend} RSI")
    assert_ta(ind.atr(h, l, c), talib.ATR(h, l, c), what=f"{backend} ATR")
    assert_ta(ind.adx(h, l, c), talib.ADX(h, l, c), 100, f"{backend} ADX")
    assert_ta(ind.willr(h, l, c), talib.WILLR(h, l, c), 100, f"{backend} WILLR")
    assert_ta(ind.cci(h, l, c), talib.CCI(h, l, c), 100, f"{backend} CCI")
    assert_ta(ind.mfi(h, l, c, v), talib.MFI(h, l, c, v), 100, f"{backend} MFI")
    assert_ta(ind.obv(c, v), talib.OBV(c, v), what=f"{backend} OBV")
    assert_ta(ind.sar(h, l), talib.SAR(h, l), what=f"{backend} SAR")
    for o, r in zip(ind.bbands(c), talib.BBANDS(c, 20, 2, 2)):
        assert_ta(o, r, what=f"{backend} BBANDS")
    for o, r in zip(ind.stoch(h, l, c), talib.STOCH(h, l, c)):
        assert_ta(o, r, 100, f"{backend} STOCH")
    for o, r in zip(ind.stochrsi(c), talib.STOCHRSI(c)):
        assert_ta(o, r, 100, f"{backend} STOCHRSI")
    for o, r in zip(ind.macd(c), talib.MACD(c)):
        assert_ta(o, r, scale=float(np.median(c)) * 1e-3, what=f"{backend} MACD")


@pytest.mark.parametrize("name", sorted(ind.REGISTRY))
def test_backends_agree_on_panels_with_leading_nan_and_gaps(shared_data, name):
    """Every registry indicator, numba vs numpy, on a panel whose rows start late, stop
    early, and have a missing bar in the middle: same NaN pattern, same values."""
    spec = ind.REGISTRY[name]
    d = load(shared_data, "NVDA-1999-2014.csv")
    n = 400
    panel = {}
    for key in ("high", "low", "close", "volume"):
        rows = np.vstack([d[key][i * 500:i * 500 + n] for i in range(4)])
        rows[1, :37] = np.nan     # short history
        rows[2, 250] = np.nan     # a missing bar: the rest of the row is NaN
        rows[3, :] = np.nan       # no data at all
        panel[key] = rows
    panel["volume"][0, 300] = np.inf  # one bad input is enough to end the run

    def compute(which):
        previous = _backend.set_backend(which)
        try:
            return _call(spec, panel, **spec.defaults)
        finally:
            _backend.set_backend(previous)

    fast, slow = compute("numba"), compute("numpy")
    for a, b, oname in zip(fast, slow, spec.outputs):
        what = f"{name}.{oname}"
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=what)
        ok = ~np.isnan(b)
        # (change_pct is elementwise and chikou is the close shifted: no gap rule)
        if name != "change_pct" and oname != "chikou":
            assert np.isnan(a[2, 250:]).all() and np.isnan(a[3]).all(), what
        if ok.any():
            scale = float(np.abs(b[ok]).max())
            np.testing.assert_allclose(a[ok], b[ok], rtol=1e-9, atol=1e-12 * scale,
                                       err_msg=what)


def test_set_backend_rejects_unknown_names():
    with pytest.raises(ValueError, match="backend must be one of"):
        _backend.set_backend("cuda")


def test_numba_cache_dir_moves_to_the_user_cache_when_the_package_is_read_only(tmp_path):
    # A regular file named __pycache__ makes the folder unwritable even for root.
    pkg = tmp_path / "installed"
    pkg.mkdir()
    (pkg / "__pycache__").write_text("")
    env: dict[str, str] = {}
    folder = _backend.configure_numba_cache(pkg, env)
    assert folder is not None and env["NUMBA_CACHE_DIR"] == folder
    assert Path(folder).parts[-2:] == ("StockScanner", "numba") or "StockScanner" in folder
    # The user's own choice wins; a writable source checkout keeps numba's default.
    mine = {"NUMBA_CACHE_DIR": str(tmp_path / "mine")}
    assert _backend.configure_numba_cache(pkg, mine) is None
    assert mine == {"NUMBA_CACHE_DIR": str(tmp_path / "mine")}
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    untouched: dict[str, str] = {}
    assert _backend.configure_numba_cache(checkout, untouched) is None and untouched == {}


def _copy_engine(dest: Path) -> None:
    (dest / "engine").mkdir(parents=True)
    for f in ("__init__.py", "paths.py"):
        shutil.copy(REPO / "engine" / f, dest / "engine" / f)
    shutil.copytree(REPO / "engine" / "indicators", dest / "engine" / "indicators",
                    ignore=shutil.ignore_patterns("__pycache__"))


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NUMBA_", "PYTHON")) and k != "XDG_CACHE_HOME"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG cache dir layout")
def test_read_only_installed_package_compiles_and_caches_in_the_user_cache(tmp_path):
    """An installed app cannot write next to its modules: the kernels still run, and their
    compiled code lands in the user cache dir, where the next process finds it."""
    site = tmp_path / "site"
    _copy_engine(site)
    (site / "engine" / "indicators" / "__pycache__").write_text("")  # unwritable
    cache = tmp_path / "xdg-cache"
    env = _clean_env(PYTHONPATH=str(site), XDG_CACHE_HOME=str(cache))
    code = ("import os, numpy as np, engine.indicators as ind\n"
            "from engine.indicators import _backend\n"
            "print(ind.sma(np.arange(10.0), 3)[-1], _backend.backend(),"
            " os.environ['NUMBA_CACHE_DIR'])")
    for _ in range(2):  # the second process loads what the first one cached
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        value, which, folder = done.stdout.split()
        assert (float(value), which) == (8.0, "numba")
        assert Path(folder) == cache / "StockScanner" / "numba"
        assert "NumbaWarning" not in done.stderr, done.stderr
    assert list(Path(folder).rglob("*.nbi")), "no numba cache index written"


def test_import_is_cheap_and_numpy_is_the_fallback_without_numba(tmp_path):
    """``import engine.indicators`` must not import numba or scipy.signal (~0.3 s and
    ~0.7 s of the app's start-up); with numba broken or absent, indicators still work, on
    the numpy kernels."""
    code = ("import sys, numpy as np, engine.indicators as ind\n"
            "assert 'numba' not in sys.modules, 'numba imported at import time'\n"
            "assert 'scipy.signal' not in sys.modules, 'scipy.signal imported at import'\n"
            "from engine.indicators import _backend\n"
            "out = ind.rsi(np.linspace(1.0, 2.0, 30) ** 2)\n"
            "print(_backend.backend(), out[-1])")
    ok = subprocess.run([sys.executable, "-c", code], env=_clean_env(PYTHONPATH=str(REPO)),
                        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split()[0] == "numba"
    fake = tmp_path / "fake"
    (fake / "numba").mkdir(parents=True)
    (fake / "numba" / "__init__.py").write_text("raise ImportError('numba is not built for "
                                                 "this platform')\n")
    broken = subprocess.run([sys.executable, "-c", code],
                            env=_clean_env(PYTHONPATH=os.pathsep.join([str(fake), str(REPO)])),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 0, broken.stderr
    which, last = broken.stdout.split()
    assert which == "numpy" and float(last) == 100.0  # a steady rise: RSI 100
    assert "numba unavailable" in broken.stderr and "numpy fallback" in broken.stderr


def test_crossings_ignore_rounding_noise_but_not_real_differences():
    from engine.indicators import crosses_above, crosses_below

    a = np.array([1.0, 2.0, 2.0 + 4e-16 * 2, 2.1, 1.9])
    b = np.array([1.5, 2.0, 2.0, 2.0, 2.0])
    # bar 2 differs from a tie only by rounding: the crossing is on bar 3, not bar 2
    assert crosses_above(a, b).tolist() == [False, False, False, True, False]
    assert crosses_below(a, b).tolist() == [False, False, False, False, True]
    # a real (tiny but above noise) difference still counts
    assert crosses_above(np.array([1.0, 1.0 + 1e-9]), 1.0).tolist() == [False, True]


def test_sma_tie_on_orcl_2004_06_29_is_not_a_crossing(shared_data):
    import pandas as pd

    from engine.indicators import crosses_above, sma

    df = pd.read_csv(shared_data / "ORCL-1995-2014.csv")
    c = df["Close"].to_numpy()
    up = crosses_above(sma(c, 10), sma(c, 30))
    dates = set(df["Date"][up])
    assert "2004-06-29" not in dates and "2004-06-30" in dates  # as backtrader's CrossOver


def test_long_ema_tails_run_in_lanes_and_still_match_talib_and_the_plain_loop():
    import talib

    from engine.indicators import _backend, ema

    if _backend.backend() != "numba":
        pytest.skip("numba backend not available")
    rng = np.random.default_rng(5)
    for m in (8_000, 8_192 + 30, 100_003):  # below, just above and well above the lane threshold
        x = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, m)))
        for n in (2, 12, 200):
            ours, ref = ema(x, n), talib.EMA(x, n)
            assert np.array_equal(np.isnan(ours), np.isnan(ref))
            ok = ~np.isnan(ref)
            np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-12)


@pytest.mark.parametrize("n", [2, 10, 200, 5000])
def test_ema_on_a_million_bars_matches_talib_for_short_and_long_periods(walk, n):
    c = walk[2]
    ours, ref = ind.ema(c, n), talib.EMA(c, n)
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    ok = ~np.isnan(ref)
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-12)


def test_ema_carry_fixup_forms_no_subnormal_numbers_and_stops_early():
    """The lanes' carry fix-up ran its powers (1-k)^(j+1) down into subnormals over a
    125,000-bar segment, which made EMA 7x slower on a Xeon. Powers and products now stay
    normal, and the fix-up ends where its terms no longer change the value."""
    from engine.indicators import _backend

    if _backend.backend() != "numba":
        pytest.skip("numba backend not available")
    from engine.indicators import _nb_moving as _nb

    tiny = np.finfo(float).tiny
    seg = 125_000
    for n in (2, 10, 20, 200, 5000):
        k = 2.0 / (n + 1)
        pw = _nb._ema_powers(1.0 - k, seg)
        assert np.all((pw == 0) | (np.abs(pw) >= tiny)), n
        assert np.all(np.diff(pw) < 0), n
        for carry in (1e-20, 1.0, 123.4, -5e3, 1e20):
            og = np.full(seg, 100.0)
            used = _nb._ema_fixup(og, pw, carry)
            prods = pw[:used] * carry
            assert np.all((prods == 0) | (np.abs(prods) >= tiny)), (n, carry)
            # every term left out is below 1/8 ulp of the value it would be added to
            rest = pw[used:] * carry
            assert np.all(og[used:used + rest.size] + rest == 100.0), (n, carry)
            if n <= 200:
                assert used < 20_000, (n, carry, used)  # the old pass ran all 125,000 terms


# --------------------------------------------------------------------------- two-chain lanes

def _long_walk(n=300_000, seed=7):
    rng = np.random.default_rng(seed)
    c = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    s = np.abs(rng.normal(0.0, 0.006, n)) * c
    return c + s, c - s, c


@pytest.mark.parametrize("warm", [None, 1])
def test_two_chain_lanes_equal_the_serial_loop_bit_for_bit(warm):
    """MACD and DEMA run long tails as two halves side by side, ATR as four quarters,
    each later one started early from a guessed state and checked at its seam. Their numbers must be the serial
    loop's exactly; warm=1 makes the seam check fail, which must recompute, not leak."""
    from engine.indicators import _nb_base, _nb_moving, _nb_oscillators, _nb_volatility
    h, l, c = _long_walk()
    m = c.size
    half = m // 2
    kf, ks, kg = 2 / 13, 2 / 27, 2 / 10
    w = _nb_base._warmup_len(ks) if warm is None else warm
    ref = [np.empty(m) for _ in range(3)]
    got = [np.empty(m) for _ in range(3)]
    _nb_oscillators._macd_serial(c, c[0], c[0], 0.0, kf, ks, kg, 0, m, *ref)
    _nb_oscillators._macd_lanes(c, c[0], c[0], 0.0, kf, ks, kg, half, w, *got)
    for r, g in zip(ref, got):
        np.testing.assert_array_equal(g, r)
    k = 2 / 21
    w = _nb_base._warmup_len(k) if warm is None else warm
    r1, g1 = np.empty(m), np.empty(m)
    _nb_moving._dema_serial(c, c[0], c[0], k, 0, m, r1)
    _nb_moving._dema_lanes(c, c[0], c[0], k, half, w, g1)
    np.testing.assert_array_equal(g1, r1)
    a = 13 / 14
    w = _nb_base._warmup_len(1 - a) if warm is None else warm
    r2, g2 = np.empty(m - 1), np.empty(m - 1)
    _nb_volatility._atr_serial(h[1:], l[1:], c[:-1], 1.0, a, 1 - a, 0, m - 1, r2)
    assert _nb_volatility._atr_lanes(h[1:], l[1:], c[:-1], 1.0, a, 1 - a, (m - 1) // 2, w, g2)
    np.testing.assert_array_equal(g2, r2)
    # the fused long-row loop in four quarters (every remainder of the length by 4)
    for e in (m, m - 1, m - 2, m - 3):
        r3, g3 = np.empty(e - 1), np.empty(e - 1)
        assert _nb_volatility._atr_tail(h[1:e], l[1:e], c[:e - 1], 1.0, a, 1 - a, r3)
        assert _nb_volatility._atr_tail4(h[1:e], l[1:e], c[:e - 1], 1.0, a, 1 - a, g3, w)
        np.testing.assert_array_equal(g3, r3)


@pytest.mark.parametrize("quarter", [0, 1, 2, 3])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_atr_quarters_report_a_bad_bar_in_any_quarter_and_keep_the_clean_bars(quarter, bad):
    """A non-finite bar in any of _atr_tail4's quarters (also inside a guess's warm-up)
    makes it return False, and the bars before it are still the serial loop's."""
    from engine.indicators import _nb_base, _nb_volatility
    h, l, c = _long_walk()
    m = c.size - 1
    a = 13 / 14
    w = _nb_base._warmup_len(1 - a)
    q = m // 4
    for at in (quarter * q + q // 2, (quarter + 1) * q - w // 2 if quarter < 3 else m - 2):
        hb = h.copy()
        hb[1 + at] = bad
        ref, got = np.empty(m), np.empty(m)
        _nb_volatility._atr_tail(hb[1:], l[1:], c[:-1], 1.0, a, 1 - a, ref)
        assert not _nb_volatility._atr_tail4(hb[1:], l[1:], c[:-1], 1.0, a, 1 - a, got, w)
        np.testing.assert_array_equal(got[:at], ref[:at])


def test_long_series_match_talib_to_the_last_bit_or_nearly():
    """MACD/DEMA/TEMA/ATR follow TA-Lib 0.8's loops with its multiply-adds (FMA where the
    CPU has it, as TA-Lib's own build does): on 300k bars within 1e-13 relative (bit for
    bit on the machines measured)."""
    h, l, c = _long_walk()
    pairs = [(ind.dema(c, 20), talib.DEMA(c, 20)), (ind.tema(c, 20), talib.TEMA(c, 20)),
             (ind.atr(h, l, c), talib.ATR(h, l, c, 14))]
    pairs += list(zip(ind.macd(c), talib.MACD(c)))
    for ours, ref in pairs:
        ok = ~np.isnan(ref)
        assert np.array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-13, atol=1e-13 * c.max())


@pytest.mark.parametrize("bad_at", [5, 1_000, 100_000, 149_500, 200_000, 299_999])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_atr_fused_finiteness_check_finds_a_bad_bar_anywhere(bad_at, bad):
    """ATR checks its inputs for non-finite values inside its long-series loop: a NaN or
    inf anywhere (seed, first half, second half, last bar) gives the gap rule's result,
    the ATR of the bars before it and NaN from it on."""
    h, l, c = _long_walk()
    for arr in (h, l, c):
        x = arr.copy()
        x[bad_at] = bad
        args = [x if a is arr else a for a in (h, l, c)]
        got = ind.atr(*args)
        assert np.isnan(got[bad_at:]).all()
        clean = ind.atr(h[:bad_at], l[:bad_at], c[:bad_at])
        np.testing.assert_array_equal(got[:bad_at], clean)


@pytest.mark.parametrize("m", [40, 5_000, 300_000])
def test_atr_on_bars_with_low_above_high_is_still_talibs(m):
    """ATR's long-row loop takes the true range as max(high, prev close) - min(low, prev
    close), TA-Lib's own subtraction when low <= high. Bad bars with low > high (or a
    close outside an empty range) must still give TA-Lib's numbers bit for bit."""
    h, l, c = (a[:m].copy() for a in _long_walk())
    rng = np.random.default_rng(11)
    swap = rng.choice(m, m // 20, replace=False)
    h[swap], l[swap] = l[swap].copy(), h[swap].copy()
    flat = rng.choice(m, m // 50, replace=False)
    l[flat] = h[flat]
    c[::7] = h[::7] * 1.01
    for n in (2, 14, 50):
        np.testing.assert_array_equal(ind.atr(h, l, c, n), talib.ATR(h, l, c, n),
                                      err_msg=f"ATR{n} m={m}")
    # and on clean bars the shortcut is TA-Lib's subtraction, bit for bit
    h, l, c = (a[:m] for a in _long_walk())
    np.testing.assert_array_equal(ind.atr(h, l, c), talib.ATR(h, l, c, 14))


def test_wma_blocks_side_by_side_equal_one_at_a_time_and_gaps_end_the_row():
    """WMA recomputes its sums every 1,024 bars and runs two blocks side by side,
    without a scan for gaps first: every length around the block seams gives TA-Lib's
    numbers, and a NaN in any block (seed window, middle, last bar) ends the row there."""
    rng = np.random.default_rng(3)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 9_000)))
    for m in (19, 20, 1_043, 1_044, 2_067, 2_068, 3_091, 5_000, 9_000):
        for n in (1, 2, 20, 300):
            ours, ref = ind.wma(x[:m], n), talib.WMA(x[:m], n)
            assert np.array_equal(np.isnan(ours), np.isnan(ref)), (m, n)
            ok = ~np.isnan(ref)
            np.testing.assert_allclose(ours[ok], ref[ok], rtol=RTOL, err_msg=f"{m} {n}")
    clean = ind.wma(x, 20)
    for bad_at in (3, 1_030, 2_060, 4_500, 8_999):
        y = x.copy()
        y[bad_at] = np.nan
        got = ind.wma(y, 20)
        assert np.isnan(got[bad_at:]).all(), bad_at
        np.testing.assert_array_equal(got[:bad_at], clean[:bad_at])


def test_bbands_are_talibs_bit_for_bit():
    """BBANDS follows TA-Lib 0.8's own algorithm (SMA running total for the middle band,
    shifted-data variance re-anchored every 32*n bars or when its sums go stale), so the
    three bands are TA-Lib's exactly: on a long walk, a flat stretch (the variance
    floor), a spread tiny next to the price, with odd multipliers and long windows; a
    NaN ends the row there and the bars before it keep their values."""
    h, l, c = _long_walk()
    rng = np.random.default_rng(17)
    flat = np.concatenate([c[:3_000], np.full(2_000, c[2_999]), c[3_000:6_000]])
    tiny = 100.0 + rng.normal(0, 1e-5, 3_000)
    for name, x in (("walk", c[:300_000]), ("flat", flat), ("tiny", tiny)):
        for n, k in ((2, 2.0), (7, 1.7), (20, 2.0), (50, 3.3), (400, 2.5)):
            for o, r in zip(ind.bbands(x, n, k), talib.BBANDS(x, n, k, k)):
                np.testing.assert_array_equal(o, r, err_msg=f"{name} n={n} k={k}")
    clean = ind.bbands(flat, 20)
    for bad_at in (5, 700, 4_321):
        y = flat.copy()
        y[bad_at] = np.inf
        for o, ref in zip(ind.bbands(y, 20), clean):
            assert np.isnan(o[bad_at:]).all(), bad_at
            np.testing.assert_array_equal(o[:bad_at], ref[:bad_at])


def test_willr_is_talibs_bit_for_bit():
    """WILLR is TA-Lib 0.8.1's (HH - close) / (HH - LL) * -100 exactly, on the fused
    short-window path (n <= 32) and the general one."""
    h, l, c = _long_walk(100_000)
    for n in (2, 14, 32, 33, 60):
        np.testing.assert_array_equal(ind.willr(h, l, c, n), talib.WILLR(h, l, c, n),
                                      err_msg=f"WILLR{n}")


def test_sma_on_long_rows_runs_in_quarters_closer_to_the_exact_mean_than_talib(walk):
    """Rows of _SMA_LANES_MIN bars or more run as four running totals, each seeded fresh:
    each quarter is TA-Lib's loop from its own seed, the whole is nearer the exact mean
    (long-double window sums) than TA-Lib's carried total, and shorter rows stay TA-Lib's
    bit for bit. A gap in any quarter ends the span there."""
    import talib
    from numpy.lib.stride_tricks import sliding_window_view

    from engine.indicators import _nb_moving
    _, _, c, _ = walk
    n = 20
    got = ind.sma(c, n)
    exact = np.sum(sliding_window_view(c.astype(np.longdouble), n), axis=1) / n
    ref = talib.SMA(c, n)
    err_ours = np.max(np.abs(got[n - 1:] - exact) / exact)
    err_talib = np.max(np.abs(ref[n - 1:] - exact) / exact)
    assert err_ours < 1e-11 and err_ours < err_talib / 5
    # each quarter: the serial loop from a fresh seed at the quarter's first bar
    q = (c.size - (n - 1)) // _nb_moving._SMA_LANES
    for b in (n - 1 + q, n - 1 + 3 * q):
        part = talib.SMA(c[b - n + 1:b + q], n)[n - 1:]
        np.testing.assert_array_equal(got[b:b + q], part)
    short = c[:_nb_moving._SMA_LANES_MIN + n - 2]
    np.testing.assert_array_equal(ind.sma(short, n), talib.SMA(short, n))
    for at in (n + 5, n - 1 + q + 7, n - 1 + 2 * q - 3, c.size - 2):
        x = c.copy()
        x[at] = np.nan
        g = ind.sma(x, n)
        assert np.isnan(g[at:]).all() and np.isfinite(g[n - 1:at]).all(), at
        np.testing.assert_array_equal(g[n - 1:at], ind.sma(c[:at], n)[n - 1:])


def test_cumulative_vwap_on_a_million_bars_is_near_the_exact_value(walk):
    """The running sums run as four local sums per block plus carries: on 1M bars the
    VWAP stays within 1e-14 of long-double sums (one serial sum drifted to ~2e-12),
    for every length around the sub-block seams, and a gap anywhere ends the span."""
    h, l, c, v = walk
    def exact(h, l, c, v):
        tp = (h.astype(np.longdouble) + l + c) / 3 * v
        return np.cumsum(tp) / np.cumsum(v.astype(np.longdouble))
    got = ind.vwap(h, l, c, v)
    assert np.max(np.abs(got - exact(h, l, c, v)) / got) < 1e-14
    for n in (1, 2, 3, 4, 5, 7, 1023, 1024, 1025, 1027, 2047, 2048, 2049, 3075, 4099):
        np.testing.assert_allclose(ind.vwap(h[:n], l[:n], c[:n], v[:n]),
                                   exact(h[:n], l[:n], c[:n], v[:n]).astype(float), rtol=1e-14)
    for at in (5, 300, 700, 1023, len(c) - 3):
        x = c.copy()
        x[at] = np.inf
        g = ind.vwap(h, l, x, v)
        assert np.isnan(g[at:]).all() and np.isfinite(g[:at]).all(), at
