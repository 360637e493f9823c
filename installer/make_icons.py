"""Draw the app icon and write it in every format the installers need.

``python installer/make_icons.py`` writes, into ``resources/icons/``:

* ``stockscanner.svg`` — the source drawing (the same rising candle pair as
  ``app.notify.app_icon``), written from the constants below;
* ``stockscanner-{16,32,48,64,128,256,512}.png`` — rendered from the SVG with Qt's SVG
  renderer (QtSvg, already a dependency), for the Linux .desktop entry and hicolor theme;
* ``stockscanner.ico`` — Windows (PyInstaller's exe icon, Inno Setup): PNG-compressed
  entries at 16…256 px, the layout Windows Vista and later read;
* ``stockscanner.icns`` — macOS (the .app bundle): ``ic07``…``ic10`` PNG entries
  (128…1024 px), Apple's documented icon family format.

The ICO and ICNS containers are written here byte by byte (both are a small header and a
table of PNG blobs), so no image library beyond Qt is needed. The files are committed; run
this again after changing the drawing.
"""
from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"
NAME = "stockscanner"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS element types holding PNG data, by pixel size (Apple's icns types since 10.7).
ICNS_TYPES = {128: b"ic07", 256: b"ic08", 512: b"ic09", 1024: b"ic10"}

BACKGROUND = "#1e2127"
DOWN = "#ef5350"
UP = "#26a69a"


def svg() -> str:
    """The icon on a 64-unit canvas: a rounded tile, a falling then a rising candle."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 64 64">
  <title>Stock Scanner</title>
  <rect x="2" y="2" width="60" height="60" rx="12" ry="12" fill="{BACKGROUND}"/>
  <rect x="20" y="18" width="2" height="36" fill="{DOWN}"/>
  <rect x="16" y="26" width="10" height="20" rx="1" fill="{DOWN}"/>
  <rect x="40" y="8" width="2" height="40" fill="{UP}"/>
  <rect x="36" y="14" width="10" height="26" rx="1" fill="{UP}"/>
</svg>
"""


def render_png(svg_text: str, size: int) -> bytes:
    """The SVG rendered at ``size``×``size`` pixels, as PNG bytes (transparent corners)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg_text.encode()))
    if not renderer.isValid():
        raise ValueError("the icon SVG does not parse")
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(QColor(0, 0, 0, 0))
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p)
    p.end()
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not img.save(buf, "PNG"):
        raise OSError("Qt could not encode a PNG")
    return bytes(buf.data().data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """An ICO file holding each PNG (ICONDIR, one ICONDIRENTRY per image, then the data)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))  # reserved, type 1 = icon, count
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256 in the one-byte width/height fields
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """An ICNS file: ``icns`` + total length, then (type, length, PNG) elements."""
    body = b"".join(ICNS_TYPES[s] + struct.pack(">I", 8 + len(d)) + d for s, d in sorted(pngs.items()))
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(out: Path = OUT) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)
    text = svg()
    written = [out / f"{NAME}.svg"]
    written[0].write_text(text, encoding="utf-8")
    cache: dict[int, bytes] = {}

    def png(size: int) -> bytes:
        if size not in cache:
            cache[size] = render_png(text, size)
        return cache[size]

    for s in PNG_SIZES:
        path = out / f"{NAME}-{s}.png"
        path.write_bytes(png(s))
        written.append(path)
    (out / f"{NAME}.ico").write_bytes(ico({s: png(s) for s in ICO_SIZES}))
    (out / f"{NAME}.icns").write_bytes(icns({s: png(s) for s in ICNS_TYPES}))
    written += [out / f"{NAME}.ico", out / f"{NAME}.icns"]
    return written


if __name__ == "__main__":
    for p in main():
        print(p)
