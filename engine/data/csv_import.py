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

Times without a zone are taken as UTC (the convention of ``Bars``). Intraday times with
an offset (``+05:00``, ``-0400``, ``Z``) are converted to UTC; a daily bar is dated by the
date as written -- its exchange's local date -- whatever the offset, and gets the
midnight-UTC timestamp of that date. Reading uses ``pandas.read_csv`` with the C engine.

Validation runs over the whole file and collects every problem with its 1-based file line
number -- unreadable dates or dates outside 1800-01-01 .. one year ahead, missing,
non-numeric or non-finite values (``inf``, ``nan``, ``1e400``), prices <= 0 or >=
``MAX_PRICE``, volume < 0 or >= ``MAX_VOLUME``, High below Low, Open/Close outside
[Low, High] (only float rounding forgiven), duplicate or out-of-order timestamps, lines
with too many or too few fields -- and raises one ``CsvFormatError`` listing the first
few and counting the rest. The only rows skipped are Yahoo's placeholder rows whose
prices are all ``null``; how many is said in the notes (``CsvImport.skipped_rows``).
Nothing is stored by this module: ``DataService.import_csv`` writes the result in one
transaction, so a failed import changes nothing.
"""
from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from engine.data.bars import INTRADAY, TIMEFRAMES, Bars
from engine.data.errors import CsvFormatError, DataError
from engine.data.symbols import SYMBOL_RE as _SYMBOL_RE
from engine.data.symbols import normalize_symbol  # noqa: F401  (re-exported)

SNIFF_BYTES = 65_536
MAX_PER_CHECK = 200  # problems kept per kind of check (the message shows the first few)

# Accepted ranges. A price must be > 0 and below MAX_PRICE (Berkshire A is ~1e6; nothing
# traded comes near 1e9), a volume >= 0 and below MAX_VOLUME (meme-coin daily volumes in
# units reach ~1e14). Bar times run from 1800-01-01 to one year ahead (``max_bar_time``).
MAX_PRICE = 1e9
MAX_VOLUME = 1e15
MIN_BAR_TIME = -5_364_662_400  # 1800-01-01T00:00:00Z

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
    skipped_rows: int = 0  # Yahoo's all-"null" rows left out (also said in ``notes``)


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


def _parse_dates(values: pd.Series) -> tuple[np.ndarray, np.ndarray, str, np.ndarray | None]:
    """(epoch seconds UTC int64, ok mask, format name, UTC offsets) for a column of date(-time) strings.

    The offsets (seconds east of UTC, 0 where the text has none) are given only when
    some value is an ISO 8601 time with an offset (``+05:00``, ``-0400``, ``Z``), else None.
    """
    s = _strip(values)
    sample = s.dropna()
    if len(sample) > 400:
        sample = sample.iloc[np.linspace(0, len(sample) - 1, 400).astype(int)]
    if sample.empty:
        return np.zeros(len(s), np.int64), np.zeros(len(s), bool), "?", None
    # The format is told from the first value, or from a middle one when the first is an
    # odd one out (a stray epoch number in a column of ISO dates must not decide for all).
    best, best_ok = "?", -1
    for first in dict.fromkeys((str(sample.iloc[0]), str(sample.iloc[len(sample) // 2]))):
        if all(ch.isdigit() for ch in first) and len(first) in (9, 10, 12, 13):
            n_ok = int(sample.str.fullmatch(r"\d+").sum())
            if n_ok > best_ok:
                best, best_ok = ("epoch-ms" if len(first) >= 12 else "epoch-s"), n_ok
        else:
            for fmt in _date_candidates(first):
                n_ok = int(_to_datetime(sample, fmt).notna().sum())
                if n_ok > best_ok:
                    best, best_ok = fmt, n_ok
                if n_ok == len(sample):
                    break
        if best_ok * 2 > len(sample):
            break
    if best.startswith("epoch"):
        num = pd.to_numeric(s, errors="coerce")
        ok = num.notna().to_numpy() & s.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
        arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
        ms = best == "epoch-ms"
        ok &= arr < (1e14 if ms else 1e11)  # beyond the year 5000: not a timestamp (and no int64 overflow)
        out = np.where(ok, arr, 0).astype(np.int64)
        if ms:
            out = out // 1000
        return out, ok, best, None
    parsed = _to_datetime(s, best)
    ok = parsed.notna().to_numpy()
    idx = pd.DatetimeIndex(parsed)
    secs = idx.as_unit("s").asi8.copy()
    secs[~ok] = 0
    # An offset can move a bar's date only if some UTC time is not midnight: when all
    # are (all dates as in ORCL-1995-2014.csv), the offsets need not be looked at.
    need_offsets = best == "ISO8601" and bool(np.any(secs % 86400 != 0))
    return secs, ok, best, _utc_offsets(s) if need_offsets else None


# a time of day followed by a UTC offset: "T09:30:00+05:00", " 09:30-0400", "T00:00:00Z"
_OFFSET_RE = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d*)?)?\s*(?P<z>Z|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2})?)$"


def _utc_offsets(s: pd.Series) -> np.ndarray | None:
    """Seconds east of UTC written at the end of each ISO 8601 value (None if no value has one)."""
    if len(s) == 0:
        return None
    m = s.str.extract(_OFFSET_RE)
    has = m["z"].notna().to_numpy(dtype=bool)
    if not has.any():
        return None
    hh = pd.to_numeric(m["hh"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    mm = pd.to_numeric(m["mm"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    sign = np.where(m["sign"].fillna("").to_numpy(dtype=object) == "-", -1, 1)
    return np.where(has, sign * (hh * 3600 + mm * 60), 0).astype(np.int64)


def _date_candidates(first: str) -> list[str]:
    """The date formats worth trying for a column whose value ``first`` is typical."""
    if re.match(r"^\d{4}-\d{1,2}-\d{1,2}", first):
        return ["ISO8601"]
    if re.match(r"^\d{8}$", first):
        return ["%Y%m%d"]
    if re.match(r"^\d{14}$", first):
        return ["%Y%m%d%H%M%S"]
    if re.match(r"^\d{4}/\d{1,2}/\d{1,2}", first):
        return [f"%Y/%m/%d{t}" for t in _TIME_SUFFIXES]
    if re.match(r"^\d{1,2}/\d{1,2}/\d{2,4}", first):
        return [f"{d}{t}" for d in ("%m/%d/%Y", "%d/%m/%Y", "%m/%d/%y", "%d/%m/%y")
                for t in _TIME_SUFFIXES]
    if re.match(r"^\d{1,2}\.\d{1,2}\.\d{2,4}", first):
        return [f"{d}{t}" for d in ("%d.%m.%Y", "%d.%m.%y") for t in _TIME_SUFFIXES]
    if re.match(r"^\d{1,2}-\d{1,2}-\d{4}", first):
        return [f"{d}{t}" for d in ("%d-%m-%Y", "%m-%d-%Y") for t in _TIME_SUFFIXES]
    if re.match(r"^\d{1,2}[- ][A-Za-z]{3}[- ]\d{2,4}", first):
        return [f"{d}{t}" for d in ("%d-%b-%Y", "%d-%b-%y", "%d %b %Y") for t in _TIME_SUFFIXES]
    return ["ISO8601", "%b %d, %Y", "%B %d, %Y", "%d %B %Y"]


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


class _Col(NamedTuple):
    """One parsed numeric column: values (NaN where unusable), and why a cell is unusable."""

    values: np.ndarray  # float64
    missing: np.ndarray  # bool: empty, absent (short line) or a placeholder such as "null"
    bad: np.ndarray  # bool: text that is not a number
    raw: np.ndarray | None = None  # the cells as text (None when the column parsed as numbers)


# Placeholders that mean "no value". "nan" is not one of them: it is refused as non-finite.
_MISSING_TOKENS = ("", "null", "n/a", "na", "#n/a", "-", "none")
_NAN_TOKENS = ("nan", "+nan", "-nan")


def _numbers(col: pd.Series) -> _Col:
    """The column as float64 with its missing and non-numeric cells marked."""
    if col.dtype.kind in "fiu":
        arr = col.to_numpy(dtype=np.float64, na_value=np.nan)
        return _Col(arr, np.isnan(arr), np.zeros(len(arr), bool))
    raw = col.astype("string").str.strip()
    low = raw.str.lower()
    missing = (raw.isna() | low.isin(_MISSING_TOKENS)).to_numpy(dtype=bool)
    nan_text = low.isin(_NAN_TOKENS).to_numpy(dtype=bool)
    num = pd.to_numeric(raw.str.replace(",", "", regex=False), errors="coerce")
    arr = num.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(arr) & ~missing & ~nan_text
    return _Col(arr, missing, bad, raw.to_numpy(dtype=object, na_value=""))


def _yahoo_null(col: pd.Series) -> np.ndarray:
    """Cells holding Yahoo's ``null`` placeholder (a column that parsed as numbers has none)."""
    if col.dtype.kind in "fiu":
        return np.zeros(len(col), bool)
    return (col.astype("string").str.strip().str.lower() == "null").to_numpy(dtype=bool, na_value=False)


_TITLE = {"open": "Open", "high": "High", "low": "Low", "close": "Close", "volume": "Volume",
          "date": "Date", "time": "Time", "datetime": "Date/time"}


def _fmt_time(t: int, intraday: bool) -> str:
    d = np.datetime64(int(t), "s")
    return str(d).replace("T", " ") if intraday else str(d.astype("datetime64[D]"))


# ---------------------------------------------------------------------------- validation

def max_bar_time() -> int:
    """The latest accepted bar time: one year (366 days) after now, UTC epoch seconds."""
    return int(time.time()) + 366 * 86400


def build_bars(
    *,
    source_name: str,
    symbol: str,
    timeframe: str | None,
    t: np.ndarray,
    t_ok: np.ndarray,
    raw_dates: np.ndarray | None,
    cols: dict[str, _Col],
    lines: np.ndarray,
    notes: list[str],
    unit: str = "line",
    source: str = "csv",
    offsets: np.ndarray | None = None,
) -> Bars:
    """Validate parsed columns and build ``Bars``; raises ``CsvFormatError`` listing every problem.

    ``t`` holds UTC epoch seconds, ``offsets`` (optional) the UTC offset each value was
    written with: daily bars are dated by their local date (``t + offsets``), intraday
    bars keep UTC. ``cols`` maps open/high/low/close/volume to parsed columns; ``lines``
    gives each row's 1-based line (or row) number for messages. Refused: unreadable or
    out-of-range dates (before 1800-01-01 or more than a year ahead), missing, non-numeric
    or non-finite values, prices <= 0 or >= ``MAX_PRICE``, volume < 0 or >= ``MAX_VOLUME``,
    High below Low, Open/Close outside [Low, High], duplicate or out-of-order times.
    All checks run over all rows before anything is raised.
    """
    problems: list[tuple[int, str]] = []

    def add(mask: np.ndarray, make: Callable[..., str], rows: np.ndarray | None = None) -> None:
        idx = np.flatnonzero(mask)[:MAX_PER_CHECK]
        for i in idx if rows is None else rows[idx]:
            problems.append((int(lines[i]), make(int(i))))

    def raw_date(i: int) -> str:
        return f" {str(raw_dates[i])!r}" if raw_dates is not None else ""

    n = len(t)
    t_max = max_bar_time()
    in_range = (t >= MIN_BAR_TIME) & (t <= t_max)
    add(~t_ok, lambda i: "cannot read the date" + raw_date(i))
    add(t_ok & ~in_range, lambda i: f"the date{raw_date(i)} is outside the accepted range "
        f"1800-01-01 .. {_fmt_time(t_max, False)}")
    good_t = t_ok & in_range

    fields = ("open", "high", "low", "close", "volume")
    missing = np.zeros((n, len(fields)), bool)
    usable: dict[str, np.ndarray] = {}
    for k, name in enumerate(fields):
        col = cols[name]
        vals, title, raw = col.values, _TITLE[name], col.raw
        missing[:, k] = col.missing
        add(col.bad, lambda i, title=title, raw=raw: f"{title} is not a number"
            + (f" ({str(raw[i])!r})" if raw is not None else ""))
        nonfinite = ~np.isfinite(vals) & ~col.missing & ~col.bad
        add(nonfinite, lambda i, title=title, raw=raw, vals=vals: f"{title} is not a finite number ("
            + (repr(str(raw[i])) if raw is not None else f"{vals[i]:g}") + ")")
        fin = ~(col.missing | col.bad | nonfinite)
        with np.errstate(invalid="ignore"):
            if name == "volume":
                low_v, high_v = fin & (vals < 0), fin & (vals >= MAX_VOLUME)
                add(low_v, lambda i, vals=vals: f"Volume {vals[i]:g} is negative")
                add(high_v, lambda i, vals=vals: f"Volume {vals[i]:g} is too large (the limit is {MAX_VOLUME:g})")
            else:
                low_v, high_v = fin & (vals <= 0), fin & (vals >= MAX_PRICE)
                add(low_v, lambda i, title=title, vals=vals: f"{title} {vals[i]:g} is not a positive price")
                add(high_v, lambda i, title=title, vals=vals:
                    f"{title} {vals[i]:g} is too large (the limit is {MAX_PRICE:g})")
        usable[name] = fin & ~low_v & ~high_v
    any_missing = np.asarray(missing.any(axis=1), dtype=bool)
    if any_missing.any():
        def absent(i: int) -> str:
            names = [_TITLE[f] for f, m in zip(fields, missing[i]) if m]
            return ", ".join(names) + (" is" if len(names) == 1 else " are") + " missing"
        add(any_missing, absent)

    # Range consistency, on rows whose four prices are usable.
    ok4 = usable["open"] & usable["high"] & usable["low"] & usable["close"]
    o, h, lo, c = (np.where(ok4, cols[k].values, 1.0) for k in ("open", "high", "low", "close"))
    v = np.where(usable["volume"], cols["volume"].values, 0.0)
    # Only float rounding is forgiven (relative 1e-9): the reference files need no more.
    eps = 1e-9 * np.maximum(np.abs(h), 1.0)
    add(h < lo, lambda i: f"High {h[i]:g} is below Low {lo[i]:g}")
    ok_range = h >= lo
    add(ok_range & ((o > h + eps) | (o < lo - eps)),
        lambda i: f"Open {o[i]:g} is outside the bar's range Low {lo[i]:g} .. High {h[i]:g}")
    add(ok_range & ((c > h + eps) | (c < lo - eps)),
        lambda i: f"Close {c[i]:g} is outside the bar's range Low {lo[i]:g} .. High {h[i]:g}")

    if n == 0:
        raise CsvFormatError(source_name, [(0, "the file holds no bars")], unit)

    # Time order, over the rows whose dates are usable.
    g = np.flatnonzero(good_t)
    if len(g) > 1 and bool(np.all(np.diff(t[g]) < 0)):
        # Newest-first files (old Yahoo downloads, some brokers) are turned around.
        order = np.arange(n)[::-1]
        t, o, h, lo, c, v, lines, good_t = (a[order] for a in (t, o, h, lo, c, v, lines, good_t))
        if offsets is not None:
            offsets = offsets[order]
        g = np.flatnonzero(good_t)
        notes.append("Rows were newest first; they were put in time order.")

    tf = timeframe or detect_timeframe(np.sort(t[g]))
    if tf is None:
        if problems:
            raise CsvFormatError(source_name, problems, unit)
        raise CsvFormatError(
            source_name,
            [(0, "cannot tell the timeframe from the spacing of the timestamps; give it (e.g. --timeframe 1d)")],
            unit,
        )
    if tf not in TIMEFRAMES:
        raise DataError(f"Unknown timeframe {tf!r}; use one of {', '.join(TIMEFRAMES)}.")
    intraday = tf in INTRADAY
    shifted = offsets is not None and bool(np.any(offsets[g] != 0))
    if intraday:
        if shifted:
            notes.append("Times with a UTC offset were converted to UTC.")
    else:
        if shifted:
            assert offsets is not None
            t = np.where(good_t, t + offsets, t)
            notes.append("Daily bars are dated as written (their exchange's local date); "
                         "the UTC offsets were not applied.")
        if bool(np.any(t[g] % 86400 != 0)):
            t = t - t % 86400
            notes.append("Daily bars carried a time of day; they were set to their date (midnight UTC).")

    if len(g) > 1:
        tg = t[g]
        d = np.diff(tg)
        dup = np.concatenate([[False], d == 0])
        back = np.concatenate([[False], d < 0])
        add(dup, lambda i: f"duplicate timestamp {_fmt_time(int(t[i]), intraday)} "
            f"(same as {unit} {int(lines[g[np.searchsorted(g, i) - 1]])})", rows=g)
        add(back, lambda i: f"timestamp {_fmt_time(int(t[i]), intraday)} is earlier than "
            f"{_fmt_time(int(t[g[np.searchsorted(g, i) - 1]]), intraday)} on {unit} "
            f"{int(lines[g[np.searchsorted(g, i) - 1]])}; rows must be in time order", rows=g)
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
    read_opts: dict[str, object] = dict(
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
        # Only an empty cell is "no value": "nan" and "null" stay text, so that "nan" is
        # refused as non-finite and Yahoo's "null" rows can be told from truncated lines.
        keep_default_na=False,
        na_values=[""],
    )
    structure: list[tuple[int, str]] = []
    lines: np.ndarray | None = None
    try:
        df = pd.read_csv(src, **read_opts)  # type: ignore[call-overload]
    except pd.errors.ParserError as exc:
        m = re.search(r"line (\d+), saw (\d+)", str(exc))
        if not m:
            raise CsvFormatError(name, [(0, f"cannot be parsed as CSV ({str(exc).strip()})")]) from None
        # Report every line with too many fields, and still check the others.
        structure, lines, df = _reread_without_long_lines(src, name, read_opts, len(names), header_lines)
        if not structure:  # the scan disagrees with pandas: report what pandas saw
            structure = [(int(m.group(1)), f"has {m.group(2)} fields, expected {len(names)}")]
        if df is None or lines is None:
            raise CsvFormatError(name, structure) from None
    except (UnicodeDecodeError, UnicodeError) as exc:
        reason = getattr(exc, "reason", str(exc))
        raise CsvFormatError(name, [(0, f"is not UTF-8 text ({reason})")]) from None
    except (pd.errors.EmptyDataError, ValueError, OverflowError) as exc:
        raise CsvFormatError(name, [(0, f"cannot be parsed as CSV ({str(exc).strip()})")]) from None

    if lines is None:
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
        t, t_ok, fmt, offsets = _parse_dates(df["datetime"])
    else:
        raw_dates = df["date"].to_numpy(dtype=object)
        t, t_ok, fmt, offsets = _parse_dates(df["date"])
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
        cols["volume"] = _Col(z, np.zeros(len(df), bool), np.zeros(len(df), bool))
        notes.append("No Volume column: volume set to 0.")
    if "adjclose" in df.columns:
        notes.append("Adj Close was not used (bars keep the Close as traded).")

    if timeframe is not None and timeframe not in TIMEFRAMES:
        raise DataError(f"Unknown timeframe {timeframe!r}; use one of {', '.join(TIMEFRAMES)}.")

    # Yahoo's CSV export writes "null" in every price of a day it has no prices for: such
    # rows are skipped (and counted in the notes). Any other row without prices -- a
    # truncated or garbage line, a row with only some prices -- is an error.
    empty = t_ok & np.logical_and.reduce([_yahoo_null(df[k]) for k in ("open", "high", "low", "close")])
    skipped = int(empty.sum())
    if skipped:
        keep = ~empty
        shown = ", ".join(str(int(x)) for x in lines[empty][:5]) + (", ..." if skipped > 5 else "")
        notes.append(f"Skipped {skipped} row(s) without any price (Yahoo's null rows; line {shown}).")
        t, t_ok, raw_dates, lines = t[keep], t_ok[keep], raw_dates[keep], lines[keep]
        offsets = offsets[keep] if offsets is not None else None
        cols = {k: _Col(c.values[keep], c.missing[keep], c.bad[keep],
                        c.raw[keep] if c.raw is not None else None) for k, c in cols.items()}

    try:
        bars = build_bars(
            source_name=name, symbol=sym, timeframe=timeframe, t=t, t_ok=t_ok, raw_dates=raw_dates,
            cols=cols, lines=lines, notes=notes, offsets=offsets,
        )
    except CsvFormatError as exc:
        if structure:
            raise CsvFormatError(name, structure + [p for p in exc.problems if p[0] > 0],
                                 notes=tuple(notes)) from None
        raise CsvFormatError(name, exc.problems, exc.unit, tuple(notes)) from None
    if structure:
        raise CsvFormatError(name, structure, notes=tuple(notes))
    keys = {_key(f) for f in first_fields} if has_header else set()
    if any(f.startswith("<") for f in first_fields) or "per" in names:
        layout = "stooq"
    elif keys == {"date", "open", "high", "low", "close", "adjclose", "volume"}:
        layout = "yahoo"
    elif keys == {"date", "open", "high", "low", "close", "volume"}:
        layout = "stooq"
    else:
        layout = "generic"
    return CsvImport(bars=bars, layout=layout, delimiter=delim, date_format=fmt, notes=tuple(notes),
                     skipped_rows=skipped)


def _reread_without_long_lines(
    src: Path | io.StringIO, name: str, read_opts: dict[str, object], n_names: int, header_lines: int
) -> tuple[list[tuple[int, str]], np.ndarray | None, pd.DataFrame | None]:
    """After pandas stopped at a line with too many fields: every such line, and the rest read.

    Returns (problems, line numbers of the rows read, rows read); the last two are None
    when the rows cannot be matched to their lines (quoted line breaks, say).
    """
    import csv

    if isinstance(src, Path):
        text = src.read_text(encoding="utf-8-sig", errors="replace")
    else:
        text = src.getvalue()
    physical = re.split(r"\r\n|\n|\r", text)
    if physical and physical[-1] == "":
        physical.pop()
    delim = str(read_opts["sep"])
    problems: list[tuple[int, str]] = []
    kept: list[int] = []
    for no, line in enumerate(physical[header_lines:], start=header_lines + 1):
        try:
            n = len(next(csv.reader([line], delimiter=delim, quotechar='"'), []))
        except csv.Error:
            return problems, None, None
        if n > n_names:
            if len(problems) < MAX_PER_CHECK:
                problems.append((no, f"has {n} fields, expected {n_names}"))
        else:
            kept.append(no)
    if isinstance(src, io.StringIO):
        src.seek(0)
    try:
        df = pd.read_csv(src, on_bad_lines="skip", **read_opts)  # type: ignore[call-overload]
    except (pd.errors.ParserError, ValueError, UnicodeError):
        return problems, None, None
    if len(df) != len(kept):
        return problems, None, None
    return problems, np.asarray(kept, dtype=np.int64), df


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
    offsets: np.ndarray | None = None
    if isinstance(frame.index, pd.DatetimeIndex):
        t, ok, offsets = _index_seconds(frame.index)
        raw = np.asarray(frame.index.astype(str), dtype=object)
    elif "datetime" in frame.columns or "date" in frame.columns:
        key = "datetime" if "datetime" in frame.columns else "date"
        s = frame[key]
        if pd.api.types.is_datetime64_any_dtype(s):
            t, ok, offsets = _index_seconds(pd.DatetimeIndex(s))
        else:
            t, ok, _, offsets = _parse_dates(s.astype(str).where(s.notna()))
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
        cols["volume"] = _Col(np.zeros(n), np.zeros(n, bool), np.zeros(n, bool))
        notes.append("No Volume column: volume set to 0.")
    bars = build_bars(
        source_name="the table", symbol=normalize_symbol(symbol), timeframe=timeframe, t=t, t_ok=ok,
        raw_dates=raw, cols=cols, lines=lines, notes=notes, unit="row", source=source, offsets=offsets,
    )
    return bars, tuple(notes)


def _index_seconds(idx: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(UTC epoch seconds, ok mask, UTC offsets or None) of a DatetimeIndex (naive = UTC)."""
    ok = ~np.asarray(idx.isna())
    offsets = None
    if idx.tz is not None:
        local = idx.tz_localize(None).as_unit("s").asi8
        idx = idx.tz_convert("UTC").tz_localize(None)
        offsets = np.where(ok, local - idx.as_unit("s").asi8, 0)
    t = idx.as_unit("s").asi8.copy()
    t[~ok] = 0
    return t, ok, offsets


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
