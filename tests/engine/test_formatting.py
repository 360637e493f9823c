"""Money as people read it: the sign before the dollar sign, one helper for every message."""
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
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


# ---------------------------------------------------------------- the other kinds of number
from engine import formatting as fmt  # noqa: E402

NAN = float("nan")
MISSING = [None, NAN, float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity")]


@pytest.mark.parametrize("fn", [fmt.price, fmt.quantity, fmt.percent, fmt.volume, fmt.number,
                                fmt.timestamp, fmt.date_text])
@pytest.mark.parametrize("value", MISSING)
def test_missing_values_are_a_dash(fn, value):
    assert fn(value) == "—"


@pytest.mark.parametrize("value, text", [
    (Decimal("100.00"), "100.00"),          # the Modify dialog showed "1E+2"
    (Decimal("1E+2"), "100.00"),
    (1234.5, "1,234.50"),
    (123.456789, "123.46"),                 # a float price from bars: cents
    (Decimal("101.2345"), "101.2345"),      # an exact order price keeps its sub-cents
    (Decimal("101.23450"), "101.2345"),
    (0.123456, "0.1235"),                   # below $1: up to four decimals
    (0.5, "0.50"),
    (Decimal("0.0500"), "0.05"),
    (-2.5, "-2.50"),
    (-0.00001, "0.00"),                     # never "-0.00"
    (7, "7.00"),
])
def test_price(value, text):
    assert fmt.price(value) == text


def test_price_without_grouping_is_editable_text():
    assert fmt.price(Decimal("12345.5"), grouping=False) == "12345.50"
    assert Decimal(fmt.price(Decimal("1E+2"), grouping=False)) == Decimal(100)


@pytest.mark.parametrize("value, text", [
    (1500, "1,500"), (Decimal("1500"), "1,500"), (0.5, "0.5"), (Decimal("12.345678"), "12.3457"),
    (-300, "-300"), (0, "0"), (2.0, "2"),
])
def test_quantity(value, text):
    assert fmt.quantity(value) == text


@pytest.mark.parametrize("value, text, unsigned", [
    (1.5, "+1.50%", "1.50%"), (-0.254, "-0.25%", "-0.25%"), (0.004, "0.00%", "0.00%"),
    (-0.004, "0.00%", "0.00%"), (1234.5, "+1,234.50%", "1,234.50%"), (Decimal("2"), "+2.00%", "2.00%"),
])
def test_percent(value, text, unsigned):
    assert fmt.percent(value) == text
    assert fmt.percent(value, signed=False) == unsigned


@pytest.mark.parametrize("value, text", [
    (396_465, "396.47K"),     # the scanner showed "396,465" next to "1.53M" in one column
    (1_530_000, "1.53M"),
    (9_999, "9,999"),
    (10_000, "10.00K"),
    (999_999, "1.00M"),       # rounds up into the next unit, never "1000.00K"
    (999_994, "999.99K"),
    (2.1e9, "2.10B"),
    (3.5e12, "3.50T"),
    (0, "0"),
    (0.4, "0"),
    (np.float64(52_345.0), "52.35K"),
])
def test_volume(value, text):
    assert fmt.volume(value) == text


@pytest.mark.parametrize("value, text", [
    (1234.567, "1,234.57"), (0.123456, "0.1235"), (0, "0"), (12_345_678, "12.35M"), (-45.5, "-45.50"),
    (1.0, "1.00"), (True, "—"),
])
def test_number(value, text):
    assert fmt.number(value) == text


@pytest.mark.parametrize("value, spacing, text", [
    (100150.0, 50.0, "100,150"),      # an equity axis showed "100150"
    (1234.5, 0.5, "1,234.5"),
    (0.025, 0.005, "0.025"),
    (-1e-12, 0.1, "0"),               # never "-0.0"
    (float("nan"), 1.0, ""),
])
def test_tick(value, spacing, text):
    assert fmt.tick(value, spacing) == text


@pytest.mark.parametrize("value, text", [(250_000, "250K"), (1_500_000, "1.5M"), (3e9, "3B"), (900, "900")])
def test_compact_tick(value, text):
    assert fmt.compact_tick(value) == text


@pytest.mark.parametrize("value, text", [
    (1e-05, "0.00001"),                 # csv.writer would write "1e-05"
    (1.5e16, "15000000000000000"),
    (123.456789, "123.456789"),         # full precision, no thousands separator
    (0.1 + 0.2, "0.30000000000000004"),
    (Decimal("100.00"), "100.00"),
    (Decimal("1E+2"), "100"),
    (42, "42"), (2.0, "2"), (-3.25, "-3.25"),
    (NAN, ""), (None, ""), (True, "true"), ("AAPL", "AAPL"),
    (np.float64(0.1), "0.1"),
])
def test_plain(value, text):
    assert fmt.plain(value) == text
    if text and isinstance(value, float):
        assert float(text) == value  # round-trips exactly


def test_timestamp_and_date():
    assert fmt.date_text(1_700_000_000) == "2023-11-14"
    assert fmt.timestamp(0) == __import__("datetime").datetime.fromtimestamp(0).strftime("%Y-%m-%d %H:%M:%S")
