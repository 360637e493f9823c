"""Symbol names: what a valid ticker looks like (kept apart from the CSV importer, which
needs pandas, so start-up code can check symbols cheaply)."""
from __future__ import annotations

import re

from engine.data.errors import DataError

SYMBOL_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^_&]{0,31}$")


def normalize_symbol(symbol: str) -> str:
    """Upper-case and check a user-given symbol; raises ``DataError`` if it is not plausible."""
    sym = symbol.strip().upper()
    if not SYMBOL_RE.match(sym):
        raise DataError(
            f"{symbol!r} is not a valid symbol (letters, digits and . - = ^ _ &, at most 32)."
        )
    return sym
