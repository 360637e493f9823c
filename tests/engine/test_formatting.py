"""Money as people read it: the sign before the dollar sign, one helper for every message."""
import re
from decimal import Decimal
from pathlib import Path

import pytest

from engine.formatting import money

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value, text, signed", [
    (Decimal("-2371.14"), "-$2,371.14", "-$2,371.14"),   # was "$-2,371.14"
    (Decimal("2371.14"), "$2,371.14", "+$2,371.14"),
    (Decimal("1234567.891"), "$1,234,567.89", "+$1,234,567.89"),
    (Decimal("-0.004"), "$0.00", "$0.00"),                # rounds to zero: no sign
    (Decimal("0.005"), "$0.00", "$0.00"),                 # half to even, as format() does
    (Decimal("0.015"), "$0.02", "+$0.02"),
    (-5, "-$5.00", "-$5.00"),
    (0.1 + 0.2, "$0.30", "+$0.30"),
    (Decimal("1e30"), "$" + "1" + ",000" * 10 + ".00", "+$" + "1" + ",000" * 10 + ".00"),  # beyond 28 digits
    (None, "—", "—"),
    (float("nan"), "nan", "nan"),
    (Decimal("-Infinity"), "-inf", "-inf"),
])
def test_money(value, text, signed):
    assert money(value) == text
    assert money(value, signed=True) == signed


def test_no_message_writes_money_with_the_sign_after_the_dollar():
    """Every ``$`` amount in an f-string goes through ``money`` (``f"${x:,.2f}"`` gives ``$-5.00``)."""
    pattern = re.compile(r"\$\{[^}]*:[^}]*f\}")
    offenders = []
    for folder in ("app", "widgets", "engine", "sync", "server"):
        for path in (REPO / folder).rglob("*.py"):
            if path == REPO / "engine" / "formatting.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert offenders == []
