"""The review report as a printable PDF: Qt's ``QTextDocument`` over the report's HTML, its
SVG charts rasterised with ``QSvgRenderer`` (Qt's rich text has no SVG), printed by
``QPdfWriter`` on A4 with margins. Works offscreen (the CLI uses it without a display)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QMarginsF, QSizeF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument
from PySide6.QtSvg import QSvgRenderer

from engine.journal.report import review_charts, review_html
from engine.journal.review import Review

SCALE = 2  # charts rasterised at twice their size: crisp in print


def svg_image(svg: str, scale: int = SCALE) -> QImage:
    """The SVG text as an image (white background)."""
    r = QSvgRenderer(QByteArray(svg.encode()))
    size = r.defaultSize()
    img = QImage(size.width() * scale, size.height() * scale, QImage.Format.Format_RGB32)
    img.fill(0xFFFFFF)
    p = QPainter(img)
    r.render(p)
    p.end()
    return img


def review_document(review: Review, title: str = "Trading review") -> QTextDocument:
    """The report as a ``QTextDocument`` with its charts as image resources."""
    doc = QTextDocument()
    for name, svg in review_charts(review).items():
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"chart:{name}"), svg_image(svg))
    doc.setHtml(review_html(review, inline=False, title=title))
    return doc


def write_review_pdf(review: Review, path: str | Path, title: str = "Trading review") -> Path:
    """Write the report to ``path`` as an A4 PDF; returns the path. Raises ``OSError`` if it
    cannot be written."""
    path = Path(path)
    tmp = path.with_name(path.name + ".part")
    writer = QPdfWriter(str(tmp))
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    writer.setResolution(150)
    writer.setTitle(f"{title} {review.period.label}")
    doc = review_document(review, title)
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    # the document's pixels are screen-sized (96 dpi); scale them to the writer's resolution
    doc.setDefaultStyleSheet("body{font-size:10pt}")
    doc.print_(writer)
    del writer  # finishes the file
    if not tmp.exists() or tmp.stat().st_size == 0:
        raise OSError(f"the PDF {path} could not be written")
    tmp.replace(path)
    return path
