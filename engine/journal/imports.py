"""Trades made elsewhere: broker CSV executions through a column mapping → journal entries.

A ``ColumnMapping`` names the file's columns for symbol, side, quantity, price, fee and
time, how the time is written, its time zone, and the words for buy and sell. Two come out
of the box (``BUILTIN_MAPPINGS``): **IBKR Flex** trade confirmations (``Symbol``,
``Buy/Sell``, ``Quantity`` signed, ``TradePrice``, ``IBCommission`` negative,
``DateTime`` as ``20240305;093015`` in New York time) and a **generic** layout
(``symbol,side,qty,price,fee,time`` with ISO times in UTC). Users save their own in the
store (``JournalStore.save_mapping``).

The executions are matched into round trips FIFO (``engine.journal.roundtrips``); open
positions left at the end of the file are reported, not journalled. Every bad row is
reported with its line; nothing is imported from a file with bad rows.
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from engine.journal.exports import ImportProblem
from engine.journal.roundtrips import Execution, match_round_trips, to_decimal
from engine.journal.store import EntryFields, JournalStore, trip_key


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """Which column holds what (header names, matched case-insensitively). ``side`` may be
    empty when ``qty`` is signed (negative = sell). ``time_format`` a ``strptime`` format or
    "iso"; ``date`` an optional separate date column (then ``time`` holds the clock time and
    ``time_format`` parses "date time"). Raises ``ValueError`` for a mapping missing a column."""

    name: str
    symbol: str
    qty: str
    price: str
    time: str
    side: str = ""
    fee: str = ""
    date: str = ""
    time_format: str = "iso"
    tz: str = "UTC"
    buy_words: tuple[str, ...] = ("buy", "b", "bot", "bought")
    sell_words: tuple[str, ...] = ("sell", "s", "sld", "sold")

    def __post_init__(self) -> None:
        for what in ("name", "symbol", "qty", "price", "time"):
            v = getattr(self, what)
            if not isinstance(v, str) or not v.strip():
                raise ValueError(f"the column mapping needs a column for {what}")
        try:
            ZoneInfo(self.tz)
        except (KeyError, ValueError):
            raise ValueError(f"unknown time zone {self.tz!r}") from None
        object.__setattr__(self, "buy_words", tuple(w.lower() for w in self.buy_words))
        object.__setattr__(self, "sell_words", tuple(w.lower() for w in self.sell_words))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["buy_words"], d["sell_words"] = list(self.buy_words), list(self.sell_words)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ColumnMapping:
        d = dict(d)
        for k in ("buy_words", "sell_words"):
            if k in d:
                d[k] = tuple(d[k])
        return cls(**d)


BUILTIN_MAPPINGS: dict[str, ColumnMapping] = {
    "IBKR Flex": ColumnMapping("IBKR Flex", symbol="Symbol", side="Buy/Sell", qty="Quantity", price="TradePrice",
                               fee="IBCommission", time="DateTime", time_format="%Y%m%d;%H%M%S",
                               tz="America/New_York"),
    "Generic": ColumnMapping("Generic", symbol="symbol", side="side", qty="qty", price="price", fee="fee",
                             time="time"),
}


def _parse_time(text: str, m: ColumnMapping) -> int:
    text = text.strip()
    if m.time_format == "iso":
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    else:
        dt = datetime.strptime(text, m.time_format)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC if m.tz.upper() == "UTC" else ZoneInfo(m.tz))
    return int(dt.timestamp() * 1000)


def parse_executions(text: str, mapping: ColumnMapping) -> list[Execution]:
    """The executions of a broker CSV (``text``). Raises ``ImportProblem`` listing every
    bad line (header = line 1), or for missing columns."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = {h.strip().lower(): h for h in (reader.fieldnames or [])}
    need = [mapping.symbol, mapping.qty, mapping.price, mapping.time] + \
           [c for c in (mapping.side, mapping.fee, mapping.date) if c]
    missing = [c for c in need if c.strip().lower() not in header]
    if missing:
        raise ImportProblem(f"the file has no column {missing[0]!r} (mapping '{mapping.name}'); its columns are "
                            + ", ".join(reader.fieldnames or []), [(1, f"missing column {c!r}") for c in missing])

    def col(row: dict[str, str], name: str) -> str:
        return (row.get(header[name.strip().lower()]) or "").strip()

    out: list[Execution] = []
    problems: list[tuple[int, str]] = []
    for i, row in enumerate(reader):
        line = i + 2
        if not any((v or "").strip() for v in row.values()):
            continue
        try:
            symbol = col(row, mapping.symbol).upper()
            if not symbol:
                raise ValueError("symbol is empty")
            qty = to_decimal(col(row, mapping.qty).replace(",", ""), "quantity")
            side = col(row, mapping.side).lower() if mapping.side else ""
            if side in mapping.buy_words:
                s = "buy"
            elif side in mapping.sell_words:
                s = "sell"
            elif not side:
                s = "sell" if qty < 0 else "buy"
            else:
                raise ValueError(f"side {side!r} is neither buy ({'/'.join(mapping.buy_words)}) nor sell")
            qty = abs(qty)
            if qty == 0:
                raise ValueError("quantity is 0")
            q: int | Decimal = int(qty) if qty == qty.to_integral_value() else qty
            price = to_decimal(col(row, mapping.price).replace(",", ""), "price")
            fee = abs(to_decimal(col(row, mapping.fee).replace(",", "") or "0", "fee")) if mapping.fee else Decimal(0)
            when = col(row, mapping.time)
            if mapping.date:
                when = f"{col(row, mapping.date)} {when}"
            t = _parse_time(when, mapping)
            out.append(Execution(symbol, s, q, price, fee, t))
        except ValueError as exc:
            problems.append((line, str(exc)))
    if problems:
        raise ImportProblem(f"{len(problems)} rows of the file cannot be read; nothing was imported", problems)
    return out


@dataclass(frozen=True, slots=True)
class BrokerImport:
    added: int
    existing: int
    open_positions: tuple[str, ...]  # symbols still open at the end of the file (not journalled)


def import_broker_csv(store: JournalStore, path: str | Path, mapping: ColumnMapping,
                      account: str = "") -> BrokerImport:
    """Journal the closed round trips of a broker CSV (see the module docstring). Importing
    the same file again adds nothing. Raises ``ImportProblem`` / ``ValueError``."""
    text = Path(path).read_text(encoding="utf-8-sig")
    res = match_round_trips(parse_executions(text, mapping))
    items = [(t, EntryFields(), None) for t in res.trips]
    added = existing = 0
    if items:
        for r in store.add_many(items, source="import", account=account,
                                keys=[trip_key(t, "import", account) for t in res.trips]):
            added += r.created
            existing += not r.created
    return BrokerImport(added, existing, tuple(sorted({o.symbol for o in res.open})))
