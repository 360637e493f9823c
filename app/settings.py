"""User preferences: an INI file in the data dir (``settings.ini``) through ``QSettings``,
checked against a schema the feature modules declare (``Feature.settings``).

* Keys the schema knows are converted to their type and validated when read; a bad value
  falls back to that key's default, is logged and listed in ``problems`` (the shell shows
  one notification). The file is not rewritten for it.
* Keys the schema does not know (a newer version's feature, an older build after a
  downgrade) are kept untouched.
* Only a file that cannot be read at all (not UTF-8, or QSettings reports a format error)
  is moved aside as ``settings.ini.corrupt-<time>`` and defaults are used.
* ``meta/version`` is the file's format version. ``MIGRATIONS[i]`` turns version ``i`` into
  ``i + 1``; they run once, in order, when an older file is opened.

UI state (window layout, open docks and their state, the chosen paper account) is not a
preference and lives in the store (``app/ui_state.py``); migration 1 hands the old
``window/*`` and ``workspace/*`` keys over in ``legacy_ui_state``.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from engine import paths

log = logging.getLogger(__name__)

VERSION_KEY = "meta/version"
DATA_SOURCES = {"demo": "Demo data (offline)", "yahoo": "Yahoo Finance"}
LEGACY_UI_KEYS = ("window/geometry", "window/state", "workspace/symbol", "workspace/timeframe",
                  "workspace/paper_account")


def _migrate_ui_state_out(s: AppSettings) -> None:
    """0 → 1: layout and workspace keys leave settings.ini for the store (handed over in
    ``legacy_ui_state``); the old ``layout/`` group, never read, is dropped."""
    for key in LEGACY_UI_KEYS:
        if s.qs.contains(key):
            v = s.qs.value(key)
            s.legacy_ui_state[key] = bytes(v.data()) if isinstance(v, QByteArray) else v
            s.qs.remove(key)
    s.qs.remove("layout")


#: MIGRATIONS[i] upgrades a version-i file to version i + 1.
MIGRATIONS: list[Callable[["AppSettings"], None]] = [_migrate_ui_state_out]


def _schema() -> dict[str, Any]:
    from app.features import setting_keys

    return {k.key: k for k in setting_keys()}


def _convert(value: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{value!r} is not true or false")
    if kind is str and isinstance(value, list | dict | QByteArray):
        raise ValueError(f"{value!r} is not text")
    return kind(value)


class AppSettings:
    """The preferences file. ``get`` returns schema keys typed and valid (else the default)."""

    def __init__(self, path: Path | None = None, schema: dict[str, Any] | None = None,
                 migrations: list[Callable[["AppSettings"], None]] | None = None) -> None:
        self.path = path or (paths.data_dir() / "settings.ini")
        self.schema = schema if schema is not None else _schema()
        self.migrations = MIGRATIONS if migrations is None else migrations
        self.recovered_from: Path | None = None
        self.problems: list[str] = []
        self.legacy_ui_state: dict[str, Any] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.qs = QSettings(str(self.path), QSettings.Format.IniFormat)
        if self.qs.status() != QSettings.Status.NoError or not self._readable():
            self._move_aside()
        self._migrate()
        self._check_values()

    @property
    def version(self) -> int:
        return len(self.migrations)

    def _readable(self) -> bool:
        # QSettings' INI parser is lenient; binary junk is refused by the UTF-8 check.
        if not self.path.exists():
            return True
        try:
            self.path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

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
        log.warning("settings file %s could not be read; kept as %s", self.path, aside)
        self.qs = QSettings(str(self.path), QSettings.Format.IniFormat)

    def _migrate(self) -> None:
        try:
            found = int(self.qs.value(VERSION_KEY, 0))
        except (TypeError, ValueError):
            found = 0
        if found > self.version:
            log.info("settings.ini is from a newer version (%d > %d); unknown keys are kept", found, self.version)
            return
        for i in range(found, self.version):
            self.migrations[i](self)
            log.info("settings.ini migrated to version %d", i + 1)
        if found < self.version or not self.qs.contains(VERSION_KEY):
            self.qs.setValue(VERSION_KEY, self.version)
            self.qs.sync()

    def _check_values(self) -> None:
        for key in self.schema:
            if self.qs.contains(key):
                problem = self._problem(key, self.qs.value(key))
                if problem:
                    msg = f"{key}: {problem}; using the default {self.schema[key].default!r}"
                    log.warning("settings: %s", msg)
                    self.problems.append(msg)

    def _problem(self, key: str, raw: Any) -> str | None:
        spec = self.schema[key]
        try:
            value = _convert(raw, spec.type)
        except (TypeError, ValueError) as exc:
            return str(exc)
        if spec.choices and value not in spec.choices:
            return f"{value!r} is not one of {', '.join(map(str, spec.choices))}"
        if spec.validator is not None:
            return spec.validator(value)  # type: ignore[no-any-return]
        return None

    def validate(self, key: str, value: Any) -> str | None:
        """Why ``value`` is not acceptable for schema key ``key`` (None if it is)."""
        return self._problem(key, value) if key in self.schema else None

    def get(self, key: str, default: Any = None) -> Any:
        spec = self.schema.get(key)
        if spec is None:
            v = self.qs.value(key, default)
            return default if v is None else v
        if not self.qs.contains(key):
            return spec.default
        raw = self.qs.value(key)
        if self._problem(key, raw):
            return spec.default
        return _convert(raw, spec.type)

    def set(self, key: str, value: Any) -> None:
        """Store ``value``; a schema key's value is checked first (``ValueError`` if bad)."""
        problem = self.validate(key, value)
        if problem:
            raise ValueError(f"{key}: {problem}")
        self.qs.setValue(key, value)

    def keys(self) -> Iterable[str]:
        return list(self.qs.allKeys())

    def sync(self) -> None:
        self.qs.sync()

    def apply_proxy(self) -> None:
        """Route outgoing HTTP(S) (requests, yfinance) through the configured proxy."""
        proxy = str(self.get("network/proxy") or "").strip()
        if proxy:  # empty leaves the system's own proxy variables alone
            for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
                os.environ[var] = proxy
