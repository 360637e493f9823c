"""Property tests: whatever the bytes, the CSV importer either imports valid bars or raises
its own ``DataError`` (never another exception), and a failed import changes nothing."""
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data.csv_import import MAX_PRICE, MAX_VOLUME, MIN_BAR_TIME, max_bar_time, read_bars_csv
from engine.data.errors import DataError

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_TOKENS = st.sampled_from([
    "", "null", "NULL", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "0", "-0", "-1",
    "1e9", "1e15", "1e16", "1.5", "2", "0.5", "1,5", "abc", " ", '"', '""', '"1,2"', "\\", "N/A",
    "9999-12-31", "1799-12-31", "1970-01-01", "2024-01-02", "2024-02-30", "2024-01-02T00:00:00+05:00",
    "2024-01-02T09:30:00Z", "2024-01-02 09:30", "1700000000", "1700000000000", "99999999999999999999",
    "09:30:00", "9:3", "\u00e9", "\u2028", "\x00", "\r", "1" * 400,
])
_DELIM = st.sampled_from([",", ",", ",", ";", "\t", "|"])
_PLAIN = "Date,Open,High,Low,Close,Volume"
_HEADERS = st.sampled_from([
    _PLAIN, _PLAIN, _PLAIN, _PLAIN, _PLAIN, "Date,Open,High,Low,Close,Adj Close,Volume",
    "timestamp,open,high,low,close,volume", "Date,Time,Open,High,Low,Close,Volume",
    "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>", "", "Date,Close",
])


@st.composite
def _hostile_csv(draw) -> bytes:
    """A plausible header, rows of good and hostile fields, random delimiters and line ends."""
    delim = draw(_DELIM)
    header = draw(_HEADERS).replace(",", delim)
    good = st.floats(1, 1000, allow_nan=False).map(lambda x: round(x, 2))
    hostile = st.lists(st.one_of(_TOKENS, st.text(max_size=12)), max_size=9).map(delim.join)
    # a good row with one field swapped for a hostile token ("inf" as the Low, say)
    mutated = st.tuples(good, st.integers(0, 5), _TOKENS)
    cells = draw(st.lists(st.one_of(good, good, good, good, mutated, mutated, hostile), max_size=25))
    rows = []
    for i, c in enumerate(cells):
        if isinstance(c, str):
            rows.append(c)
            continue
        p, k, token = (c, -1, "") if isinstance(c, float) else c
        # good rows get consecutive dates, so that a file without hostile rows imports
        fields = [str(np.datetime64("2024-01-01") + i), str(p), str(p + 1), str(p - 0.5), str(p), "100"]
        if k >= 0:
            fields[k] = token
        rows.append(delim.join(fields))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(([header] if header else []) + rows) + draw(st.sampled_from(["", end]))
    return text.encode("utf-8", errors="surrogatepass")


def _check_bars(bars) -> None:
    """What a successful import promises: finite, positive, consistent, ordered, in range."""
    assert len(bars) > 0
    for a in (bars.open, bars.high, bars.low, bars.close):
        assert np.all(np.isfinite(a)) and np.all(a > 0) and np.all(a < MAX_PRICE)
    assert np.all(np.isfinite(bars.volume)) and np.all(bars.volume >= 0) and np.all(bars.volume < MAX_VOLUME)
    assert np.all(bars.high >= bars.low)
    assert np.all(np.diff(bars.time) > 0)
    assert bars.time.min() >= MIN_BAR_TIME and bars.time.max() <= max_bar_time() + 86400


def _read(data: bytes, name: str = "HOST.csv"):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / name
        p.write_bytes(data)
        return read_bars_csv(p)


@_SETTINGS
@given(st.binary(max_size=3000))
def test_random_bytes_import_or_raise_our_error(data):
    try:
        parsed = _read(data)
    except DataError:
        return
    _check_bars(parsed.bars)


@_SETTINGS
@given(_hostile_csv())
def test_hostile_lines_import_valid_bars_or_raise_our_error(data):
    try:
        parsed = _read(data)
    except DataError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return
    _check_bars(parsed.bars)


@pytest.fixture(scope="module")
def service():
    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.store import open_database

    with tempfile.TemporaryDirectory() as d:
        db = open_database(Path(d) / "hostile.sqlite3")
        svc = DataService(db, bus=EventBus())
        base = Path(d) / "HOST.csv"
        base.write_text("Date,Open,High,Low,Close,Volume\n"
                        + "".join(f"2023-12-{day:02d},1,2,0.5,1.5,10\n" for day in range(4, 30)))
        svc.import_csv(base)
        yield svc, Path(d)
        db.dispose()


@_SETTINGS
@given(_hostile_csv())
def test_a_failed_import_leaves_the_store_as_it_was(service, data):
    svc, folder = service
    before = svc.load("HOST")
    symbols_before = [(s.symbol, s.timeframes) for s in svc.symbols()]
    p = folder / "HOST-new.csv"
    p.write_bytes(data)
    try:
        res = svc.import_csv(p, symbol="HOST")
    except DataError:
        after = svc.load("HOST")
        np.testing.assert_array_equal(after.time, before.time)
        np.testing.assert_array_equal(after.close, before.close)
        assert [(s.symbol, s.timeframes) for s in svc.symbols()] == symbols_before
        return
    stored = svc.load("HOST", res.timeframe)
    assert len(stored) == res.rows
    _check_bars(stored)
    svc.import_csv(folder / "HOST.csv")  # back to the base series for the next example


@_SETTINGS
@given(st.integers(3, 30), st.data())
def test_one_hostile_field_in_a_good_file_is_refused_on_its_line_or_is_harmless(n, data):
    # A good file with one field swapped for a hostile token: either the bars are still
    # valid (the token was a usable value) or the error names that very line.
    row = data.draw(st.integers(0, n - 1))
    field = data.draw(st.integers(0, 5))
    token = data.draw(_TOKENS.filter(lambda x: "\r" not in x))  # a line break is not one field
    lines = []
    for i in range(n):
        p = 10.0 + i
        fields = [str(np.datetime64("2024-01-01") + i), str(p), str(p + 1), str(p - 0.5), str(p), "100"]
        if i == row:
            fields[field] = token
        lines.append(",".join(fields))
    try:
        parsed = _read(("Date,Open,High,Low,Close,Volume\n" + "\n".join(lines) + "\n").encode())
    except DataError as exc:
        problems = getattr(exc, "problems", [])
        # the line itself, or a neighbour that names it ("duplicate ... (same as line 2)")
        assert not problems or any(line in (0, row + 2) or f"line {row + 2}" in msg
                                   for line, msg in problems), str(exc)
        return
    _check_bars(parsed.bars)
