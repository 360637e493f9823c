"""A PNG picture of the chart at a round trip's exit, drawn without Qt.

Pure numpy and zlib, so it runs on any thread (the app renders it in a worker, never on the
GUI thread), in the CLI and in tests. It draws the candles around the trade (up to
``before`` bars before the entry and ``after`` after the exit), the trade's span shaded,
▲ at buys and ▼ at sells at their price and time, and the stop as a red dashed line. A fill
later than the last bar is drawn in a slot to the right of it.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

from engine.journal.roundtrips import RoundTrip

BG = (24, 26, 31)
GRID = (45, 48, 56)
UP = (38, 166, 154)
DOWN = (239, 83, 80)
SPAN = (40, 52, 74)
BUY = (66, 165, 245)
SELL = (255, 167, 38)
STOP = (229, 57, 53)


def encode_png(rgb: npt.NDArray[np.uint8]) -> bytes:
    """An (h, w, 3) uint8 image as PNG bytes. Raises ``ValueError`` for another shape."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("the image must be an (height, width, 3) uint8 array")
    h, w, _ = rgb.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgb.reshape(h, w * 3)], axis=1).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def render_trip_png(trip: RoundTrip, time_s: npt.ArrayLike, open_: npt.ArrayLike, high: npt.ArrayLike,
                    low: npt.ArrayLike, close: npt.ArrayLike, *, width: int = 640, height: int = 360,
                    before: int = 40, after: int = 10) -> bytes:
    """The PNG (bytes) of ``trip`` over its bars (``time_s`` epoch seconds ascending, OHLC).

    Bars may be empty (then only the fills are drawn). Raises ``ValueError`` for arrays of
    unequal length or a size outside 160×120 … 4000×3000.
    """
    if not (160 <= width <= 4000 and 120 <= height <= 3000):
        raise ValueError("the snapshot size must be 160x120 to 4000x3000 pixels")
    t = np.asarray(time_s, dtype=np.int64)
    o, h, lo, c = (np.asarray(a, dtype=np.float64) for a in (open_, high, low, close))
    if not (t.shape == o.shape == h.shape == lo.shape == c.shape) or t.ndim != 1:
        raise ValueError("time, open, high, low and close must be one-dimensional and of equal length")
    ok = np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(c)
    t, o, h, lo, c = t[ok], o[ok], h[ok], lo[ok], c[ok]
    entry_s, exit_s = trip.entry_time_ms // 1000, trip.exit_time_ms // 1000
    i0 = int(np.searchsorted(t, entry_s, side="right")) - 1
    i1 = int(np.searchsorted(t, exit_s, side="right")) - 1
    lo_i = max(0, min(i0, i1) - before) if t.size else 0
    hi_i = min(t.size, max(i1, 0) + after + 1) if t.size else 0
    t, o, h, lo, c = t[lo_i:hi_i], o[lo_i:hi_i], h[lo_i:hi_i], lo[lo_i:hi_i], c[lo_i:hi_i]
    legs = [(leg.time_ms // 1000, float(leg.price), True) for leg in trip.entries] + \
           [(leg.time_ms // 1000, float(leg.price), False) for leg in trip.exits]
    long = trip.direction == "long"

    def slot(ts: int) -> float:
        """x slot of a time: its bar's index, or one past the last bar if later."""
        if not t.size:
            return 0.0
        k = int(np.searchsorted(t, ts, side="right")) - 1
        if ts > t[-1] and t.size > 1 and ts - t[-1] > (t[-1] - t[-2]):
            return float(t.size)
        return float(max(k, 0))

    n_slots = max(int(t.size) + (1 if legs and t.size and max(s for s, _, _ in legs) > t[-1] else 0), 1)
    prices = [p for _, p, _ in legs] + ([float(trip.stop)] if trip.stop is not None else [])
    lows = ([float(lo.min())] if lo.size else []) + prices
    highs = ([float(h.max())] if h.size else []) + prices
    pmin, pmax = (min(lows), max(highs)) if lows else (0.0, 1.0)
    if pmax <= pmin:
        pmin, pmax = pmin * 0.99 - 0.01, pmax * 1.01 + 0.01
    pad = (pmax - pmin) * 0.06
    pmin, pmax = pmin - pad, pmax + pad
    img = np.empty((height, width, 3), np.uint8)
    img[:] = BG
    margin = 8
    plot_w = width - 2 * margin
    step = plot_w / n_slots

    def x_of(s: float) -> int:
        return int(margin + (s + 0.5) * step)

    def y_of(p: float) -> int:
        return int(round((pmax - p) / (pmax - pmin) * (height - 1)))

    for k in range(1, 5):  # horizontal grid
        img[int(height * k / 5), :, :] = GRID
    xs, xe = x_of(slot(entry_s)), x_of(slot(exit_s))
    img[:, max(xs - int(step / 2), 0):min(xe + int(step / 2) + 1, width)] = SPAN
    body = max(int(step * 0.6), 1)
    for k in range(int(t.size)):
        x = x_of(k)
        col = UP if c[k] >= o[k] else DOWN
        y_hi, y_lo = y_of(h[k]), y_of(lo[k])
        img[max(y_hi, 0):min(y_lo + 1, height), x] = col
        y_a, y_b = sorted((y_of(o[k]), y_of(c[k])))
        img[max(y_a, 0):min(y_b + 1, height), max(x - body // 2, 0):min(x + body // 2 + 1, width)] = col
    if trip.stop is not None:
        y = y_of(float(trip.stop))
        if 0 <= y < height:
            for x0 in range(0, width, 10):
                img[y, x0:x0 + 6] = STOP
    size = max(6, min(14, int(step)))
    for ts, p, opening in legs:
        buy = opening == long
        x, y = x_of(slot(ts)), y_of(p)
        col = BUY if buy else SELL
        for r in range(size):  # ▲ below the price for buys, ▼ above for sells
            half = r // 2
            yy = y + 2 + r if buy else y - 2 - r
            if 0 <= yy < height:
                img[yy, max(x - half, 0):min(x + half + 1, width)] = col
        img[max(y, 0):min(y + 1, height), max(x - size, 0):min(x + size, width)] = col
    return encode_png(img)


def render_trip_snapshot(trip: RoundTrip, bars: object | None, **kwargs: int) -> bytes:
    """``render_trip_png`` over an ``engine.data.bars.Bars`` (or None: fills only)."""
    if bars is None or not len(bars):  # type: ignore[arg-type]
        empty = np.zeros(0)
        return render_trip_png(trip, empty.astype(np.int64), empty, empty, empty, empty, **kwargs)
    b = bars
    return render_trip_png(trip, b.time, b.open, b.high, b.low, b.close, **kwargs)  # type: ignore[attr-defined]
