"""Custom indicators: named formulas the user saves and then uses by name everywhere.

Kept in the local store (table ``custom_indicators``, migration 0004). A custom indicator
may use other custom indicators; cycles are refused with the path (``a → b → a``), and a
name may not shadow a field, a function or a keyword.
"""
from __future__ import annotations

import builtins
import datetime as _dt
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from engine.events import EventBus
from engine.formula.errors import FormulaError, summarise_chain
from engine.formula.events import CustomIndicatorsChanged
from engine.formula.formula import Formula, parse
from engine.formula.functions import FIELDS, FUNCTIONS, RESERVED
from engine.formula.parser import suggest
from engine.store.db import Database

NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
_DEF_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")


@dataclass(frozen=True, slots=True)
class CustomIndicator:
    """A saved formula. Times are ISO-8601 UTC strings."""

    name: str
    expression: str
    description: str
    created_at: str
    updated_at: str


def validate(text: str, custom: Mapping[str, str] | None = None) -> list[FormulaError]:
    """Every problem of ``text`` as a list (empty when it is valid); never raises for bad text.

    The parser stops at the first problem, so the list has at most one entry today; it is
    a list so that an editor can show several once the parser recovers from errors.
    """
    try:
        parse(text, custom)
    except FormulaError as exc:
        return [exc]
    return []


def check_name(name: str) -> str:
    """The normalised (lower-case, stripped) custom indicator name, or ``FormulaError``."""
    n = name.strip().lower()
    if not n:
        raise FormulaError("a custom indicator needs a name", 1)
    if n in FIELDS:
        raise FormulaError(f"'{n}' is a bar field; a custom indicator cannot take its name", 1)
    if n in FUNCTIONS:
        raise FormulaError(f"'{n}' is a built-in function; a custom indicator cannot take its name", 1)
    if n in RESERVED:
        raise FormulaError(f"'{n}' is a reserved word; a custom indicator cannot take its name", 1)
    if not NAME_RE.match(n):
        bad = next((i for i, ch in enumerate(n) if not (ch.isascii() and (ch.isalnum() or ch == "_"))), 0)
        raise FormulaError(
            "a name uses letters, digits and '_', starts with a letter or '_', at most 64 characters", bad + 1
        )
    return n


def parse_definition(text: str) -> tuple[str, str]:
    """Split ``"my_osc = (close - sma(close,20)) / atr(14)"`` into (name, expression).

    Raises ``FormulaError`` when there is no ``name =`` at the start.
    """
    m = _DEF_RE.match(text)
    if not m:
        raise FormulaError("a definition looks like 'name = formula'", 1)
    return check_name(m.group(1)), text[m.end():].strip()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class FormulaService:
    """List, save (validated), delete and get custom indicators; parse formulas with them.

    ``validate`` and ``parse`` use an in-memory copy of the saved definitions, so calling
    ``validate`` on every keystroke costs one parse (tens of microseconds), no database trip.
    """

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus
        self._lock = threading.Lock()
        self._map: dict[str, str] | None = None

    # ------------------------------------------------------------------ reads
    def list(self) -> builtins.list[CustomIndicator]:
        """All custom indicators, by name."""
        with self.db.connect(write=False) as c:
            rows = c.execute((
                "SELECT name, expression, description, created_at, updated_at FROM custom_indicators ORDER BY name"
            ))
            return [CustomIndicator(*r) for r in rows]

    def get(self, name: str) -> CustomIndicator:
        """The custom indicator ``name`` (case-insensitive). Raises ``KeyError`` if there is none."""
        n = name.strip().lower()
        with self.db.connect(write=False) as c:
            r = c.execute((
                "SELECT name, expression, description, created_at, updated_at FROM custom_indicators WHERE name=:n"
            ), {"n": n}).fetchone()
        if r is None:
            hint = suggest(n, set(self.custom_map()))
            raise KeyError(f"no custom indicator named '{n}'" + (f" — did you mean '{hint}'?" if hint else ""))
        return CustomIndicator(*r)

    def custom_map(self) -> dict[str, str]:
        """name → expression of every custom indicator (a copy; pass it to ``parse``)."""
        with self._lock:
            if self._map is None:
                with self.db.connect(write=False) as c:
                    self._map = {r[0]: r[1] for r in c.execute(("SELECT name, expression FROM custom_indicators"))}
            return dict(self._map)

    def parse(self, text: str) -> Formula:
        """``engine.formula.parse`` with the saved custom indicators. Raises ``FormulaError``."""
        return parse(text, self.custom_map())

    def validate(self, text: str, name: str | None = None) -> builtins.list[FormulaError]:
        """Problems of ``text`` (empty list when valid); never raises for bad text.

        With ``name`` (the custom indicator being edited), also reports a bad name and a
        cycle through the other saved indicators.
        """
        custom = self.custom_map()
        if name is not None:
            try:
                n = check_name(name)
            except FormulaError as exc:
                return [exc]
            custom[n] = text
            try:
                parse(n, custom)
            except FormulaError as exc:
                if "refers to itself" in exc.message:
                    return [FormulaError(exc.message, 1, text=text)]
        return validate(text, custom)

    def dependents(self, name: str) -> builtins.list[str]:
        """Custom indicators that use ``name`` (directly or through others), sorted."""
        n = name.strip().lower()
        custom = self.custom_map()
        out = []
        for other, expr in custom.items():
            if other == n:
                continue
            try:
                if n in parse(expr, custom).custom:
                    out.append(other)
            except FormulaError:
                continue
        return sorted(out)

    # ------------------------------------------------------------------ writes
    def save(self, name: str, expression: str, description: str = "") -> CustomIndicator:
        """Create or replace custom indicator ``name`` after validating it.

        Raises ``FormulaError`` for a bad or reserved name, a formula that does not parse,
        a cycle, or a change that would break another saved indicator (named in the message).
        """
        n = check_name(name)
        expression = expression.strip()
        custom = self.custom_map()
        custom[n] = expression
        parse(expression, custom)  # syntax, names, arguments
        try:
            parse(n, custom)  # cycles through this name
        except FormulaError as exc:
            raise FormulaError(exc.message, 1, text=expression) from None
        for other, expr in custom.items():
            if other == n:
                continue
            try:
                parse(expr, custom)
            except FormulaError as exc:
                raise FormulaError(f"saving '{n}' would break custom indicator '{other}': {exc.message}",
                                   1, text=expression) from None
        now = _now()
        with self.db.connect() as c:
            exists = c.execute(("SELECT 1 FROM custom_indicators WHERE name=:n"), {"n": n}).fetchone()
            if exists:
                c.execute((
                    "UPDATE custom_indicators SET expression=:e, description=:d, updated_at=:u WHERE name=:n"
                ), {"e": expression, "d": description, "u": now, "n": n})
            else:
                c.execute((
                    "INSERT INTO custom_indicators(name, expression, description, created_at, updated_at) "
                    "VALUES (:n, :e, :d, :u, :u)"
                ), {"e": expression, "d": description, "u": now, "n": n})
        with self._lock:
            self._map = None
        self.bus.publish(CustomIndicatorsChanged(n))
        return self.get(n)

    def save_definition(self, definition: str, description: str = "") -> CustomIndicator:
        """Save ``"name = formula"`` (see ``parse_definition``). Raises ``FormulaError``."""
        n, expr = parse_definition(definition)
        return self.save(n, expr, description)

    def delete(self, name: str) -> None:
        """Delete custom indicator ``name``.

        Raises ``KeyError`` if it does not exist and ``FormulaError`` if others use it
        (they are named, so the user can change them first).
        """
        n = name.strip().lower()
        self.get(n)
        users = self.dependents(n)
        if users:
            names = summarise_chain([f"'{u}'" for u in users], sep=", ")
            raise FormulaError(f"'{n}' is used by {names}; change those first", 1)
        with self.db.connect() as c:
            c.execute(("DELETE FROM custom_indicators WHERE name=:n"), {"n": n})
        with self._lock:
            self._map = None
        self.bus.publish(CustomIndicatorsChanged(n))


#: The issue calls it both ways; one class.
CustomIndicatorStore = FormulaService
