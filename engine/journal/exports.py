"""Journal export to CSV, JSON and Excel, and import of those files back.

One row per entry. Columns (``COLUMNS``): the entry's ``key`` and ``source``/``account``,
the round trip's figures (``symbol``, ``direction``, ``qty``, ``entry_time``/``exit_time``
ISO-8601 UTC, ``avg_entry``/``avg_exit``, ``gross_pnl``/``fees``/``net_pnl`` exact decimals,
``stop``, ``r_multiple``, ``holding_s``, ``mfe``/``mae`` per share), the trader's fields
(labels joined with "; ", ``followed_plan`` yes/no/empty) and the legs themselves
(``entries``/``exits``: JSON ``[[time_ms, qty, price, fee], …]``), so an exported round trip
re-imports to the same entry: same key, same legs, same figures, same fields. Figures in a
file are not trusted on import: P&L and fees are recomputed from the legs, and a row whose
``net_pnl`` disagrees is refused with its line number.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from engine.journal.store import EntryFields, JournalStore, StoredEntry, trip_from_json, trip_to_json

Format = Literal["csv", "json", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "json", "xlsx")

COLUMNS: tuple[str, ...] = (
    "key", "source", "account", "symbol", "direction", "qty", "entry_time", "exit_time", "avg_entry",
    "avg_exit", "gross_pnl", "fees", "net_pnl", "stop", "r_multiple", "holding_s", "mfe", "mae",
    "setups", "tags", "emotion_before", "emotion_after", "confidence", "followed_plan", "mistakes",
    "notes", "entries", "exits",
)


class ImportProblem(ValueError):
    """A file that cannot be imported; ``problems`` lists (line, message) for every bad row."""

    def __init__(self, summary: str, problems: list[tuple[int, str]]) -> None:
        super().__init__(summary)
        self.summary = summary
        self.problems = problems


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _num(x: float | None) -> float | None:
    return None if x is None or x != x else x


def entry_row(e: StoredEntry) -> dict[str, Any]:
    """The export row of one entry (values as JSON-able Python: str, int, float, None)."""
    t, f = e.trip, e.fields
    legs = trip_to_json(t)
    return {
        "key": e.key, "source": e.source, "account": e.account, "symbol": t.symbol, "direction": t.direction,
        "qty": str(t.qty), "entry_time": _iso(t.entry_time_ms), "exit_time": _iso(t.exit_time_ms),
        "avg_entry": str(round(t.avg_entry_price, 6).normalize()), "avg_exit": str(round(t.avg_exit_price, 6).normalize()),
        "gross_pnl": str(t.gross_pnl), "fees": str(t.fees), "net_pnl": str(t.net_pnl),
        "stop": None if t.stop is None else str(t.stop), "r_multiple": t.r_multiple,
        "holding_s": t.holding_ms / 1000, "mfe": _num(t.mfe), "mae": _num(t.mae),
        "setups": "; ".join(f.setups), "tags": "; ".join(f.tags), "emotion_before": f.emotion_before or "",
        "emotion_after": f.emotion_after or "", "confidence": f.confidence,
        "followed_plan": "" if f.followed_plan is None else ("yes" if f.followed_plan else "no"),
        "mistakes": "; ".join(f.mistakes), "notes": f.notes,
        "entries": json.dumps(legs["entries"]), "exits": json.dumps(legs["exits"]),
    }


def export_entries(entries: Sequence[StoredEntry], path: str | Path, fmt: str | None = None) -> int:
    """Write ``entries`` to ``path`` as ``fmt`` ("csv", "json", "xlsx"; default from the
    suffix); returns the number of rows. Raises ``ValueError`` for an unknown format and
    ``OSError`` if the file cannot be written."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"the export format must be csv, json or xlsx, not {fmt or 'none'!r}")
    rows = [entry_row(e) for e in entries]
    tmp = path.with_name(path.name + ".part")
    if fmt == "csv":
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            w.writeheader()
            for r in rows:
                w.writerow({k: "" if v is None else v for k, v in r.items()})
    elif fmt == "json":
        data = [{**r, "entries": json.loads(r["entries"]), "exits": json.loads(r["exits"])} for r in rows]
        tmp.write_text(json.dumps({"format": "stockscanner-journal", "version": 1, "entries": data},
                                  indent=1, ensure_ascii=False), encoding="utf-8")
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Journal")
        ws.append(list(COLUMNS))
        for r in rows:
            ws.append([_xl(r[k], k) for k in COLUMNS])
        wb.save(tmp)
    tmp.replace(path)  # a half-written export never takes the place of a good one
    return len(rows)


_MONEY = {"qty", "avg_entry", "avg_exit", "gross_pnl", "fees", "net_pnl", "stop"}


def _xl(v: Any, k: str) -> Any:
    """Excel cells: money as numbers for the sheet's user (the legs keep the exact text)."""
    if k in _MONEY and v is not None:
        return float(Decimal(v))
    return v


# --------------------------------------------------------------------------- import


def read_rows(path: str | Path, fmt: str | None = None) -> list[dict[str, Any]]:
    """The rows of an exported file (any of the three formats). Raises ``ValueError``."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return list(csv.DictReader(fh))
    if fmt == "json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{path.name} is not valid JSON ({exc})") from None
        rows = data.get("entries") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError(f"{path.name} is not a journal export (no list of entries)")
        return rows
    if fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = [str(h) if h is not None else "" for h in next(it, ())]
        return [dict(zip(header, row)) for row in it]
    raise ValueError(f"the import format must be csv, json or xlsx, not {fmt or 'none'!r}")


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def _fields_of(r: dict[str, Any]) -> EntryFields:
    conf = r.get("confidence")
    if conf in (None, ""):
        confidence = None
    else:
        try:
            confidence = int(float(conf))
        except (TypeError, ValueError):
            raise ValueError(f"confidence must be 1 to 5, not {conf!r}") from None
    plan = _text(r.get("followed_plan")).strip().lower()
    if plan not in ("", "yes", "no", "true", "false", "1", "0"):
        raise ValueError(f"followed_plan must be yes, no or empty, not {plan!r}")
    return EntryFields(
        setups=_text(r.get("setups")), tags=_text(r.get("tags")), mistakes=_text(r.get("mistakes")),  # type: ignore[arg-type]
        emotion_before=_text(r.get("emotion_before")) or None, emotion_after=_text(r.get("emotion_after")) or None,
        confidence=confidence, followed_plan=None if not plan else plan in ("yes", "true", "1"),
        notes=_text(r.get("notes")))


def import_rows(store: JournalStore, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Add exported rows to ``store`` (all or none): returns (added, already there). Every
    bad row is reported with its line (header = line 1) in one ``ImportProblem``."""
    items: list[tuple[Any, EntryFields, None]] = []
    keys: list[str] = []
    sources: list[str] = []
    accounts: list[str] = []
    problems: list[tuple[int, str]] = []
    for i, r in enumerate(rows):
        line = i + 2
        try:
            legs = {k: r.get(k) for k in ("symbol", "direction", "stop", "mfe", "mae")}
            for k in ("entries", "exits"):
                v = r.get(k)
                legs[k] = json.loads(v) if isinstance(v, str) else v
            legs["symbol"] = _text(legs["symbol"]).strip().upper()
            if legs["stop"] is not None:
                legs["stop"] = _text(legs["stop"]) or None
            trip = trip_from_json(legs)
            given = _text(r.get("net_pnl")).strip()
            if given and abs(Decimal(given) - trip.net_pnl) > Decimal("0.005"):
                raise ValueError(f"net_pnl {given} does not match its legs ({trip.net_pnl})")
            fields = _fields_of(r)
            source = _text(r.get("source")).strip() or "import"
            if source not in ("paper", "manual", "import"):
                raise ValueError(f"source must be paper, manual or import, not {source!r}")
            key = _text(r.get("key")).strip()
        except (ValueError, ArithmeticError) as exc:
            problems.append((line, str(exc)))
            continue
        items.append((trip, fields, None))
        keys.append(key)
        sources.append(source)
        accounts.append(_text(r.get("account")))
    if problems:
        raise ImportProblem(f"{len(problems)} of {len(rows)} rows cannot be imported; nothing was imported",
                            problems)
    added = existing = 0
    # one transaction per (source, account) group keeps add_many's contract simple
    groups: dict[tuple[str, str], list[int]] = {}
    for i in range(len(items)):
        groups.setdefault((sources[i], accounts[i]), []).append(i)
    for (source, account), idx in groups.items():
        ks = [keys[i] for i in idx]
        from engine.journal.store import trip_key

        ks = [k or trip_key(items[i][0], source, account) for k, i in zip(ks, idx)]
        for res in store.add_many([items[i] for i in idx], source=source, account=account, keys=ks):
            added += res.created
            existing += not res.created
    return added, existing


def import_file(store: JournalStore, path: str | Path, fmt: str | None = None) -> tuple[int, int]:
    """``import_rows`` of a file ``export_entries`` wrote."""
    return import_rows(store, read_rows(path, fmt))


def to_csv_text(entries: Sequence[StoredEntry]) -> str:
    """The CSV export as text (for copying)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS)
    w.writeheader()
    for e in entries:
        w.writerow({k: "" if v is None else v for k, v in entry_row(e).items()})
    return buf.getvalue()
