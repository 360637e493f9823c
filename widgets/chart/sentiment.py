"""The chart's "News sentiment" study: the symbol's daily mean headline sentiment in its own pane.

The values are ``NewsService.daily_sentiment(symbol, bars).mean`` (``engine.news.series``):
per bar the mean compound score (−1…1) of that day's headlines, every intraday bar of a
session getting its day's figure, NaN on days without news (drawn empty). They are computed
like every other study, in a worker through the chart's study list, and drawn as bars from
zero: green at ≥ 0.05, red at ≤ −0.05 (the VADER label thresholds, drawn as dotted reference
levels with the zero line), grey between.

``attach_news_sentiment(chart, source)`` adds the study to the chart's "+ Indicator" menu
and to its saved state (key ``"news_sentiment"``); ``refresh_news_sentiment(chart)``
recomputes it after news were refreshed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPicture

from engine.data.bars import Bars
from widgets import style
from widgets.chart.items import LineItem, visible_bounds

STUDY_NAME = "News sentiment"
STATE_KEY = "news_sentiment"
THRESHOLD = 0.05  # VADER's label boundary: compound ≥ 0.05 positive, ≤ −0.05 negative
LEVELS = (-THRESHOLD, 0.0, THRESHOLD)
NEUTRAL_COLOR = "#9e9e9e"

#: ``source(symbol, bars)`` → per-bar mean compound (NaN without news), len(bars) values
SentimentSource = Callable[[str, Bars], np.ndarray]


class SentimentBarsItem(LineItem):
    """Bars from zero to each value; several bars per pixel column show their mean."""

    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        b = visible_bounds(self.y, x0, x1)
        return None if b is None else (min(b[0], 0.0), max(b[1], 0.0))

    def _draw(self, i0: int, i1: int, k: int) -> QPicture:
        pic = QPicture()
        p = QPainter(pic)
        seg = self.y[i0:i1]
        if k > 1 and len(seg):
            pad = (-len(seg)) % k
            cols = np.concatenate([seg, np.full(pad, np.nan)]).reshape(-1, k)
            with np.errstate(all="ignore"):
                ok = np.isfinite(cols)
                n = ok.sum(axis=1)
                y = np.where(n > 0, np.where(ok, cols, 0.0).sum(axis=1) / np.maximum(n, 1), np.nan)
            x = i0 + k * np.arange(len(y)) + (k - 1) / 2.0
        else:
            x, y = np.arange(i0, i0 + len(seg), dtype=float), seg
        half = 0.4 * k
        colors = style.CHART
        for color, mask in ((colors.up, y >= THRESHOLD), (colors.down, y <= -THRESHOLD),
                            (NEUTRAL_COLOR, np.abs(y) < THRESHOLD)):
            rects = [QRectF(float(xi) - half, min(0.0, float(yi)), 2 * half, abs(float(yi)))
                     for xi, yi in zip(x[mask], y[mask])]
            if rects:
                p.setPen(Qt.PenStyle.NoPen)  # a pen would be one data unit wide: ±0.5 in y
                p.setBrush(QColor(color))
                p.drawRects(rects)
        p.end()
        return pic

    def set_data(self, y: np.ndarray, color: str | None = None, fill: str | None = None,
                 base: float | None = None) -> None:
        super().set_data(y, color, fill, base)
        finite = self.y[np.isfinite(self.y)]
        if finite.size:  # the bars start at zero: the bounding rect includes it
            lo, hi = min(float(finite.min()), 0.0), max(float(finite.max()), 0.0)
            self._rect = QRectF(-0.5, lo, len(self.y), (hi - lo) or 1.0)


class NewsSentimentStudy:
    """The study on one chart (see the module docstring)."""

    def __init__(self, chart: Any, source: SentimentSource) -> None:
        self.chart = chart
        self.source = source
        chart.pane_studies[STUDY_NAME] = (SentimentBarsItem, LEVELS)
        chart.study_actions.append((STUDY_NAME, self.show))
        chart.state_extras[STATE_KEY] = (self.is_shown, lambda v: self.show() if v is True else None)
        chart.news_sentiment = self

    def is_shown(self) -> bool:
        return STUDY_NAME in self.chart.overlay_names()

    def show(self) -> None:
        """Add the pane (computed in a worker, like every study)."""
        source = self.source
        self.chart.set_overlay(STUDY_NAME, lambda bars: _values(source, bars))

    def hide(self) -> None:
        self.chart.set_overlay(STUDY_NAME, None)

    def refresh(self) -> None:
        """Recompute (new headlines were stored)."""
        if self.is_shown():
            self.chart.refresh_overlays()


def _values(source: SentimentSource, bars: Bars) -> np.ndarray:
    y = np.asarray(source(bars.symbol, bars), dtype=float)
    if y.shape != (len(bars),):
        raise ValueError(f"news sentiment gave {y.size} values for {len(bars)} bars")
    return y


def attach_news_sentiment(chart: Any, source: SentimentSource) -> NewsSentimentStudy:
    """Offer the "News sentiment" study on ``chart``; ``source(symbol, bars)`` gives the
    per-bar daily mean compound (``NewsService.daily_sentiment(...).mean``)."""
    return NewsSentimentStudy(chart, source)


def refresh_news_sentiment(chart: Any) -> None:
    """Recompute ``chart``'s sentiment pane if it has one (after a news refresh)."""
    study = getattr(chart, "news_sentiment", None)
    if isinstance(study, NewsSentimentStudy):
        study.refresh()
