"""The persisted journal: entries in the local store (revision ``0006_journal``).

An entry is a round trip (``RoundTrip``: symbol, side, entry and exit legs, size, gross and
net P&L, fees, stop → R, holding time, MFE/MAE) and the trader's fields (``EntryFields``:
setup tags, emotion before/after, confidence 1–5, followed-the-plan, mistake tags, markdown
notes), plus attachments: the chart snapshot PNG taken at exit and any screenshots (a file
path or the image itself).

Decisions, stated once:

* **Idempotent.** Every entry has a ``key`` (``source:account:digest of the legs``); adding
  the same round trip again returns the entry already there (``add`` reports ``created``
  False). That is what lets the paper broker's fills be replayed on every start.
* **Undo is a persisted stack in the engine API** (``journal_edits``): each ``edit`` is one
  step holding the fields before and after; ``undo``/``redo`` walk it (across entries, in
  the order the edits were made) and survive a restart. Typing into one field of one entry
  within ``COALESCE_MS`` of the previous edit of the same fields extends that step instead
  of adding one, so undo takes back a burst of typing, not a character. A new edit after
  undos drops the redo steps, as in every editor. ``history(entry_id)`` is the entry's
  edit history.
* **Deleting is a separate explicit call** (``delete``), not an edit: it removes the entry,
  its attachments and its undo steps; the view asks before calling it.
* **Autosave.** Every ``edit`` commits before it returns (WAL, ``synchronous=FULL``): a
  view that calls it while the user types (debounced) loses nothing on a crash. A failed
  write (disk full, I/O error) raises the store's one-sentence ``StoreError`` and changes
  nothing, on disk or in what the store returns afterwards.

Values are checked before anything is written (``EntryFields`` and ``RoundTrip`` refuse bad
values with a ``ValueError`` naming the field).
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields as dc_fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from engine.events import EventBus
from engine.journal.events import JournalChanged
from engine.journal.review import EMOTIONS, JournalEntry, JournalFrame
from engine.journal.roundtrips import Leg, RoundTrip, to_decimal
from engine.store.db import Database, open_database

Source = Literal["paper", "manual", "import"]
SOURCES: tuple[str, ...] = ("paper", "manual", "import")

#: Consecutive edits of the same fields of one entry closer than this merge into one undo step.
COALESCE_MS = 2000
MAX_LABEL = 64
MAX_LABELS = 50
MAX_NOTES = 200_000
MAX_IMAGE_BYTES = 20_000_000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

__all__ = ["COALESCE_MS", "EMOTIONS", "Attachment", "Edit", "EntryFields", "JournalStore", "StoredEntry",
           "trip_from_json", "trip_key", "trip_to_json"]


def wall_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------- fields


def _labels(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",") if v.strip()]
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{what} must be a list of text labels")
    out: list[str] = []
    for v in value:
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{what} must be non-empty text labels, not {v!r}")
        v = " ".join(v.split())
        if len(v) > MAX_LABEL:
            raise ValueError(f"{what}: '{v[:20]}…' is longer than {MAX_LABEL} characters")
        out.append(v)
    out = list(dict.fromkeys(out))
    if len(out) > MAX_LABELS:
        raise ValueError(f"{what}: at most {MAX_LABELS} labels, not {len(out)}")
    return tuple(out)


def _emotion(value: object, what: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text (one of {', '.join(EMOTIONS)} or your own), not {value!r}")
    v = " ".join(value.split())
    if len(v) > MAX_LABEL:
        raise ValueError(f"{what} is longer than {MAX_LABEL} characters")
    for known in EMOTIONS:  # "fomo" is the listed "FOMO"
        if known.casefold() == v.casefold():
            return known
    return v


@dataclass(frozen=True, slots=True)
class EntryFields:
    """What the trader adds to a round trip. ``setups``/``tags``/``mistakes`` text labels
    (a "a, b" string is split); emotions one of ``EMOTIONS`` (case-insensitive) or any custom
    text, or None; ``confidence`` 1–5 or None; ``followed_plan`` True/False/None (not
    answered); ``notes`` markdown. Raises ``ValueError`` naming the bad field."""

    setups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    emotion_before: str | None = None
    emotion_after: str | None = None
    confidence: int | None = None
    followed_plan: bool | None = None
    mistakes: tuple[str, ...] = ()
    notes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "setups", _labels(self.setups, "setup tags"))
        object.__setattr__(self, "tags", _labels(self.tags, "tags"))
        object.__setattr__(self, "mistakes", _labels(self.mistakes, "mistake tags"))
        object.__setattr__(self, "emotion_before", _emotion(self.emotion_before, "emotion before"))
        object.__setattr__(self, "emotion_after", _emotion(self.emotion_after, "emotion after"))
        c = self.confidence
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 5):
            raise ValueError(f"confidence must be a whole number from 1 to 5, or empty, not {c!r}")
        if self.followed_plan is not None and not isinstance(self.followed_plan, bool):
            raise ValueError(f"followed plan must be yes, no or empty, not {self.followed_plan!r}")
        if not isinstance(self.notes, str):
            raise ValueError("notes must be text")
        if len(self.notes) > MAX_NOTES:
            raise ValueError(f"notes are longer than {MAX_NOTES:,} characters")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("setups", "tags", "mistakes"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EntryFields:
        """Fields from ``to_dict``'s form; unknown keys are refused."""
        names = {f.name for f in dc_fields(cls)}
        bad = sorted(set(d) - names)
        if bad:
            raise ValueError(f"unknown journal field {bad[0]!r}; fields are {', '.join(sorted(names))}")
        return cls(**d)

    def changed(self, **changes: Any) -> EntryFields:
        """These fields with ``changes`` applied (validated)."""
        names = {f.name for f in dc_fields(self)}
        bad = sorted(set(changes) - names)
        if bad:
            raise ValueError(f"unknown journal field {bad[0]!r}; fields are {', '.join(sorted(names))}")
        return replace(self, **changes)


# --------------------------------------------------------------------------- trips


def _q(q: int | Decimal) -> int | str:
    return q if isinstance(q, int) else str(q)


def _uq(v: object) -> int | Decimal:
    if isinstance(v, bool):
        raise ValueError("a leg's quantity must be a number")
    if isinstance(v, int):
        return v
    d = to_decimal(v, "quantity")
    whole = d == d.to_integral_value() and not (isinstance(v, str) and "." in v)
    return int(d) if whole else d


def trip_to_json(trip: RoundTrip) -> dict[str, Any]:
    """A round trip as JSON-able data (money as exact decimal strings)."""
    return {
        "symbol": trip.symbol, "direction": trip.direction,
        "entries": [[leg.time_ms, _q(leg.qty), str(leg.price), str(leg.fee)] for leg in trip.entries],
        "exits": [[leg.time_ms, _q(leg.qty), str(leg.price), str(leg.fee)] for leg in trip.exits],
        "stop": None if trip.stop is None else str(trip.stop),
        "mfe": trip.mfe, "mae": trip.mae,
    }


def _legs(rows: object, what: str) -> tuple[Leg, ...]:
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{what} must be a non-empty list of [time_ms, qty, price, fee]")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or len(row) != 4:
            raise ValueError(f"{what} {i + 1} must be [time_ms, qty, price, fee]")
        t, q, p, f = row
        if isinstance(t, bool) or not isinstance(t, int):
            raise ValueError(f"{what} {i + 1}: time must be epoch milliseconds")
        qty = _uq(q)
        price, fee = to_decimal(p, f"{what} {i + 1}: price"), to_decimal(f, f"{what} {i + 1}: fee")
        if qty <= 0 or price <= 0 or fee < 0:
            raise ValueError(f"{what} {i + 1}: quantity and price must be positive and the fee ≥ 0")
        out.append(Leg(t, qty, price, fee))
    return tuple(out)


def _opt_float(v: object, what: str) -> float | None:
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        raise ValueError(f"{what} must be a number")
    x = float(to_decimal(v, what))
    if x < 0:
        raise ValueError(f"{what} must be ≥ 0, not {x}")
    return x


def trip_from_json(d: dict[str, Any]) -> RoundTrip:
    """The round trip of ``trip_to_json``'s data: P&L and fees recomputed from the legs
    (FIFO within the trip). Raises ``ValueError`` for inconsistent or invalid data."""
    from engine.journal.roundtrips import Execution, match_round_trips

    symbol = d.get("symbol")
    direction = d.get("direction")
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError("symbol must be non-empty text")
    if direction not in ("long", "short"):
        raise ValueError(f"direction must be 'long' or 'short', not {direction!r}")
    entries, exits = _legs(d.get("entries"), "entry"), _legs(d.get("exits"), "exit")
    open_side, close_side = ("buy", "sell") if direction == "long" else ("sell", "buy")
    fills = [Execution(symbol, open_side, leg.qty, leg.price, leg.fee, leg.time_ms) for leg in entries]
    fills += [Execution(symbol, close_side, leg.qty, leg.price, leg.fee, leg.time_ms) for leg in exits]
    res = match_round_trips(fills)
    if len(res.trips) != 1 or res.open:
        raise ValueError("the entries and exits must add up to one closed round trip (equal quantities, "
                         "exits after entries)")
    trip = res.trips[0]
    stop = d.get("stop")
    if stop not in (None, ""):
        trip = trip.with_stop(stop)
    mfe, mae = _opt_float(d.get("mfe"), "MFE"), _opt_float(d.get("mae"), "MAE")
    return replace(trip, mfe=mfe, mae=mae)


def trip_key(trip: RoundTrip, source: str, account: str = "") -> str:
    """The idempotency key of ``trip``: ``source:account:`` + a digest of its symbol,
    direction and legs (not of stop or excursions, which may be filled in later)."""
    d = trip_to_json(trip)
    canon = json.dumps([d["symbol"], d["direction"], d["entries"], d["exits"]], separators=(",", ":"))
    return f"{source}:{account}:{hashlib.sha256(canon.encode()).hexdigest()[:24]}"


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """One journal entry as stored: ``id`` (store row), ``key`` (idempotency), ``source``
    ("paper", "manual", "import"), ``account`` (paper account or broker, may be empty)."""

    id: int
    key: str
    source: str
    account: str
    trip: RoundTrip
    fields: EntryFields
    created_ms: int
    updated_ms: int
    has_snapshot: bool = False

    @property
    def entry(self) -> JournalEntry:
        """The entry as reviews read it."""
        f = self.fields
        return JournalEntry(self.trip, f.setups, f.tags, f.emotion_before, f.emotion_after, f.confidence,
                            f.followed_plan, f.mistakes, f.notes)


@dataclass(frozen=True, slots=True)
class Edit:
    """One undo step: ``entry_id``'s fields ``before`` and ``after`` it."""

    id: int
    entry_id: int
    before: EntryFields
    after: EntryFields
    time_ms: int
    undone: bool


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    entry_id: int
    kind: str  # "snapshot" | "screenshot"
    path: str | None
    data: bytes | None
    created_ms: int


@dataclass(frozen=True, slots=True)
class AddResult:
    entry: StoredEntry
    created: bool


_COLS = ("id, key, source, account, legs, fields, created_ms, updated_ms, "
         "EXISTS(SELECT 1 FROM journal_attachments a WHERE a.entry_id=journal_entries.id AND a.kind='snapshot')")


def _fields_json(f: EntryFields) -> str:
    return json.dumps(f.to_dict(), ensure_ascii=False, separators=(",", ":"))


def _load_fields(text: str) -> EntryFields:
    return EntryFields.from_dict(json.loads(text))


class JournalStore:
    """The journal's service object (widgets receive it; see the module docstring).

    Every method raises the local store's ``StoreError`` subclasses when SQLite fails
    (one sentence; nothing changed) and ``ValueError`` / ``KeyError``-free ``LookupError``
    for bad arguments or a missing entry.
    """

    def __init__(self, db: Database, bus: EventBus | None = None, *, clock: Callable[[], int] = wall_ms) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    @classmethod
    def open(cls, path: Path | None = None, bus: EventBus | None = None) -> JournalStore:
        """The journal of the local store at ``path`` (default: the app's database)."""
        return cls(open_database(path), bus)

    def close(self) -> None:
        self.db.dispose()

    def _announce(self, kind: str, ids: Sequence[int]) -> None:
        if self.bus is not None and ids:
            self.bus.publish(JournalChanged(kind, tuple(ids)))

    # ------------------------------------------------------------------ reading

    def _row(self, r: Sequence[Any]) -> StoredEntry:
        legs = json.loads(r[4])
        return StoredEntry(int(r[0]), r[1], r[2], r[3], trip_from_json(legs), _load_fields(r[5]),
                           int(r[6]), int(r[7]), bool(r[8]))

    def get(self, entry_id: int) -> StoredEntry:
        """Entry ``entry_id``; raises ``LookupError`` if there is none."""
        with self.db.connect(write=False) as c:
            r = c.execute(f"SELECT {_COLS} FROM journal_entries WHERE id=?", (int(entry_id),)).fetchone()
        if r is None:
            raise LookupError(f"journal entry {entry_id} does not exist (it may have been deleted)")
        return self._row(r)

    def find(self, key: str) -> StoredEntry | None:
        with self.db.connect(write=False) as c:
            r = c.execute(f"SELECT {_COLS} FROM journal_entries WHERE key=?", (key,)).fetchone()
        return None if r is None else self._row(r)

    def entries(self, start_ms: int | None = None, end_ms: int | None = None) -> list[StoredEntry]:
        """Entries whose trip closed in [start_ms, end_ms) (None = unbounded), by exit time."""
        sql = f"SELECT {_COLS} FROM journal_entries WHERE exit_ms >= ? AND exit_ms < ? ORDER BY exit_ms, id"
        lo = -(2**62) if start_ms is None else int(start_ms)
        hi = 2**62 if end_ms is None else int(end_ms)
        with self.db.connect(write=False) as c:
            rows = c.execute(sql, (lo, hi)).fetchall()
        return [self._row(r) for r in rows]

    def count(self) -> int:
        with self.db.connect(write=False) as c:
            return int(c.execute("SELECT COUNT(*) FROM journal_entries").fetchone()[0])

    def keys(self) -> set[str]:
        with self.db.connect(write=False) as c:
            return {r[0] for r in c.execute("SELECT key FROM journal_entries")}

    def journal_entries(self) -> list[JournalEntry]:
        """Every entry as reviews read them, by exit time."""
        return [e.entry for e in self.entries()]

    def frame(self) -> JournalFrame:
        """The journal as review columns (``engine.journal.review.JournalFrame``)."""
        return JournalFrame.from_entries(self.journal_entries())

    # ------------------------------------------------------------------ adding

    def add(self, trip: RoundTrip, *, source: str = "manual", account: str = "", key: str | None = None,
            fields: EntryFields | None = None, snapshot: bytes | None = None) -> AddResult:
        """Add ``trip`` as an entry (or find it: same key = same entry, nothing written).

        ``snapshot`` a PNG of the chart at exit. Raises ``ValueError`` for a bad argument.
        """
        return self.add_many([(trip, fields or EntryFields(), snapshot)], source=source, account=account,
                             keys=None if key is None else [key])[0]

    def add_many(self, items: Sequence[tuple[RoundTrip, EntryFields, bytes | None]], *, source: str = "manual",
                 account: str = "", keys: Sequence[str] | None = None) -> list[AddResult]:
        """Add several entries in one transaction (all or none); see ``add``."""
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        if not isinstance(account, str) or len(account) > 100:
            raise ValueError("account must be text of at most 100 characters")
        if keys is not None and len(keys) != len(items):
            raise ValueError("one key per entry")
        prepared = []
        for i, (trip, flds, png) in enumerate(items):
            if not isinstance(trip, RoundTrip):
                raise ValueError("trip must be a RoundTrip")
            if not isinstance(flds, EntryFields):
                raise ValueError("fields must be EntryFields")
            if png is not None:
                _check_png(png)
            k = keys[i] if keys is not None else trip_key(trip, source, account)
            if not isinstance(k, str) or not k.strip() or len(k) > 200:
                raise ValueError("an entry key must be non-empty text of at most 200 characters")
            prepared.append((k, trip, flds, png))
        now = self.clock()
        out: list[tuple[int, bool]] = []
        with self.db.connect() as c:
            for k, trip, flds, png in prepared:
                row = c.execute("SELECT id FROM journal_entries WHERE key=?", (k,)).fetchone()
                if row is not None:
                    out.append((int(row[0]), False))
                    continue
                cur = c.execute(
                    "INSERT INTO journal_entries(key, source, account, symbol, direction, legs, qty, gross_pnl, "
                    "fees, net_pnl, stop, r_multiple, entry_ms, exit_ms, mfe, mae, fields, created_ms, updated_ms) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (k, source, account, trip.symbol, trip.direction, json.dumps(trip_to_json(trip)),
                     str(trip.qty), str(trip.gross_pnl), str(trip.fees), str(trip.net_pnl),
                     None if trip.stop is None else str(trip.stop), trip.r_multiple, trip.entry_time_ms,
                     trip.exit_time_ms, trip.mfe, trip.mae, _fields_json(flds), now, now))
                eid = int(cur.lastrowid or 0)
                if png is not None:
                    c.execute("INSERT INTO journal_attachments(entry_id, kind, path, data, created_ms) "
                              "VALUES (?, 'snapshot', NULL, ?, ?)", (eid, png, now))
                out.append((eid, True))
        self._announce("added", [i for i, new in out if new])
        return [AddResult(self.get(i), new) for i, new in out]

    # ------------------------------------------------------------------ editing

    def edit(self, entry_id: int, **changes: Any) -> StoredEntry:
        """Change the trader's fields of entry ``entry_id`` (``EntryFields`` names), committed
        before returning, as one undo step (or merged into the previous one, see the module
        docstring). Raises ``ValueError`` for a bad value, ``LookupError`` for no such entry."""
        entry_id = int(entry_id)
        now = self.clock()
        with self.db.connect() as c:
            row = c.execute("SELECT fields FROM journal_entries WHERE id=?", (entry_id,)).fetchone()
            if row is None:
                raise LookupError(f"journal entry {entry_id} does not exist (it may have been deleted)")
            before = _load_fields(row[0])
            after = before.changed(**changes)
            if after == before:
                return self._get_in(c, entry_id)
            changed_keys = {k for k in changes if getattr(before, k) != getattr(after, k)}
            c.execute("DELETE FROM journal_edits WHERE undone=1")  # a new edit drops the redo steps
            top = c.execute("SELECT id, entry_id, before, after, time_ms FROM journal_edits "
                            "ORDER BY id DESC LIMIT 1").fetchone()
            merged = False
            if top is not None and int(top[1]) == entry_id and now - int(top[4]) <= COALESCE_MS:
                t_before, t_after = _load_fields(top[2]), _load_fields(top[3])
                top_keys = {f.name for f in dc_fields(EntryFields) if getattr(t_before, f.name) != getattr(t_after, f.name)}
                if top_keys == changed_keys:
                    c.execute("UPDATE journal_edits SET after=?, time_ms=? WHERE id=?",
                              (_fields_json(after), now, int(top[0])))
                    merged = True
            if not merged:
                c.execute("INSERT INTO journal_edits(entry_id, before, after, time_ms, undone) VALUES (?,?,?,?,0)",
                          (entry_id, _fields_json(before), _fields_json(after), now))
            c.execute("UPDATE journal_entries SET fields=?, updated_ms=? WHERE id=?",
                      (_fields_json(after), now, entry_id))
            out = self._get_in(c, entry_id)
        self._announce("edited", [entry_id])
        return out

    def _get_in(self, c: Any, entry_id: int) -> StoredEntry:
        r = c.execute(f"SELECT {_COLS} FROM journal_entries WHERE id=?", (entry_id,)).fetchone()
        return self._row(r)

    def can_undo(self) -> bool:
        with self.db.connect(write=False) as c:
            return c.execute("SELECT 1 FROM journal_edits WHERE undone=0 LIMIT 1").fetchone() is not None

    def can_redo(self) -> bool:
        with self.db.connect(write=False) as c:
            return c.execute("SELECT 1 FROM journal_edits WHERE undone=1 LIMIT 1").fetchone() is not None

    def undo(self) -> StoredEntry | None:
        """Take back the newest edit (of any entry); returns the entry as it is now, or None
        when there is nothing to undo."""
        return self._step("SELECT id, entry_id, before FROM journal_edits WHERE undone=0 ORDER BY id DESC LIMIT 1", 1)

    def redo(self) -> StoredEntry | None:
        """Re-apply the edit ``undo`` took back last; None when there is nothing to redo."""
        return self._step("SELECT id, entry_id, after FROM journal_edits WHERE undone=1 ORDER BY id LIMIT 1", 0)

    def _step(self, sql: str, undone: int) -> StoredEntry | None:
        now = self.clock()
        with self.db.connect() as c:
            r = c.execute(sql).fetchone()
            if r is None:
                return None
            eid = int(r[1])
            c.execute("UPDATE journal_edits SET undone=? WHERE id=?", (undone, int(r[0])))
            c.execute("UPDATE journal_entries SET fields=?, updated_ms=? WHERE id=?", (r[2], now, eid))
            out = self._get_in(c, eid)
        self._announce("edited", [eid])
        return out

    def history(self, entry_id: int) -> list[Edit]:
        """The undo steps of entry ``entry_id``, oldest first (undone ones included)."""
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT id, entry_id, before, after, time_ms, undone FROM journal_edits "
                             "WHERE entry_id=? ORDER BY id", (int(entry_id),)).fetchall()
        return [Edit(int(r[0]), int(r[1]), _load_fields(r[2]), _load_fields(r[3]), int(r[4]), bool(r[5]))
                for r in rows]

    def delete(self, entry_id: int) -> None:
        """Delete entry ``entry_id`` with its attachments and undo steps (not undoable: the
        view asks first). Raises ``LookupError`` if there is no such entry."""
        entry_id = int(entry_id)
        with self.db.connect() as c:
            cur = c.execute("DELETE FROM journal_entries WHERE id=?", (entry_id,))
            if cur.rowcount == 0:
                raise LookupError(f"journal entry {entry_id} does not exist (it may have been deleted)")
        self._announce("deleted", [entry_id])

    # ------------------------------------------------------------------ attachments

    def set_snapshot(self, entry_id: int, png: bytes) -> None:
        """Store (or replace) the chart snapshot of entry ``entry_id``. Raises ``ValueError``
        if ``png`` is not a PNG."""
        _check_png(png)
        entry_id = int(entry_id)
        with self.db.connect() as c:
            if c.execute("SELECT 1 FROM journal_entries WHERE id=?", (entry_id,)).fetchone() is None:
                raise LookupError(f"journal entry {entry_id} does not exist (it may have been deleted)")
            c.execute("DELETE FROM journal_attachments WHERE entry_id=? AND kind='snapshot'", (entry_id,))
            c.execute("INSERT INTO journal_attachments(entry_id, kind, path, data, created_ms) "
                      "VALUES (?, 'snapshot', NULL, ?, ?)", (entry_id, png, self.clock()))
        self._announce("edited", [entry_id])

    def snapshot(self, entry_id: int) -> bytes | None:
        """The chart snapshot PNG of entry ``entry_id``, or None."""
        with self.db.connect(write=False) as c:
            r = c.execute("SELECT data FROM journal_attachments WHERE entry_id=? AND kind='snapshot' "
                          "ORDER BY id DESC LIMIT 1", (int(entry_id),)).fetchone()
        return None if r is None else bytes(r[0])

    def add_screenshot(self, entry_id: int, *, path: str | None = None, data: bytes | None = None) -> Attachment:
        """Attach a screenshot to entry ``entry_id``: a file ``path`` (kept as a link) or the
        image bytes ``data`` (stored). Raises ``ValueError`` unless exactly one is given."""
        if (path is None) == (data is None):
            raise ValueError("give a screenshot's file path or its image data, not both or neither")
        if path is not None and (not isinstance(path, str) or not path.strip() or len(path) > 4096):
            raise ValueError("a screenshot path must be non-empty text")
        if data is not None and (not isinstance(data, bytes) or not data or len(data) > MAX_IMAGE_BYTES):
            raise ValueError(f"screenshot data must be an image of at most {MAX_IMAGE_BYTES // 1_000_000} MB")
        entry_id = int(entry_id)
        now = self.clock()
        with self.db.connect() as c:
            if c.execute("SELECT 1 FROM journal_entries WHERE id=?", (entry_id,)).fetchone() is None:
                raise LookupError(f"journal entry {entry_id} does not exist (it may have been deleted)")
            cur = c.execute("INSERT INTO journal_attachments(entry_id, kind, path, data, created_ms) "
                            "VALUES (?, 'screenshot', ?, ?, ?)", (entry_id, path, data, now))
            aid = int(cur.lastrowid or 0)
        self._announce("edited", [entry_id])
        return Attachment(aid, entry_id, "screenshot", path, data, now)

    def attachments(self, entry_id: int) -> list[Attachment]:
        with self.db.connect(write=False) as c:
            rows = c.execute("SELECT id, entry_id, kind, path, data, created_ms FROM journal_attachments "
                             "WHERE entry_id=? ORDER BY id", (int(entry_id),)).fetchall()
        return [Attachment(int(r[0]), int(r[1]), r[2], r[3], None if r[4] is None else bytes(r[4]), int(r[5]))
                for r in rows]

    def remove_attachment(self, attachment_id: int) -> None:
        with self.db.connect() as c:
            c.execute("DELETE FROM journal_attachments WHERE id=?", (int(attachment_id),))

    # ------------------------------------------------------------------ saved CSV mappings

    def save_mapping(self, name: str, mapping: dict[str, Any]) -> None:
        """Keep a broker-CSV column mapping under ``name`` (see ``engine.journal.imports``)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValueError("a mapping name must be non-empty text of at most 100 characters")
        with self.db.connect() as c:
            c.execute("INSERT INTO journal_mappings(name, mapping) VALUES (?, ?) "
                      "ON CONFLICT(name) DO UPDATE SET mapping=excluded.mapping",
                      (name.strip(), json.dumps(mapping)))

    def mappings(self) -> dict[str, dict[str, Any]]:
        with self.db.connect(write=False) as c:
            return {r[0]: json.loads(r[1]) for r in c.execute("SELECT name, mapping FROM journal_mappings ORDER BY name")}


def _check_png(png: object) -> None:
    if not isinstance(png, bytes) or not png.startswith(PNG_MAGIC) or len(png) > MAX_IMAGE_BYTES:
        raise ValueError("a snapshot must be PNG image data")


def entries_between(entries: Iterable[StoredEntry], start_ms: int, end_ms: int) -> list[StoredEntry]:
    return [e for e in entries if start_ms <= e.trip.exit_time_ms < end_ms]

