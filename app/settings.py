"""User settings: an INI file in the data dir through ``QSettings``.

Keys (see README "Settings"):
- ``data/source``: "demo" (default) or "yahoo"
- ``ui/theme``: "dark" (default) or "light"
- ``service/url``: the REST service; empty = start the embedded one on 127.0.0.1
- ``network/proxy``: proxy for outgoing HTTP(S), e.g. ``http://proxy:3128``; empty = none
- ``window/geometry``, ``window/state``: restored on the next start
- ``workspace/symbol``, ``workspace/timeframe``: what the chart showed

A settings file that cannot be parsed is moved aside (``settings.ini.corrupt-<time>``)
and the app starts with defaults and says so; nothing is silently overwritten.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from engine import paths

DEFAULTS: dict[str, Any] = {
    "data/source": "demo",
    "ui/theme": "dark",
    "service/url": "",
    "network/proxy": "",
    "workspace/timeframe": "1d",
}
DATA_SOURCES = {"demo": "Demo data (offline)", "yahoo": "Yahoo Finance"}


class AppSettings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (paths.data_dir() / "settings.ini")
        self.recovered_from: Path | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.qs = QSettings(str(self.path), QSettings.Format.IniFormat)
        if self.qs.status() != QSettings.Status.NoError or not self._looks_sane():
            self._move_aside()

    def _looks_sane(self) -> bool:
        # QSettings' INI parser is lenient; binary junk shows up as keys we never write.
        if not self.path.exists():
            return True
        try:
            self.path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return False
        known = {k.split("/")[0] for k in DEFAULTS} | {"window", "workspace", "layout", "ui"}
        return all(k.split("/")[0] in known for k in self.qs.allKeys())

    def _move_aside(self) -> None:
        self.qs.sync()
        del self.qs
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        try:
            self.path.replace(aside)
            self.recovered_from = aside
        except OSError:
            self.recovered_from = self.path
        self.qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def get(self, key: str, default: Any = None) -> Any:
        fallback = DEFAULTS.get(key, default)
        v = self.qs.value(key, fallback)
        return fallback if v is None else v

    def set(self, key: str, value: Any) -> None:
        self.qs.setValue(key, value)

    def sync(self) -> None:
        self.qs.sync()

    def apply_proxy(self) -> None:
        """Route outgoing HTTP(S) (requests, yfinance) through the configured proxy."""
        proxy = str(self.get("network/proxy") or "").strip()
        if proxy:  # empty leaves the system's own proxy variables alone
            for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
                os.environ[var] = proxy
