"""UI state -- window geometry and layout, the open dock instances, each dock's own state,
link groups, the chosen paper account -- in the store's kv table (``ui.*`` keys).

Why here and not in settings.ini (see docs/architecture.md, "Settings and UI state"):
preferences are typed values the user edits; UI state is what the app remembers of itself.
The kv table is transactional (a crash mid-save leaves the previous layout), is backed up
with the store, and is where named workspaces will live. settings.ini keeps only
preferences, so a reset of one does not lose the other.
"""
from __future__ import annotations

import base64
import logging
from typing import Any

from engine.store.kv import KeyValueStore

log = logging.getLogger(__name__)

PREFIX = "ui."
LAYOUT = "layout"  # {"geometry": b64, "state": b64, "version": int}
DOCKS = "docks"  # {"instances": [{"id", "spec"}], "state": {id: {...}}, "links": {id: group}}


class UiState:
    def __init__(self, kv: KeyValueStore) -> None:
        self.kv = kv

    def get(self, name: str, default: Any = None) -> Any:
        return self.kv.get(PREFIX + name, default)

    def set(self, name: str, value: Any) -> None:
        self.kv.set(PREFIX + name, value)

    @staticmethod
    def encode(raw: bytes) -> str:
        return base64.b64encode(bytes(raw)).decode("ascii")

    @staticmethod
    def decode(text: object) -> bytes | None:
        if not isinstance(text, str):
            return None
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            log.warning("ignoring an unreadable saved layout")
            return None

    def adopt_legacy(self, legacy: dict[str, Any], scanner_state: object = None) -> None:
        """Take the UI state older versions kept in settings.ini (``window/*``, ``workspace/*``;
        handed over by the settings migration) and the scanner's ``scanner.state`` kv entry,
        unless this store already has a layout of its own."""
        if not legacy and scanner_state is None:
            return
        if self.get(LAYOUT) is not None or self.get(DOCKS) is not None:
            return
        layout: dict[str, Any] = {}
        for key, name in (("window/geometry", "geometry"), ("window/state", "state")):
            raw = legacy.get(key)
            if isinstance(raw, bytes | bytearray):
                layout[name] = self.encode(raw)
        if layout:
            layout["version"] = 1
            self.set(LAYOUT, layout)
        docks: dict[str, Any] = {"instances": [], "state": {}, "links": {}}
        if legacy.get("workspace/symbol"):
            docks["state"]["chart"] = {"symbol": str(legacy["workspace/symbol"]),
                                       "timeframe": str(legacy.get("workspace/timeframe") or "1d")}
        if isinstance(scanner_state, dict):
            docks["state"]["scanner"] = scanner_state
        self.set(DOCKS, docks)
        if legacy.get("workspace/paper_account"):
            self.set("paper_account", str(legacy["workspace/paper_account"]))
        log.info("moved the layout and workspace keys from settings.ini to the store")
