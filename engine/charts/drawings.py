"""Chart drawings, Qt-free: the model, its JSON form, an undo/redo stack and the store.

A drawing is a ``kind``, anchor points in **(time in UTC epoch seconds, price)** — time, not
bar index, so the same drawing shows on every timeframe of the symbol — a ``Style`` (colour,
width, dash), ``locked`` and ``text``; Fibonacci kinds also carry their ``levels``.

Kinds and their anchor counts (``POINTS``)::

    trend (2)  ray (2)  extended (2)  hline (1)  hray (1)  vline (1)  rectangle (2)
    channel (3: the two ends of the base line, then a point the parallel passes through)
    fib_retracement (2: from, to)  fib_extension (3: A, B, C; levels project B - A from C)
    text (1)  price_range (2)  date_range (2)

Fibonacci levels (TradingView's defaults): a retracement from A to B puts level ``r`` at
``B - r * (B - A)`` (0 at B, 1 at A); an extension puts level ``r`` at ``C + r * (B - A)``.

Storage: ``DrawingStore`` keeps each symbol's drawings in the ``chart_drawings`` table
(migration ``0010_drawings``), one JSON row per drawing. Loading never fails on one bad row:
a malformed stored drawing is skipped and named in the warnings (and the log).

``DrawingSet`` holds one symbol's drawings and an undo/redo stack of ``Change`` commands
(add, move, edit, delete, restyle, lock): each change records the drawing before and after,
so undo and redo are exact.
"""
from __future__ import annotations

import json
import logging
import math
import re
import time as _time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from engine.store.db import Database

log = logging.getLogger(__name__)

#: anchor points each kind needs
POINTS: dict[str, int] = {
    "trend": 2, "ray": 2, "extended": 2, "hline": 1, "hray": 1, "vline": 1, "rectangle": 2,
    "channel": 3, "fib_retracement": 2, "fib_extension": 3, "text": 1, "price_range": 2, "date_range": 2,
}
KINDS: tuple[str, ...] = tuple(POINTS)
#: how the toolbar names each kind
KIND_LABELS: dict[str, str] = {
    "trend": "Trend line", "ray": "Ray", "extended": "Extended line", "hline": "Horizontal line",
    "hray": "Horizontal ray", "vline": "Vertical line", "rectangle": "Rectangle", "channel": "Parallel channel",
    "fib_retracement": "Fibonacci retracement", "fib_extension": "Fibonacci extension", "text": "Text note",
    "price_range": "Price range", "date_range": "Date range",
}
FIB_KINDS = ("fib_retracement", "fib_extension")
FIB_RETRACEMENT_LEVELS: tuple[float, ...] = (0.0, 0.236, 0.382, 0.5, 0.618, 0.786, 1.0)
FIB_EXTENSION_LEVELS: tuple[float, ...] = (0.0, 0.382, 0.618, 1.0, 1.272, 1.618, 2.0, 2.618)
DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot")
DEFAULT_COLOR = "#2962ff"
MAX_TIME = 7_258_118_400  # 2200-01-01: later anchors are typos, not plans
MAX_PRICE = 1e12
MAX_TEXT = 500
MAX_LEVELS = 24
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class DrawingError(ValueError):
    """A drawing (or a stored one) is not valid; the message says which field and why."""


def _finite(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise DrawingError(f"{what} must be a number, not {v!r}.")
    f = float(v)
    if not math.isfinite(f):
        raise DrawingError(f"{what} must be a finite number, not {v!r}.")
    return f


@dataclass(frozen=True, slots=True)
class Point:
    """One anchor: ``time`` in UTC epoch seconds, ``price`` in the symbol's currency."""

    time: int
    price: float

    def checked(self) -> Point:
        """This point with its values normalised; raises ``DrawingError`` when out of range."""
        t = _finite(self.time, "A point's time")
        if not 0 <= t <= MAX_TIME:
            raise DrawingError(f"A point's time {t:.0f} is outside 1970-2200 (epoch seconds).")
        p = _finite(self.price, "A point's price")
        if abs(p) > MAX_PRICE:
            raise DrawingError(f"A point's price {p} is larger than {MAX_PRICE:g}.")
        return Point(int(round(t)), p)


@dataclass(frozen=True, slots=True)
class Style:
    """How a drawing is stroked: ``color`` "#rrggbb" (or "#rrggbbaa"), ``width`` in pixels
    (0.5-10), ``dash`` one of ``DASHES``."""

    color: str = DEFAULT_COLOR
    width: float = 1.5
    dash: str = "solid"

    def checked(self) -> Style:
        """This style, validated; raises ``DrawingError``."""
        if not isinstance(self.color, str) or not _COLOR.match(self.color):
            raise DrawingError(f"A drawing's colour must look like #2962ff, not {self.color!r}.")
        w = _finite(self.width, "A drawing's line width")
        if not 0.5 <= w <= 10:
            raise DrawingError(f"A drawing's line width must be 0.5 to 10 pixels, not {w:g}.")
        if self.dash not in DASHES:
            raise DrawingError(f"A drawing's dash must be one of {', '.join(DASHES)}, not {self.dash!r}.")
        return Style(self.color.lower(), w, self.dash)


def new_id() -> str:
    """A fresh drawing id (random, URL-safe)."""
    return uuid.uuid4().hex[:16]


def default_levels(kind: str) -> tuple[float, ...]:
    """The Fibonacci levels a new drawing of ``kind`` gets (empty for other kinds)."""
    if kind == "fib_retracement":
        return FIB_RETRACEMENT_LEVELS
    if kind == "fib_extension":
        return FIB_EXTENSION_LEVELS
    return ()


@dataclass(frozen=True, slots=True)
class Drawing:
    """One drawing on one symbol's chart (see the module docstring for kinds and points)."""

    kind: str
    points: tuple[Point, ...]
    style: Style = field(default_factory=Style)
    locked: bool = False
    text: str = ""
    levels: tuple[float, ...] = ()
    id: str = field(default_factory=new_id)

    @classmethod
    def create(cls, kind: str, points: Iterable[tuple[float, float] | Point], style: Style | None = None,
               text: str = "", levels: Iterable[float] | None = None, locked: bool = False) -> Drawing:
        """A new, checked drawing of ``kind`` from (time, price) pairs; Fibonacci kinds get
        ``default_levels`` unless ``levels`` is given. Raises ``DrawingError``."""
        pts = tuple(p if isinstance(p, Point) else Point(*p) for p in points)  # type: ignore[arg-type]
        lv = tuple(levels) if levels is not None else default_levels(kind)
        return cls(kind, pts, style or Style(), locked, text, lv).checked()

    def checked(self) -> Drawing:
        """This drawing with every field validated and normalised; raises ``DrawingError``."""
        if self.kind not in POINTS:
            raise DrawingError(f"Unknown drawing kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise DrawingError(f"A drawing id must be 1-64 letters, digits, _ or -, not {self.id!r}.")
        pts = tuple(self.points)
        need = POINTS[self.kind]
        if len(pts) != need or not all(isinstance(p, Point) for p in pts):
            raise DrawingError(f"A {KIND_LABELS[self.kind].lower()} needs {need} point(s), not {len(pts)}.")
        if not isinstance(self.style, Style):
            raise DrawingError("A drawing's style must be a Style.")
        if not isinstance(self.text, str) or len(self.text) > MAX_TEXT:
            raise DrawingError(f"A drawing's text must be a string of at most {MAX_TEXT} characters.")
        if not isinstance(self.locked, bool):
            raise DrawingError("A drawing's locked flag must be true or false.")
        levels = tuple(_finite(v, "A Fibonacci level") for v in self.levels)
        if self.kind in FIB_KINDS:
            if not 1 <= len(levels) <= MAX_LEVELS:
                raise DrawingError(f"A Fibonacci drawing needs 1 to {MAX_LEVELS} levels, not {len(levels)}.")
            if any(abs(v) > 10 for v in levels):
                raise DrawingError("Fibonacci levels must be between -10 and 10 (0.618 is 61.8 %).")
            levels = tuple(sorted(set(levels)))
        elif levels:
            raise DrawingError(f"A {KIND_LABELS[self.kind].lower()} has no levels.")
        return Drawing(self.kind, tuple(p.checked() for p in pts), self.style.checked(), self.locked,
                       self.text, levels, self.id)

    # ------------------------------------------------------------------ edits (new values)
    def with_points(self, points: Sequence[Point]) -> Drawing:
        """This drawing moved to ``points`` (checked)."""
        return replace(self, points=tuple(points)).checked()

    def moved(self, d_time: int, d_price: float) -> Drawing:
        """This drawing shifted by ``d_time`` seconds and ``d_price``."""
        return self.with_points([Point(p.time + int(d_time), p.price + float(d_price)) for p in self.points])

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the stored form)."""
        d: dict[str, Any] = {
            "id": self.id, "kind": self.kind, "points": [[p.time, p.price] for p in self.points],
            "style": {"color": self.style.color, "width": self.style.width, "dash": self.style.dash},
            "locked": self.locked, "text": self.text,
        }
        if self.levels:
            d["levels"] = list(self.levels)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> Drawing:
        """A drawing from ``to_dict``'s form, checked; raises ``DrawingError`` for anything malformed."""
        if not isinstance(d, dict):
            raise DrawingError(f"A stored drawing must be an object, not {type(d).__name__}.")
        pts = d.get("points")
        if not isinstance(pts, list) or not all(isinstance(p, list) and len(p) == 2 for p in pts):
            raise DrawingError("A stored drawing's points must be a list of [time, price] pairs.")
        st = d.get("style", {})
        if not isinstance(st, dict):
            raise DrawingError("A stored drawing's style must be an object.")
        levels = d.get("levels", [])
        if not isinstance(levels, list):
            raise DrawingError("A stored drawing's levels must be a list of numbers.")
        points = []
        for t, p in pts:
            tf = _finite(t, "A point's time")
            points.append(Point(int(tf) if tf.is_integer() else tf, p))  # type: ignore[arg-type]
        style = Style(st.get("color", DEFAULT_COLOR), st.get("width", 1.5), st.get("dash", "solid"))
        return cls(d.get("kind"), tuple(points), style, d.get("locked", False), d.get("text", ""),  # type: ignore[arg-type]
                   tuple(levels), d.get("id", new_id())).checked()


def dumps(drawings: Iterable[Drawing]) -> str:
    """The JSON text of a list of drawings."""
    return json.dumps([d.to_dict() for d in drawings], separators=(",", ":"))


def loads(text: str) -> tuple[list[Drawing], list[str]]:
    """Drawings from ``dumps``'s JSON; a malformed entry is skipped (logged, and its reason
    returned in the warnings), so one bad drawing never stops the others from showing."""
    try:
        raw = json.loads(text)
    except (TypeError, ValueError) as exc:
        msg = f"Stored drawings are not valid JSON ({exc}); none were loaded."
        log.warning(msg)
        return [], [msg]
    if not isinstance(raw, list):
        msg = "Stored drawings must be a JSON list; none were loaded."
        log.warning(msg)
        return [], [msg]
    out: list[Drawing] = []
    warnings: list[str] = []
    for k, item in enumerate(raw):
        try:
            out.append(Drawing.from_dict(item))
        except DrawingError as exc:
            msg = f"Drawing {k + 1} was skipped: {exc}"
            log.warning(msg)
            warnings.append(msg)
    return out, warnings


# ---------------------------------------------------------------------- figures
def fib_prices(d: Drawing) -> list[tuple[float, float]]:
    """(level, price) of each Fibonacci level of ``d`` (see the module docstring)."""
    if d.kind == "fib_retracement":
        a, b = d.points[0].price, d.points[1].price
        return [(r, b - r * (b - a)) for r in d.levels]
    if d.kind == "fib_extension":
        a, b, c = (p.price for p in d.points)
        return [(r, c + r * (b - a)) for r in d.levels]
    raise DrawingError(f"A {KIND_LABELS.get(d.kind, d.kind).lower()} has no Fibonacci levels.")


@dataclass(frozen=True, slots=True)
class Measure:
    """What a price or date range measures between its two points: ``change`` (price units,
    second minus first), ``percent`` (of the first price; NaN when it is 0), ``bars`` (bar
    count on the drawn timeframe, signed) and ``seconds`` (signed)."""

    change: float
    percent: float
    bars: int
    seconds: int


def measure(d: Drawing, times: np.ndarray) -> Measure:
    """The figures of a price or date range ``d`` over the bar ``times`` (epoch seconds) of
    the timeframe it is drawn on. Raises ``DrawingError`` for other kinds."""
    if d.kind not in ("price_range", "date_range"):
        raise DrawingError("Only price and date ranges measure.")
    a, b = d.points
    change = b.price - a.price
    pct = change / a.price * 100.0 if a.price else math.nan
    x0, x1 = time_to_x(times, a.time), time_to_x(times, b.time)
    bars = int(round(x1 - x0)) if math.isfinite(x0) and math.isfinite(x1) else 0
    return Measure(change, pct, bars, b.time - a.time)


def duration_text(seconds: int) -> str:
    """A span as a trader reads it: "3d 4h", "45m", "2h 5m"."""
    s = abs(int(seconds))
    sign = "-" if seconds < 0 else ""
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return f"{sign}{d}d {h}h" if h else f"{sign}{d}d"
    if h:
        return f"{sign}{h}h {m}m" if m else f"{sign}{h}h"
    return f"{sign}{m}m"


def measure_text(m: Measure) -> str:
    """The label a measure shows: "+12.50 (+8.33 %) · 20 bars · 28d"."""
    pct = f"{m.percent:+.2f} %" if math.isfinite(m.percent) else "– %"
    return f"{m.change:+,.2f} ({pct}) · {m.bars} bars · {duration_text(m.seconds)}"


# ---------------------------------------------------------------------- time <-> bar index
def _step(times: np.ndarray) -> float:
    if len(times) < 2:
        return 86400.0
    d = np.diff(times[-min(len(times), 20):].astype(float))
    d = d[d > 0]
    return float(np.median(d)) if len(d) else 86400.0


def time_to_x(times: np.ndarray, t: float) -> float:
    """The bar-index x of time ``t`` on bars with ``times`` (ascending epoch seconds): a bar's
    time is its index, a time between two bars interpolates, a time before the first or after
    the last bar extrapolates at the typical bar spacing. NaN when there are no bars."""
    n = len(times)
    if n == 0:
        return math.nan
    tt = times.astype(float) if times.dtype != float else times
    first, last = float(tt[0]), float(tt[-1])
    if t <= first:
        return (t - first) / _step(times)
    if t >= last:
        return n - 1 + (t - last) / _step(times)
    return float(np.interp(t, tt, np.arange(n, dtype=float)))


def x_to_time(times: np.ndarray, x: float) -> int:
    """The inverse of ``time_to_x``: the epoch-second time at bar-index ``x``."""
    n = len(times)
    if n == 0 or not math.isfinite(x):
        raise DrawingError("There are no bars to place a drawing on.")
    tt = times.astype(float)
    if x <= 0:
        return int(round(tt[0] + x * _step(times)))
    if x >= n - 1:
        return int(round(tt[-1] + (x - (n - 1)) * _step(times)))
    return int(round(float(np.interp(x, np.arange(n, dtype=float), tt))))


# ---------------------------------------------------------------------- undo / redo
@dataclass(frozen=True, slots=True)
class Change:
    """One undoable command: ``action`` ("add", "move", "edit", "delete", "restyle", "lock"),
    the drawing ``before`` (None for add) and ``after`` (None for delete)."""

    action: str
    before: Drawing | None
    after: Drawing | None


ACTIONS = ("add", "move", "edit", "delete", "restyle", "lock")


class DrawingSet:
    """One symbol's drawings, in drawing order, with an undo/redo stack.

    Every mutation goes through ``apply(change)``; ``undo``/``redo`` replay changes backwards
    or forwards. ``listeners`` are called with no argument after every change (the chart
    redraws and stores)."""

    def __init__(self, drawings: Iterable[Drawing] = (), limit: int = 200) -> None:
        self._items: dict[str, Drawing] = {}
        for d in drawings:
            self._items[d.id] = d
        self._undo: list[Change] = []
        self._redo: list[Change] = []
        self.limit = limit
        self.listeners: list[Callable[[], None]] = []

    def __iter__(self) -> Any:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, drawing_id: object) -> bool:
        return drawing_id in self._items

    def get(self, drawing_id: str) -> Drawing:
        """The drawing with ``drawing_id``; raises ``KeyError``."""
        return self._items[drawing_id]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def _put(self, before: Drawing | None, after: Drawing | None) -> None:
        if after is None:
            if before is not None:
                self._items.pop(before.id, None)
        else:
            self._items[after.id] = after

    def _notify(self) -> None:
        for fn in list(self.listeners):
            fn()

    def apply(self, change: Change) -> None:
        """Do ``change`` and push it on the undo stack (clearing redo). Raises ``DrawingError``
        for a change that does not fit (unknown action, a missing or duplicate drawing, a
        locked drawing moved or edited)."""
        if change.action not in ACTIONS:
            raise DrawingError(f"Unknown drawing action {change.action!r}.")
        b, a = change.before, change.after
        if change.action == "add":
            if a is None or b is not None or a.id in self._items:
                raise DrawingError("An added drawing must be new.")
            a = a.checked()
        else:
            if b is None or b.id not in self._items:
                raise DrawingError("That drawing is no longer on the chart.")
            b = self._items[b.id]
            if change.action != "delete":
                if a is None or a.id != b.id:
                    raise DrawingError("A changed drawing must keep its id.")
                a = a.checked()
            if b.locked and change.action in ("move", "edit", "restyle") and (a is None or a.locked):
                raise DrawingError("The drawing is locked; unlock it first.")
        c = Change(change.action, b, a)
        self._put(b, a)
        self._undo.append(c)
        del self._undo[:-self.limit]
        self._redo.clear()
        self._notify()

    def add(self, d: Drawing) -> Drawing:
        """Add ``d`` (undoable); returns it checked."""
        self.apply(Change("add", None, d))
        return self._items[d.id]

    def update(self, action: str, d: Drawing) -> Drawing:
        """Replace the drawing with ``d.id`` by ``d`` as ``action`` (move/edit/restyle/lock)."""
        self.apply(Change(action, self.get(d.id), d))
        return self._items[d.id]

    def delete(self, drawing_id: str) -> None:
        """Delete the drawing (undoable); a locked drawing can be deleted only once unlocked."""
        d = self.get(drawing_id)
        if d.locked:
            raise DrawingError("The drawing is locked; unlock it first.")
        self.apply(Change("delete", d, None))

    def undo(self) -> Change | None:
        """Undo the last change (None when there is nothing to undo)."""
        if not self._undo:
            return None
        c = self._undo.pop()
        self._put(c.after, None)
        if c.before is not None:
            self._put(None, c.before)
        self._redo.append(c)
        self._notify()
        return c

    def redo(self) -> Change | None:
        """Redo the last undone change (None when there is nothing to redo)."""
        if not self._redo:
            return None
        c = self._redo.pop()
        self._put(c.before, c.after)
        self._undo.append(c)
        self._notify()
        return c


# ---------------------------------------------------------------------- store
class DrawingStore:
    """Each symbol's drawings in the local store (table ``chart_drawings``, migration
    ``0010_drawings``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def _symbol(symbol: str) -> str:
        if not isinstance(symbol, str) or not symbol.strip() or len(symbol.strip()) > 32:
            raise DrawingError(f"A symbol must be 1-32 characters, not {symbol!r}.")
        return symbol.strip().upper()

    def load(self, symbol: str) -> tuple[list[Drawing], list[str]]:
        """The stored drawings of ``symbol`` in drawing order, and a warning per malformed row
        (skipped). Raises ``DrawingError`` for a bad symbol, ``StoreError`` if the store fails."""
        sym = self._symbol(symbol)
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT id, definition FROM chart_drawings WHERE symbol=? ORDER BY seq, id",
                             (sym,)).fetchall()
        out: list[Drawing] = []
        warnings: list[str] = []
        for rid, text in rows:
            try:
                out.append(Drawing.from_dict(json.loads(text)))
            except (DrawingError, TypeError, ValueError) as exc:
                msg = f"A stored drawing of {sym} ({rid}) was skipped: {exc}"
                log.warning(msg)
                warnings.append(msg)
        return out, warnings

    def save(self, symbol: str, drawings: Iterable[Drawing]) -> None:
        """Replace ``symbol``'s stored drawings by ``drawings`` in one transaction (each is
        checked first, so nothing is written if one is invalid)."""
        sym = self._symbol(symbol)
        rows = [(d.checked().id, sym, k, json.dumps(d.checked().to_dict(), separators=(",", ":")))
                for k, d in enumerate(drawings)]
        now = int(_time.time())
        with self.db.connect() as c:
            c.execute("DELETE FROM chart_drawings WHERE symbol=?", (sym,))
            c.executemany("INSERT OR REPLACE INTO chart_drawings(id, symbol, seq, definition, updated_at) "
                          "VALUES (?, ?, ?, ?, ?)", [(*r, now) for r in rows])

    def symbols(self) -> list[str]:
        """The symbols that have stored drawings."""
        with self.db.connect(write=False) as c:
            return [r[0] for r in c.execute("SELECT DISTINCT symbol FROM chart_drawings ORDER BY symbol")]
