"""Scan presets and the history of scan runs in the local store (tables from migration 0004)."""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass

from engine.scanner.filters import BUILTIN_PRESETS, ScanDefinition
from engine.store.db import Database

RUNS_KEPT = 100


class PresetError(ValueError):
    """A preset operation that cannot be done (built-in, missing, unnamed)."""


@dataclass(frozen=True, slots=True)
class ScanRun:
    """One past run: when, on which universe, which symbols matched."""

    key: str
    universe: str
    ran_at: str  # ISO-8601 UTC
    symbols: tuple[str, ...]


class ScanStore:
    """Presets (built-in and the user's) and past runs. Built-ins are (re)written on creation,
    so a new release's preset formulas reach existing databases."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.connect() as c:
            for p in BUILTIN_PRESETS:
                c.execute((
                    "INSERT INTO scan_presets(name, definition, builtin) VALUES (:n, :d, 1) "
                    "ON CONFLICT(name) DO UPDATE SET definition=excluded.definition, builtin=1 "
                    "WHERE scan_presets.definition != excluded.definition OR scan_presets.builtin != 1"
                ), {"n": p.name, "d": p.to_json()})

    # ------------------------------------------------------------------ presets
    def presets(self) -> list[ScanDefinition]:
        """Built-ins first (in their fixed order), then the user's by name."""
        order = {p.name: i for i, p in enumerate(BUILTIN_PRESETS)}
        with self.db.connect(write=False) as c:
            rows = list(c.execute(("SELECT name, definition, builtin FROM scan_presets")))
        out = [ScanDefinition.from_json(d, builtin=bool(b)) for _, d, b in rows]
        return sorted(out, key=lambda p: (0, order.get(p.name, 0), "") if p.builtin else (1, 0, p.name.lower()))

    def get_preset(self, name: str) -> ScanDefinition:
        """Raises ``PresetError`` if there is no preset ``name``."""
        with self.db.connect(write=False) as c:
            r = c.execute(("SELECT definition, builtin FROM scan_presets WHERE name=:n"), {"n": name}).fetchone()
        if r is None:
            raise PresetError(f"there is no scan preset named {name!r}")
        return ScanDefinition.from_json(r[0], builtin=bool(r[1]))

    def save_preset(self, definition: ScanDefinition) -> None:
        """Create or replace the user's preset ``definition.name`` ("save as" for a built-in:
        give it a new name). Raises ``PresetError`` for an empty name or a built-in's name,
        and ``FormulaError`` if the filter does not compile."""
        name = definition.name.strip()
        if not name:
            raise PresetError("a preset needs a name")
        definition.compile()  # FormulaError with the column if the filter is bad
        with self.db.connect() as c:
            r = c.execute(("SELECT builtin FROM scan_presets WHERE name=:n"), {"n": name}).fetchone()
            if r is not None and r[0]:
                raise PresetError(f"{name!r} is a built-in preset and cannot be changed; save it under another name")
            d = ScanDefinition(name, definition.filter, definition.columns, definition.timeframe,
                               definition.lookback, definition.description).to_json()
            c.execute((
                "INSERT INTO scan_presets(name, definition, builtin) VALUES (:n, :d, 0) "
                "ON CONFLICT(name) DO UPDATE SET definition=excluded.definition"
            ), {"n": name, "d": d})

    def delete_preset(self, name: str) -> None:
        """Raises ``PresetError`` for a built-in or a missing preset."""
        with self.db.connect() as c:
            r = c.execute(("SELECT builtin FROM scan_presets WHERE name=:n"), {"n": name}).fetchone()
            if r is None:
                raise PresetError(f"there is no scan preset named {name!r}")
            if r[0]:
                raise PresetError(f"{name!r} is a built-in preset and cannot be deleted")
            c.execute(("DELETE FROM scan_presets WHERE name=:n"), {"n": name})

    # ------------------------------------------------------------------ runs
    def save_run(self, key: str, universe: str, definition: str, symbols: list[str] | tuple[str, ...],
                 ran_at: _dt.datetime) -> None:
        """Record a run (keeps the newest ``RUNS_KEPT`` per scan and universe)."""
        stamp = ran_at.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")
        with self.db.connect() as c:
            c.execute((
                "INSERT INTO scan_runs(scan_key, universe, definition, ran_at, symbols) "
                "VALUES (:k, :u, :d, :t, :s)"
            ), {"k": key, "u": universe, "d": definition, "t": stamp, "s": json.dumps(list(symbols))})
            c.execute((
                "DELETE FROM scan_runs WHERE scan_key=:k AND universe=:u AND id NOT IN ("
                "SELECT id FROM scan_runs WHERE scan_key=:k AND universe=:u ORDER BY ran_at DESC, id DESC LIMIT :n)"
            ), {"k": key, "u": universe, "n": RUNS_KEPT})

    def runs(self, key: str, universe: str, limit: int = 20, definition: str | None = None) -> list[ScanRun]:
        """Past runs of scan ``key`` on ``universe``, newest first; with ``definition`` (the
        filter's formula text) only the runs of that same filter (a preset edited since, or
        saved again with another filter, is not compared with its old self)."""
        sql = "SELECT scan_key, universe, ran_at, symbols FROM scan_runs WHERE scan_key=:k AND universe=:u "
        if definition is not None:
            sql += "AND definition=:d "
        with self.db.connect(write=False) as c:
            rows = c.execute(sql + "ORDER BY ran_at DESC, id DESC LIMIT :n",
                             {"k": key, "u": universe, "n": limit, "d": definition})
            return [ScanRun(k, u, t, tuple(json.loads(s))) for k, u, t, s in rows]

    def last_run(self, key: str, universe: str, definition: str | None = None) -> ScanRun | None:
        """The newest run of scan ``key`` on ``universe`` (of filter ``definition`` if given)."""
        r = self.runs(key, universe, 1, definition)
        return r[0] if r else None
