"""CSV import of bars: Yahoo, Stooq and generic OHLCV layouts, validated with line numbers.

What is detected (each can be overridden where it makes sense):

- delimiter: ``,`` ``;`` tab ``|`` (and a decimal comma when the delimiter is ``;``);
- header names, case-insensitive, with aliases (``o/h/l/c/v``, ``vol``, ``timestamp``,
  ``datetime``, Stooq's ``<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,...``); a file without a
  header is read positionally (``Date[,Time],Open,High,Low,Close[,Volume[,OpenInterest]]``);
- separate date and time columns, and the quirk of a header that names one column less
  than the rows carry because it forgot the time column (``FUT-2006-1min.csv``);
- date formats: ISO 8601 (with or without time and offset), ``%Y%m%d``, ``%m/%d/%Y``
  (``%d/%m/%Y`` when days above 12 prove it), ``%d.%m.%Y``, ``%Y/%m/%d``, ``%d-%b-%Y``,
  epoch seconds or milliseconds;
- the timeframe, from the median spacing of the timestamps;
- the symbol, from a ticker column or the file name (``ORCL-1995-2014.csv`` -> ``ORCL``).

Times without a zone are taken as UTC (the convention of ``Bars``); daily bars get the
midnight-UTC timestamp of their date. Reading uses ``pandas.read_csv`` with the C engine.

Validation collects every problem with its 1-based file line number -- unparseable dates,
missing or non-numeric values, duplicate or out-of-order timestamps, High below Low,
Open/Close outside [Low, High], negative volume -- and raises one ``CsvFormatError``
listing the first few. Nothing is stored by this module: ``DataService.import_csv``
writes the result in one transaction, so a failed import changes nothing.
"""
from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.bars import INTRADAY, TIMEFRAMES, Bars
from engine.data.errors import CsvFormatError, DataError
from engine.data.symbols import SYMBOL_RE as _SYMBOL_RE
from engine.data.symbols import normalize_symbol  # noqa: F401  (re-exported)

SNIFF_BYTES = 65_536
MAX_PER_CHECK = 200  # problems kept per kind of check (the message shows the first few)

_DELIMS = (",", ";", "\t", "|")
_DELIM_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

# normalized header key -> canonical column
_ALIASES: dict[str, str] = {}
for _canon, _names in {
    "date": ("date", "day", "tradedate", "tradingday", "d"),
    "time": ("time", "tm", "hour", "timeofday"),
    "datetime": ("datetime", "timestamp", "ts", "dt", "datetimeutc", "timeutc", "gmttime",
                 "localtime", "opentime", "barttime", "datetimegmt", "unixtime", "epoch"),
    "open": ("open", "o", "op", "openprice", "first"),
    "high": ("high", "h", "hi", "max", "highprice"),
    "low": ("low", "l", "lo", "min", "lowprice"),
    "close": ("close", "c", "cl", "last", "closeprice", "lastprice", "price"),
    "adjclose": ("adjclose", "adjustedclose", "adjclse", "closeadj", "adjusted"),
    "volume": ("volume", "vol", "v", "qty", "quantity", "tickvol", "tickvolume", "vo"),
    "openinterest": ("openinterest", "oi", "openint"),
    "ticker": ("ticker", "symbol", "sym", "instrument"),
    "per": ("per", "period", "interval"),
}.items():
    for _n in _names:
        _ALIASES[_n] = _canon

_STOOQ_PER = {"D": "1d", "W": "1wk", "M": "1mo", "1": "1m", "2": "2m", "5": "5m", "15": "15m",
              "30": "30m", "60": "1h"}
_STOOQ_SUFFIX = re.compile(r"\.(US|UK|DE|JP|HK|PL|HU|F|V|B)$")
_NAME_NOISE = re.compile(
    r"^(\d{4}|\d{6}|\d{8}|\d+(min|mins|m|h|d|w|wk|mo|s|sec)?|daily|weekly|monthly|intraday|"
    r"hourly|minute|minutes|min|d1|h1|m1|m5|data|prices|price|history|historical|ohlc|ohlcv|"
    r"bars|quotes|yahoo|stooq|export|full)$",
    re.IGNORECASE,
)
_TIME_RE = re.compile(r"^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$|^\d{6}$|^\d{4}$")
_TIME_SUFFIXES = ("", " %H:%M:%S", " %H:%M")

# (median spacing in seconds, timeframe) for intraday detection
_INTRADAY_STEPS = ((60, "1m"), (120, "2m"), (300, "5m"), (900, "15m"), (1800, "30m"), (3600, "1h"))


@dataclass(frozen=True, slots=True)
class CsvImport:
    """The parsed, validated bars of one file (nothing stored yet)."""

    bars: Bars
    layout: str  # "yahoo" | "stooq" | "generic"
    delimiter: str
    date_format: str
    notes: tuple[str, ...]


# ---------------------------------------------------------------------------- helpers

def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.strip().strip("<>").lower())


def _canonical(name: str) -> str | None:
    return _ALIASES.get(_key(name))


def symbol_from_filename(path: str | Path) -> str:
    """A symbol guessed from a file name: ``ORCL-1995-2014.csv`` -> ``ORCL``, ``aapl.us.txt`` -> ``AAPL``.

    Years, date stamps and timeframe words are dropped; what remains is upper-cased.
    Raises ``DataError`` when nothing usable remains.
    """
    name = Path(path).name
    stem = name
    while True:
        p = Path(stem)
        if p.suffix.lower() in (".csv", ".txt", ".gz", ".zip", ".tsv", ".dat", ".prn", ".bz2", ".xz"):
            stem = p.stem
        else:
            break
    tokens = [t for t in re.split(r"[-_\s]+", stem) if t and not _NAME_NOISE.match(t)]
    sym = "-".join(tokens).upper()
    if stem == stem.lower():
        sym = _STOOQ_SUFFIX.sub("", sym)
    if not sym or not _SYMBOL_RE.match(sym):
        raise DataError(
            f"Cannot tell the symbol from the file name {name!r}; give it explicitly (--symbol)."
        )
    return sym


def detect_timeframe(t: np.ndarray) -> str | None:
    """The timeframe whose spacing is nearest the median gap of ``t`` (sorted epoch seconds).

    Returns None when it cannot tell (fewer than two bars of intraday data, or a median
    gap beyond 45 days).
    """
    if len(t) < 2:
        return "1d" if len(t) == 1 and int(t[0]) % 86400 == 0 else None
    d = np.diff(t)
    d = d[d > 0]
    if d.size == 0:
        return None
    m = float(np.median(d))
    if m < 86400 * 0.9:
        best = min(_INTRADAY_STEPS, key=lambda s: abs(np.log(m / s[0])))
        return best[1]
    if m <= 4 * 86400:
        return "1d"
    if m <= 10 * 86400:
        return "1wk"
    if m <= 45 * 86400:
        return "1mo"
    return None


def _sniff_text(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except FileNotFoundError as exc:
        raise DataError(f"{path} does not exist.") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path} is a folder, not a CSV file.") from exc
    if b"\x00" in head[:4096]:
        raise CsvFormatError(str(path), [(0, "this is a binary file, not a CSV text file")])
    text = head.decode("utf-8-sig", errors="replace")
    if len(head) == SNIFF_BYTES and "\n" in text:
        text = text[: text.rfind("\n")]  # drop a possibly cut last line
    return text


def _pick_delimiter(lines: Sequence[str]) -> str:
    best, best_score = ",", -1
    for d in _DELIMS:
        counts = [ln.count(d) for ln in lines]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        consistent = counts.count(mode) / len(counts) >= 0.5
        score = mode if consistent and mode > 0 else 0
        # On equal counts prefer the rarer delimiters: "1,5;2,5" with a decimal comma.
        if score > best_score or (score == best_score and score > 0 and best == ","):
            best, best_score = d, score
    if best_score <= 0:
        raise CsvFormatError(
            "file", [(1, "no delimiter found (expected comma, semicolon, tab or pipe between columns)")]
        )
    return best


def _looks_numeric_or_date(field: str) -> bool:
    f = field.strip().strip('"')
    return bool(re.match(r"^[-+]?[\d.,:/ T+\-Z]+$", f)) and any(ch.isdigit() for ch in f)


def _parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray, str]:
    """(epoch seconds int64, ok mask, format name) for a column of date(-time) strings."""
    s = _strip(values)
    sample = s.dropna()
    if len(sample) > 400:
        sample = sample.iloc[np.linspace(0, len(sample) - 1, 400).astype(int)]
    if sample.empty:
        return np.zeros(len(s), np.int64), np.zeros(len(s), bool), "?"
    first = str(sample.iloc[0])
    if all(ch.isdigit() for ch in first) and len(first) in (9, 10, 12, 13):
        num = pd.to_numeric(s, errors="coerce")
        ok = num.notna().to_numpy() & s.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
        arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
        ms = len(first) >= 12
        out = np.where(ok, arr, 0).astype(np.int64)
        if ms:
            out = out // 1000
        return out, ok, "epoch-ms" if ms else "epoch-s"
    if re.match(r"^\d{4}-\d{1,2}-\d{1,2}", first):
        candidates: list[str] = ["ISO8601"]
    elif re.match(r"^\d{8}$", first):
        candidates = ["%Y%m%d"]
    elif re.match(r"^\d{14}$", first):
        candidates = ["%Y%m%d%H%M%S"]
    elif re.match(r"^\d{4}/\d{1,2}/\d{1,2}", first):
        candidates = [f"%Y/%m/%d{t}" for t in _TIME_SUFFIXES]
    elif re.match(r"^\d{1,2}/\d{1,2}/\d{2,4}", first):
        candidates = [f"{d}{t}" for d in ("%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y")
                      for t in _TIME_SUFFIXES]
    elif re.match(r"^\d{1,2}\.\d{1,2}\.\d{2,4}", first):
        candidates = [f"{d}{t}" for d in ("%d.%m.%Y", "%d.%m.%y") for t in _TIME_SUFFIXES]
    elif re.match(r"^\d{1,2}-\d{1,2}-\d{4}", first):
        candidates = [f"{d}{t}" for d in ("%d-%m-%Y", "%m-%d-%Y") for t in _TIME_SUFFIXES]
    elif re.match(r"^\d{1,2}[- ][A-Za-z]{3}[- ]\d{2,4}", first):
        candidates = [f"{d}{t}" for d in ("%d-%b-%Y", "%d-%b-%y", "%d %b %Y") for t in _TIME_SUFFIXES]
    else:
        candidates = ["ISO8601", "%b %d, %Y", "%B %d, %Y", "%d %B %Y"]
    best, best_ok = candidates[0], -1
    for fmt in candidates:
        n_ok = int(_to_datetime(sample, fmt).notna().sum())
        if n_ok > best_ok:
            best, best_ok = fmt, n_ok
        if n_ok == len(sample):
            break
    parsed = _to_datetime(s, best)
    ok = parsed.notna().to_numpy()
    idx = pd.DatetimeIndex(parsed)
    secs = idx.as_unit("s").asi8.copy()
    secs[~ok] = 0
    return secs, ok, best


def _to_datetime(s: pd.Series, fmt: str) -> pd.Series:
    # utc=True: offsets are converted to UTC, naive times are taken as UTC.
    return pd.to_datetime(s, format=fmt, errors="coerce", utc=True)


def _strip(values: pd.Series) -> pd.Series:
    """The column as strings, stripped only if its sample shows padding (stripping costs)."""
    s = values.astype("string")
    head = s.dropna().iloc[:200]
    if bool((head.str.len() != head.str.strip().str.len()).any()):
        s = s.str.strip()
    return s


def _fast_clock(s: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Vectorized HH:MM[:SS] parsing for fixed-width columns (strptime is ~40x slower)."""
    filled = s.fillna("")
    lens = filled.str.len().to_numpy()
    width = int(lens[0]) if len(lens) else 0
    if width not in (5, 8) or not bool(np.all((lens == width) | (lens == 0))):
        return None
    try:
        raw = np.array(filled.to_numpy(dtype=object), dtype=f"S{width}")
    except (UnicodeEncodeError, ValueError):
        return None
    u = raw.view(np.uint8).reshape(-1, width).astype(np.int64)
    colons = [2] if width == 5 else [2, 5]
    digits = [i for i in range(width) if i not in colons]
    ok = np.all((u[:, digits] >= 48) & (u[:, digits] <= 57), axis=1)
    for c in colons:
        ok &= u[:, c] == ord(":")
    d = u - 48
    h = d[:, 0] * 10 + d[:, 1]
    m = d[:, 3] * 10 + d[:, 4]
    sec = d[:, 6] * 10 + d[:, 7] if width == 8 else np.zeros(len(d), np.int64)
    ok &= (h < 24) & (m < 60) & (sec < 60)
    return np.where(ok, h * 3600 + m * 60 + sec, 0), ok


def _parse_times(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(seconds since midnight, ok mask) for a column of time-of-day strings."""
    s = _strip(values)
    fast = _fast_clock(s)
    if fast is not None:
        return fast
    sample = s.dropna()
    first = str(sample.iloc[0]) if not sample.empty else "00:00:00"
    if ":" in first:
        fmt = "%H:%M:%S" if first.count(":") == 2 else "%H:%M"
        if "." in first:
            fmt = "%H:%M:%S.%f"
    else:
        s = s.str.zfill(6) if len(first) > 4 else s.str.zfill(4)
        fmt = "%H%M%S" if len(first) > 4 else "%H%M"
    parsed = pd.to_datetime(s, format=fmt, errors="coerce")
    ok = parsed.notna().to_numpy()
    ns = pd.DatetimeIndex(parsed).as_unit("s").asi8.copy()
    base = -2_208_988_800  # 1900-01-01T00:00:00 UTC, the date strptime gives a bare time
    out = np.where(ok, ns - base, 0).astype(np.int64)
    return out, ok


def _numbers(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float64 values, missing mask, non-numeric mask)."""
    if col.dtype.kind in "fiu":
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
        return arr, np.isnan(arr), np.zeros(len(arr), bool)
    raw = col.astype("string").str.strip()
    missing = (raw.isna() | (raw == "")).to_numpy(dtype=bool)
    num = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
    arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(arr) & ~missing
    return arr, missing, bad


_NULLS = ("", "null", "nan", "n/a", "na", "-", "none")


def _nullish(col: pd.Series) -> np.ndarray:
    """Cells that hold no value: empty, NaN, or a placeholder such as Yahoo's "null"."""
    if col.dtype.kind in "fiu":
        return np.asarray(np.isnan(col.to_numpy(dtype=np.float64, na_value=np.nan)), dtype=bool)
    raw = col.astype("string").str.strip().str.lower()
    return (raw.isna() | raw.isin(_NULLS)).to_numpy(dtype=bool)


_TITLE = {"open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume",
          "date": "Date", "time": "Time", "datetime": "Date/time"}


def _fmt_time(t: int, intraday: bool) -> str:
    d = np.datetime64(int(t), "s")
    return str(d).replace("T", " ") if intraday else str(d.astype("datetime64[D]"))


# ---------------------------------------------------------------------------- validation

def build_bars(
    *,
    source_name: str,
    symbol: str,
    timeframe: str | None,
    t: np.ndarray,
    t_ok: np.ndarray,
    raw_dates: np.ndarray | None,
    cols: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    lines: np.ndarray,
    notes: list[str],
    unit: str = "line",
    source: str = "csv",
) -> Bars:
    """Validate parsed columns and build ``Bars``; raises ``CsvFormatError`` listing problems.

    ``cols`` maps open/high/low/close/volume to (values, missing mask, non-numeric mask);
    ``lines`` gives each row's 1-based line (or row) number for messages.
    """
    problems: list[tuple[int, str]] = []

    def add(mask: np.ndarray, make: object) -> None:
        for i in np.flatnonzero(mask)[:MAX_PER_CHECK]:
            problems.append((int(lines[i]), make(int(i))))  # type: ignore[operator]

    bad_date = ~t_ok
    add(bad_date, lambda i: "cannot read the date"
        + (f" {str(raw_dates[i])!r}" if raw_dates is not None else ""))
    for name in ("open", "high", "low", "close", "volume"):
        vals, missing, bad = cols[name]
        title = _TITLE[name]
        add(missing, lambda i, title=title: f"{title} is missing")
        add(bad, lambda i, title=title: f"{title} is not a number")
    if problems:
        raise CsvFormatError(source_name, problems, unit)

    o, h, lo, c, v = (cols[k][0] for k in ("open", "high", "low", "close", "volume"))
    n = len(t)
    if n == 0:
        raise CsvFormatError(source_name, [(0, "the file holds no bars")], unit)

    # Newest-first files (old Yahoo downloads, some brokers) are turned around.
    if n > 1 and bool(np.all(np.diff(t) < 0)):
        order = np.arange(n)[::-1]
        t, o, h, lo, c, v, lines = (a[order] for a in (t, o, h, lo, c, v, lines))
        notes.append("Rows were newest first; they were put in time order.")

    tf = timeframe or detect_timeframe(np.sort(t))
    if tf is None:
        raise CsvFormatError(
            source_name,
            [(0, "cannot tell the timeframe from the spacing of the timestamps; give it (e.g. --timeframe 1d)")],
            unit,
        )
    if tf not in TIMEFRAMES:
        raise DataError(f"Unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES)}.")
    intraday = tf in INTRADAY
    if not intraday and bool(np.any(t % 86400 != 0)):
        t = t - t % 86400
        notes.append("Daily bars carried a time of day; they were set to their date (midnight UTC).")

    if n > 1:
        d = np.diff(t)
        dup = np.concatenate([[False], d == 0])
        back = np.concatenate([[False], d < 0])
        add(dup, lambda i: f"duplicate timestamp {_fmt_time(int(t[i]), intraday)} "
            f"(same as {unit} {int(lines[i - 1])})")
        add(back, lambda i: f"timestamp {_fmt_time(int(t[i]), intraday)} is earlier than "
            f"{_fmt_time(int(t[i - 1]), intraday)} on {unit} {int(lines[i - 1])}; rows must be in time order")
    eps = 1e-9 * np.maximum(np.abs(h), 1.0)
    add(h < lo, lambda i: f"High {h[i]:g} is below Low {lo[i]:g}")
    ok_range = h >= lo
    add(ok_range & ((o > h + eps) | (o < lo - eps)),
        lambda i: f"Open {o[i]:g} is outside the bar's range Low {lo[i]:g} .. High {h[i]:g}")
    add(ok_range & ((c > h + eps) | (c < lo - eps)),
        lambda i: f"Close {c[i]:g} is outside the bar's range Low {lo[i]:g} .. High {h[i]:g}")
    add(v < 0, lambda i: f"Volume {v[i]:g} is negative")
    if problems:
        raise CsvFormatError(source_name, problems, unit)

    return Bars.from_arrays(symbol, tf, t, o, h, lo, c, v, source=source)


# ---------------------------------------------------------------------------- reading

def read_bars_csv(
    path: str | Path,
    symbol: str | None = None,
    timeframe: str | None = None,
) -> CsvImport:
    """Parse and validate a bar CSV file (see the module docstring for what is detected).

    ``symbol`` defaults to a ticker column or the file name, ``timeframe`` to the one the
    timestamps' spacing shows. Raises ``CsvFormatError`` (with ``.problems`` as
    ``(line, message)``) for bad content and ``DataError`` for a missing file or an
    unknown timeframe. Stores nothing.
    """
    path = Path(path)
    text = _sniff_text(path)
    return _read(path, str(path.name), text, symbol, timeframe)


def read_bars_text(
    text: str, name: str = "text", symbol: str | None = None, timeframe: str | None = None
) -> CsvImport:
    """Like ``read_bars_csv`` for CSV content held in a string (``name`` labels messages)."""
    return _read(io.StringIO(text), name, text[:SNIFF_BYTES], symbol, timeframe)


def _read(
    src: Path | io.StringIO, name: str, head_text: str, symbol: str | None, timeframe: str | None
) -> CsvImport:
    all_lines = head_text.splitlines()
    sample = [ln for ln in all_lines[:60] if ln.strip()]
    if not sample:
        raise CsvFormatError(name, [(0, "the file is empty")])
    try:
        delim = _pick_delimiter(sample[:40])
    except CsvFormatError as exc:
        raise CsvFormatError(name, exc.problems) from None
    notes: list[str] = []
    first_fields = [f.strip().strip('"') for f in sample[0].split(delim)]
    data_lines = sample[1:] if len(sample) > 1 else sample
    counts = [ln.count(delim) + 1 for ln in data_lines[:40]]
    n_fields = max(set(counts), key=counts.count)

    canon = [_canonical(f) for f in first_fields]
    known = [c for c in canon if c]
    has_header = len(known) >= 2 or not any(_looks_numeric_or_date(f) for f in first_fields)
    header_lines = 0
    if has_header:
        header_lines = 1
        if len(known) < 2:
            raise CsvFormatError(name, [(1, f"unrecognized column names {first_fields!r}; expected "
                                         "Date, Open, High, Low, Close, Volume (or aliases)")])
        names: list[str] = []
        for i, (raw, cn) in enumerate(zip(first_fields, canon)):
            if cn is None or cn in names:
                names.append(f"_col{i}")
            else:
                names.append(cn)
        if n_fields == len(names) + 1:
            # The FUT-2006-1min.csv quirk: a header without the Time column.
            di = names.index("date") if "date" in names else -1
            second = [ln.split(delim)[di + 1].strip() for ln in data_lines[:40]
                      if len(ln.split(delim)) > di + 1] if di >= 0 else []
            if di >= 0 and "time" not in names and "datetime" not in names and second and all(
                _TIME_RE.match(f) for f in second
            ):
                names.insert(di + 1, "time")
                notes.append(
                    f"The header names {len(first_fields)} columns but the rows have {n_fields}: "
                    f"the field after {first_fields[di]} holds the time of day, so it was read as a Time column."
                )
            else:
                raise CsvFormatError(name, [(2, f"the row has {n_fields} fields but the header names "
                                             f"{len(names)} columns ({', '.join(first_fields)})")])
        elif n_fields > len(names):
            raise CsvFormatError(name, [(2, f"the row has {n_fields} fields but the header names "
                                         f"{len(names)} columns ({', '.join(first_fields)})")])
    else:
        fields = [f.strip() for f in sample[0].split(delim)]
        has_time = len(fields) > 1 and bool(_TIME_RE.match(fields[1]))
        base = ["date", "time"] if has_time else ["date"]
        rest = ["open", "high", "low", "close", "volume", "openinterest"]
        if n_fields - len(base) < 4 or n_fields - len(base) > 6:
            raise CsvFormatError(name, [(1, f"no header line and {n_fields} columns: cannot tell which "
                                         "is which; add a header such as Date,Open,High,Low,Close,Volume")])
        names = base + rest[: n_fields - len(base)]
        notes.append("No header line: columns read as " + ",".join(_TITLE.get(x, x) for x in names) + ".")

    if "datetime" not in names and "date" not in names:
        if "time" in names:
            names[names.index("time")] = "datetime"
        else:
            raise CsvFormatError(name, [(1, "no Date (or Datetime/Timestamp) column")])
    missing_cols = [c for c in ("open", "high", "low", "close") if c not in names]
    if missing_cols:
        raise CsvFormatError(name, [(1, "missing column" + ("s " if len(missing_cols) > 1 else " ")
                                     + ", ".join(_TITLE[c] for c in missing_cols))])

    decimal = "."
    if delim == ";":
        probe = [ln.split(";") for ln in data_lines[:20]]
        if any(re.match(r"^-?\d+,\d+$", f.strip()) for row in probe for f in row):
            decimal = ","
            notes.append("Numbers use a decimal comma.")

    str_cols = [c for c in ("date", "time", "datetime", "ticker", "per") if c in names]
    try:
        df = pd.read_csv(
            src,
            sep=delim,
            header=None,
            names=names,
            skiprows=header_lines,
            dtype={c: str for c in str_cols},
            engine="c",
            skip_blank_lines=False,
            decimal=decimal,
            thousands=None,
            encoding="utf-8-sig" if isinstance(src, Path) else None,
            quotechar='"',
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+), saw (\d+)", str(exc))
        if m:
            raise CsvFormatError(name, [(int(m.group(1)), f"has {m.group(2)} fields, expected {len(names)}")]) from None
        raise CsvFormatError(name, [(0, f"cannot be parsed as CSV ({exc})")]) from None
    except UnicodeDecodeError as exc:
        raise CsvFormatError(name, [(0, f"is not UTF-8 text ({exc.reason})")]) from None

    lines = np.arange(len(df), dtype=np.int64) + 1 + header_lines
    blank = df.isna().all(axis=1).to_numpy()
    if blank.any():
        df = df.loc[~blank]
        lines = lines[~blank]

    # symbol
    sym: str
    if symbol:
        sym = normalize_symbol(symbol)
    elif "ticker" in df.columns and df["ticker"].notna().any():
        sym = normalize_symbol(_STOOQ_SUFFIX.sub("", str(df["ticker"].dropna().iloc[0]).strip().upper()))
    else:
        sym = symbol_from_filename(name)

    # timeframe from Stooq's PER column
    if timeframe is None and "per" in df.columns and df["per"].notna().any():
        per = str(df["per"].dropna().iloc[0]).strip().upper()
        timeframe = _STOOQ_PER.get(per)

    # times
    if "datetime" in df.columns:
        raw_dates = df["datetime"].to_numpy(dtype=object)
        t, t_ok, fmt = _parse_dates(df["datetime"])
    else:
        raw_dates = df["date"].to_numpy(dtype=object)
        t, t_ok, fmt = _parse_dates(df["date"])
        if "time" in df.columns:
            tod, tod_ok = _parse_times(df["time"])
            t = t + tod
            if not tod_ok.all():
                rd = df["date"].astype("string").fillna("") + " " + df["time"].astype("string").fillna("")
                raw_dates = rd.to_numpy(dtype=object)
                t_ok = t_ok & tod_ok
            fmt += " + time"

    cols = {k: _numbers(df[k]) for k in ("open", "high", "low", "close")}
    if "volume" in df.columns:
        cols["volume"] = _numbers(df["volume"])
    else:
        z = np.zeros(len(df))
        cols["volume"] = (z, np.zeros(len(df), bool), np.zeros(len(df), bool))
        notes.append("No Volume column: volume set to 0.")
    if "adjclose" in df.columns:
        notes.append("Adj Close was not used (bars keep the Close as traded).")

    if timeframe is not None and timeframe not in TIMEFRAMES:
        raise DataError(f"Unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}.")

    # Yahoo's CSV export writes "null" in every price of a day it has no prices for: such
    # rows are skipped (and said so); a row with only some prices missing is an error.
    empty = np.logical_and.reduce([_nullish(df[k]) for k in ("open", "high", "low", "close")])
    if empty.any() and not empty.all():
        keep = ~empty
        shown = ", ".join(str(int(x)) for x in lines[empty][:5]) + (", ..." if empty.sum() > 5 else "")
        notes.append(f"Skipped {int(empty.sum())} row(s) without any price (line {shown}).")
        t, t_ok, raw_dates, lines = t[keep], t_ok[keep], raw_dates[keep], lines[keep]
        cols = {k: (v[keep], m[keep], b[keep]) for k, (v, m, b) in cols.items()}

    bars = build_bars(
        source_name=name, symbol=sym, timeframe=timeframe, t=t, t_ok=t_ok, raw_dates=raw_dates,
        cols=cols, lines=lines, notes=notes,
    )
    keys = {_key(f) for f in first_fields} if has_header else set()
    if any(f.startswith("<") for f in first_fields) or "per" in names:
        layout = "stooq"
    elif keys == {"date", "open", "high", "low", "close", "adjclose", "volume"}:
        layout = "yahoo"
    elif keys == {"date", "open", "high", "low", "close", "volume"}:
        layout = "stooq"
    else:
        layout = "generic"
    return CsvImport(bars=bars, layout=layout, delimiter=delim, date_format=fmt, notes=tuple(notes))


# ---------------------------------------------------------------------------- frames

def frame_to_bars(
    df: pd.DataFrame, symbol: str, timeframe: str | None = None, source: str = "csv"
) -> tuple[Bars, tuple[str, ...]]:
    """Validate an OHLCV DataFrame and build ``Bars`` (and notes).

    The times come from a DatetimeIndex (naive = UTC) or a date/datetime column; column
    names are matched case-insensitively with the CSV aliases; yfinance-style
    (Price, Ticker) MultiIndex columns of one ticker are accepted. Problems are reported
    with 1-based row numbers (``CsvFormatError``).
    """
    notes: list[str] = []
    frame = df
    if isinstance(frame.columns, pd.MultiIndex):
        level = next((i for i in range(frame.columns.nlevels)
                      if {_canonical(str(x)) for x in frame.columns.get_level_values(i)} & {"close", "open"}), 0)
        frame = frame.copy()
        frame.columns = [str(x) for x in frame.columns.get_level_values(level)]
    mapping: dict[str, str] = {}
    for col in frame.columns:
        cn = _canonical(str(col))
        if cn and cn not in mapping.values():
            mapping[str(col)] = cn
    frame = frame.rename(columns=mapping)
    n = len(frame)
    lines = np.arange(1, n + 1, dtype=np.int64)
    if isinstance(frame.index, pd.DatetimeIndex):
        idx = frame.index
        if idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
        ok = ~np.asarray(idx.isna())
        t = idx.as_unit("s").asi8.copy()
        t[~ok] = 0
        raw = np.asarray(idx.astype(str), dtype=object)
    elif "datetime" in frame.columns or "date" in frame.columns:
        key = "datetime" if "datetime" in frame.columns else "date"
        s = frame[key]
        if pd.api.types.is_datetime64_any_dtype(s):
            idx = pd.DatetimeIndex(s)
            if idx.tz is not None:
                idx = idx.tz_convert("UTC").tz_localize(None)
            ok = ~np.asarray(idx.isna())
            t = idx.as_unit("s").asi8.copy()
            t[~ok] = 0
        else:
            t, ok, _ = _parse_dates(s.astype(str).where(s.notna()))
        raw = s.astype(str).to_numpy(dtype=object)
    else:
        raise DataError("The table has no dates: give it a DatetimeIndex or a Date column.")
    missing_cols = [c for c in ("open", "high", "low", "close") if c not in frame.columns]
    if missing_cols:
        raise DataError("The table lacks column(s) " + ", ".join(_TITLE[c] for c in missing_cols) + ".")
    cols = {k: _numbers(frame[k]) for k in ("open", "high", "low", "close")}
    if "volume" in frame.columns:
        cols["volume"] = _numbers(frame["volume"])
    else:
        cols["volume"] = (np.zeros(n), np.zeros(n, bool), np.zeros(n, bool))
        notes.append("No Volume column: volume set to 0.")
    bars = build_bars(
        source_name="the table", symbol=normalize_symbol(symbol), timeframe=timeframe, t=t, t_ok=ok,
        raw_dates=raw, cols=cols, lines=lines, notes=notes, unit="row", source=source,
    )
    return bars, tuple(notes)


class CsvProvider:
    """A bar CSV file behind the ``Provider`` interface (re-read on every fetch)."""

    name = "CSV file"
    source = "csv"
    is_demo = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def fetch(self, symbol: str, timeframe: str = "1d", start: int | None = None,
              end: int | None = None) -> Bars:
        """The file's bars labelled ``symbol``, ``start <= time < end`` (UTC epoch seconds).

        Raises ``CsvFormatError`` for bad content and ``DataError`` when the file's bars
        are of another timeframe than ``timeframe``.
        """
        parsed = read_bars_csv(self.path, symbol=symbol)
        bars = parsed.bars
        if bars.timeframe != timeframe:
            raise DataError(
                f"{self.path.name} holds {bars.timeframe} bars, not {timeframe}; "
                f"ask for {bars.timeframe} or resample."
            )
        i = 0 if start is None else int(np.searchsorted(bars.time, start, side="left"))
        j = len(bars) if end is None else int(np.searchsorted(bars.time, end, side="left"))
        return bars if (i, j) == (0, len(bars)) else bars.slice(i, j)
