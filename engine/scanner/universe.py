"""Which symbols a scan looks at: a watchlist, the demo universe, every imported symbol,
a bundled index list (S&P 500, Nasdaq-100), or any list of symbols.

The bundled lists live in ``resources/universes/<key>.csv`` (``symbol,name,sector``); their
first line is a ``#`` comment stating the date the membership is as of (also in the
README there). Index membership changes: the lists are a snapshot, not live data.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.store.db import Database

UNIVERSES_DIR = Path(__file__).resolve().parent.parent.parent / "resources" / "universes"

#: key → display name of the bundled lists
BUNDLED: dict[str, str] = {"sp500": "S&P 500", "nasdaq100": "Nasdaq-100"}


class UniverseError(ValueError):
    """A universe cannot be resolved (unknown list, missing watchlist, empty)."""


@dataclass(frozen=True, slots=True)
class Universe:
    """A named list of symbols. ``kind``: "watchlist" | "bundled" | "demo" | "imported" | "symbols"."""

    name: str
    symbols: tuple[str, ...]
    kind: str = "symbols"
    as_of: str = ""  # for bundled lists: the date their membership is as of

    def __len__(self) -> int:
        return len(self.symbols)


@dataclass(frozen=True, slots=True)
class Constituent:
    symbol: str
    name: str
    sector: str


def _clean(symbols: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.strip().upper() for s in symbols if s and s.strip()))


def symbols_universe(symbols: Iterable[str], name: str = "Symbols") -> Universe:
    """A universe of the given symbols (upper-cased, duplicates dropped, order kept)."""
    return Universe(name, _clean(symbols), "symbols")


def _read_bundled(key: str) -> tuple[str, list[Constituent]]:
    if key not in BUNDLED:
        raise UniverseError(f"unknown bundled list {key!r}; available: {', '.join(BUNDLED)}")
    path = UNIVERSES_DIR / f"{key}.csv"
    as_of = ""
    rows: list[Constituent] = []
    with open(path, encoding="utf-8", newline="") as fh:
        lines = []
        for line in fh:
            if line.startswith("#"):
                if "as of" in line and not as_of:
                    as_of = line.split("as of", 1)[1].strip().split()[0].rstrip(".,;")
                continue
            lines.append(line)
    for r in csv.DictReader(lines):
        rows.append(Constituent(r["symbol"].strip().upper(), r["name"].strip(), r["sector"].strip()))
    return as_of, rows


def bundled_constituents(key: str) -> list[Constituent]:
    """The rows of bundled list ``key`` ("sp500" or "nasdaq100"). Raises ``UniverseError``."""
    return _read_bundled(key)[1]


def bundled_universe(key: str) -> Universe:
    """Bundled list ``key`` as a universe (``as_of`` set). Raises ``UniverseError``."""
    as_of, rows = _read_bundled(key)
    return Universe(f"{BUNDLED[key]} (as of {as_of})", _clean(r.symbol for r in rows), "bundled", as_of)


def watchlist_universe(db: Database, name: str) -> Universe:
    """The symbols of watchlist ``name`` in the user's order. Raises ``UniverseError`` if it does not exist."""
    from engine.watchlists import WatchlistError, watchlist_symbols

    try:
        symbols = watchlist_symbols(db, name)
    except WatchlistError as exc:
        raise UniverseError(str(exc)) from exc
    return Universe(f"Watchlist: {name}", _clean(symbols), "watchlist")


def demo_universe(data_service: Any) -> Universe:
    """The demo provider's symbols (``DataService.demo_symbols()``); the data is labelled demo."""
    return Universe("Demo universe", _clean(data_service.demo_symbols()), "demo")


def imported_universe(data_service: Any) -> Universe:
    """Every symbol the user imported or downloaded (``DataService.symbols()`` less the demo ones)."""
    syms = []
    for s in data_service.symbols():
        if isinstance(s, str):
            syms.append(s)
        elif getattr(s, "source", "") != "demo":
            syms.append(s.symbol)
    return Universe("All imported symbols", _clean(syms), "imported")
