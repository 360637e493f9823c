"""Export a chart: a PNG of what is on screen, a CSV of the visible bars with the studies.

* ``chart_image`` grabs the whole chart (title, OHLC readout, every pane with its legend and
  axes) and paints a watermark of the symbol and timeframe across the price pane, so a
  shared picture says what it shows. ``save_png`` writes it.
* ``visible_rows`` / ``save_csv``: one row per visible bar — time (ISO 8601 in the chart's
  time zone, with its offset), open, high, low, close, volume, then one column per study in
  the order they were added. Numbers are plain (no thousands separators, no exponent):
  prices and price-scale studies to the cent (4 places under $1), other studies to 4
  places, volume whole; a missing value is an empty cell.
* ``ExportButton`` puts both in the chart's toolbar.
"""
from __future__ import annotations

import csv
import io
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QToolButton, QWidget

from engine.data.bars import timeframe_label
from widgets import style
from widgets.chart.panes import is_price_like


def watermark_text(chart: Any) -> str:
    return f"{chart.symbol or ''}  ·  {timeframe_label(chart.timeframe)}".strip(" ·")


def chart_image(chart: Any) -> QImage:
    """The chart as it is drawn now, with a watermark of its symbol and timeframe."""
    img = chart.grab().toImage()
    text = watermark_text(chart)
    if not text:
        return img
    pane = chart.price_pane
    top_left = pane.mapTo(chart, QPoint(0, 0))
    rect = QRect(top_left, pane.size())
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(18, int(rect.height() * 0.12)))  # logical pixels: the image keeps its ratio
        p.setFont(font)
        color = QColor(style.CHART.foreground)
        color.setAlphaF(0.13)
        p.setPen(color)
        p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
    finally:
        p.end()
    return img


def save_png(chart: Any, path: str | Path) -> QImage:
    """Write ``chart_image`` to ``path`` (PNG); raises ``OSError`` when it cannot be written."""
    img = chart_image(chart)
    if not img.save(str(path), "PNG"):
        raise OSError(f"could not write the image to {path}")
    return img


def visible_range(chart: Any) -> tuple[int, int]:
    """Indices ``i0..i1`` (inclusive) of the bars in view (empty: ``i1 < i0``)."""
    s = chart.shown
    if s is None or not len(s):
        return 0, -1
    x0, x1 = chart.price_pane.vb.viewRange()[0]
    i0 = max(0, int(math.floor(x0 - 0.5)) + 1)  # bar i spans i-0.5 .. i+0.5: any part in view counts
    i1 = min(len(s) - 1, int(math.ceil(x1 + 0.5)) - 1)
    return i0, i1


def _places(close: np.ndarray) -> int:
    c = np.abs(close[np.isfinite(close)])
    return 2 if not c.size or float(np.median(c)) >= 1 else 4


def _num(v: float, places: int) -> str:
    if not math.isfinite(v):
        return ""
    text = f"{v:.{places}f}"
    return "0" if text.strip("-0.") == "" else text


def _time_text(t: int, tz: Any, intraday: bool) -> str:
    d = datetime.fromtimestamp(int(t), tz or timezone.utc)
    if not intraday:
        return datetime.fromtimestamp(int(t), timezone.utc).date().isoformat()
    return d.isoformat(timespec="seconds")


def visible_rows(chart: Any) -> list[list[str]]:
    """The CSV's rows, header first (module docstring)."""
    s = chart.shown
    studies = [n for n in chart.overlay_names()]
    layer = getattr(chart, "studies", None)
    extra = layer.columns() if layer is not None else {}  # multi-line studies: a column per line
    header = ["time", "open", "high", "low", "close", "volume", *studies, *extra]
    if s is None:
        return [header]
    i0, i1 = visible_range(chart)
    px = _places(s.close[i0:i1 + 1]) if i1 >= i0 else 2
    tz = chart.axis.tz
    intraday = bool(chart.axis.intraday)
    values = {n: chart._overlay_values.get(n) for n in studies}
    values.update({n: v[:len(s)] for n, v in extra.items()})
    studies = [*studies, *extra]
    places = {n: (px if v is not None and is_price_like(v, s.close) else 4) for n, v in values.items()}
    rows = [header]
    for i in range(i0, i1 + 1):
        row = [_time_text(int(s.time[i]), tz, intraday)]
        row += [_num(float(a[i]), px) for a in (s.open, s.high, s.low, s.close)]
        row.append(_num(float(s.volume[i]), 0) if s.volume is not None else "")
        for n in studies:
            v = values[n]
            row.append(_num(float(v[i]), places[n]) if v is not None and len(v) == len(s) else "")
        rows.append(row)
    return rows


def visible_csv(chart: Any) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(visible_rows(chart))
    return buf.getvalue()


def save_csv(chart: Any, path: str | Path) -> int:
    """Write the visible bars and studies to ``path``; returns the number of bars written."""
    text = visible_csv(chart)
    Path(path).write_text(text, encoding="utf-8")
    return text.count("\n") - 1


class ExportButton(QToolButton):
    """The toolbar's "Export" menu: the chart as a PNG, the visible data as a CSV."""

    def __init__(self, chart: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartExport")
        self.setText("⤓")  # compact: the toolbar must leave room for the title at 1280×800
        self.setToolTip("Export: save the chart as an image, or the visible bars and studies as a CSV")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.chart = chart
        m = QMenu(self)
        self.png_action = m.addAction("Save image (PNG)…", self._on_png)
        self.csv_action = m.addAction("Save visible data (CSV)…", self._on_csv)
        self.setMenu(m)

    def _default_name(self, ext: str) -> str:
        c = self.chart
        return f"{c.symbol or 'chart'}-{c.timeframe}.{ext}"

    def _on_png(self) -> None:
        path, _f = QFileDialog.getSaveFileName(self, "Save chart image", self._default_name("png"), "PNG image (*.png)")
        if path:
            try:
                save_png(self.chart, path)
            except OSError as exc:
                QMessageBox.warning(self, "Export", str(exc))

    def _on_csv(self) -> None:
        path, _f = QFileDialog.getSaveFileName(self, "Save visible data", self._default_name("csv"), "CSV (*.csv)")
        if path:
            try:
                save_csv(self.chart, path)
            except OSError as exc:
                QMessageBox.warning(self, "Export", f"could not write {path}: {exc.strerror or exc}")


__all__ = ["ExportButton", "chart_image", "save_csv", "save_png", "visible_csv", "visible_range", "visible_rows",
           "watermark_text"]
