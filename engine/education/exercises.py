"""Exercise checkers: does the engine's state show that the user did what an exercise asks?

They read state, never the screen: the open charts' ``state()`` dicts (what the layout saves:
timeframe, formula overlays, studies), the drawings store, the paper session's orders, the
scan store's last run (with the reference formula run on the same data), the custom
indicators and the journal. ``EngineState`` bundles those reads as plain callables so the
checkers are Qt-free and testable with real engine objects; the app builds one from its
services (``app/features/education.py``).

Each checker answers ``CheckResult(done, detail)``; ``detail`` says what is missing or how far
off the attempt is ("the stop is 1.00 % below the entry; the exercise asks for 2 % ± 0.2"),
so a near miss is told apart from nothing at all — and never counted as done.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from engine.formatting import money
from engine.education.content import Material
from engine.paper.orders import OrderState, OrderView, Role
from engine.scanner.store import ScanRun

if TYPE_CHECKING:  # the journal and the drawings load when a check needs them, not at start-up
    from engine.charts.drawings import Drawing
    from engine.journal.store import StoredEntry


@dataclass(frozen=True, slots=True)
class CheckResult:
    done: bool
    detail: str


def _none_price(_symbol: str) -> Decimal | None:
    return None


def _no_reference(_universe: str, _formula: str) -> set[str]:
    raise LookupError("no data to run the reference scan on")


@dataclass
class EngineState:
    """The reads the checkers need. Every callable may raise; a checker that cannot read its
    state answers not done with the reason."""

    #: ``ChartWidget.state()`` of every open chart
    charts: Callable[[], Sequence[Mapping[str, Any]]] = lambda: ()
    #: a symbol's stored drawings
    drawings: Callable[[str], Sequence[Drawing]] = lambda _s: ()
    #: the selected paper account's orders (``PaperSession.snapshot()[0]``)
    orders: Callable[[], Sequence[OrderView]] = lambda: ()
    last_price: Callable[[str], Decimal | None] = field(default=_none_price)
    #: the newest scan run of any scan, and the filter formula it ran (``last_scan_run``)
    last_scan: Callable[[], ScanRun | None] = lambda: None
    last_scan_formula: Callable[[], str] = lambda: ""
    #: a universe key ("demo", "sp500", "watchlist:<name>") -> its display name as runs record it
    universe_name: Callable[[str], str] = lambda key: key
    #: (universe key, formula) -> the symbols the formula matches on that universe's data now
    reference_scan: Callable[[str, str], set[str]] = field(default=_no_reference)
    #: names of the saved custom indicators
    custom_indicators: Callable[[], Sequence[str]] = lambda: ()
    #: the journal entry of the last closed trade (by exit time), None without one
    last_journal_entry: Callable[[], StoredEntry | None] = lambda: None


def _num(v: Any, what: str) -> Decimal:
    try:
        d = Decimal(str(v))
    except (InvalidOperation, ValueError):
        raise ValueError(f"the exercise's {what} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"the exercise's {what} is not a number")
    return d


# --------------------------------------------------------------------------------- charts

#: how content may name a timeframe -> the chart's id (``widgets/chart``: 1m 5m 15m 30m 60m 4h 1d 1wk 1mo)
_TF_ALIASES = {"1h": "60m", "60min": "60m", "1hr": "60m", "240m": "4h", "1w": "1wk", "1wk": "1wk", "1mth": "1mo",
               "1mon": "1mo", "1day": "1d", "d": "1d", "w": "1wk"}


def _tf(v: object) -> str:
    t = str(v or "").strip().lower()
    return _TF_ALIASES.get(t, t)


def check_chart_timeframe(p: Mapping[str, Any], s: EngineState) -> CheckResult:
    want = _tf(p.get("timeframe"))
    shown = [_tf(c.get("timeframe")) for c in s.charts()]
    if want in shown:
        return CheckResult(True, f"A chart shows the {want} timeframe.")
    if not shown:
        return CheckResult(False, "No chart is open: open one (View → Chart).")
    return CheckResult(False, f"The charts show {', '.join(sorted(set(shown)))}; switch one to {want}.")


#: studies drawn as formula overlays (``sma(close, 50)``) and as chart studies (their length param)
_FORMULA_STUDIES = ("sma", "ema", "wma", "rsi", "macd")
_STUDY_LENGTH = {"bbands": "n", "macd": "fast"}


def _overlay_call(text: str) -> tuple[str, float | None] | None:
    """(function, first period) of an overlay that is one call on ``close``, else None."""
    from engine.formula import formula as fm
    from engine.formula.errors import FormulaError

    try:
        root = fm.parse(text).root
    except (FormulaError, ValueError):
        return None
    if root.kind != "call":
        return None
    if root.args and not (root.args[0].kind == "field" and root.args[0].op == "close"):
        return None
    return root.op, (float(root.params[0]) if root.params else None)


def check_chart_study(p: Mapping[str, Any], s: EngineState) -> CheckResult:
    study = str(p.get("study", "")).strip().lower()
    period = float(_num(p.get("period"), "period"))
    seen: list[str] = []
    for c in s.charts():
        for text in c.get("overlays") or ():
            call = _overlay_call(str(text))
            if call is None:
                continue
            seen.append(str(text))
            if study in _FORMULA_STUDIES and call[0] == study and call[1] == period:
                return CheckResult(True, f"The chart has {text}.")
        for item in (c.get("studies") or {}).get("items") or ():
            kind = str(item.get("kind", ""))
            length = (item.get("params") or {}).get(_STUDY_LENGTH.get(kind, ""), None)
            seen.append(f"{kind}({length})")
            if kind == study and length is not None and float(length) == period:
                return CheckResult(True, f"The chart has {kind} with length {period:g}.")
    if not seen:
        return CheckResult(False, f"No chart has an indicator yet; add {study} with period {period:g}.")
    return CheckResult(False, f"The charts have {', '.join(seen)}; the exercise asks for {study} with period {period:g}.")


_DRAWING_KINDS = {"horizontal_line": ("hline",), "trendline": ("trend",)}


def check_chart_drawing(p: Mapping[str, Any], s: EngineState) -> CheckResult:
    want = str(p.get("kind", ""))
    kinds = _DRAWING_KINDS.get(want)
    if kinds is None:
        return CheckResult(False, f"Unknown drawing kind {want!r}.")
    symbols = {str(c.get("symbol")) for c in s.charts() if c.get("symbol")}
    have: list[str] = []
    for sym in sorted(symbols):
        for d in s.drawings(sym):
            have.append(d.kind)
            if d.kind in kinds:
                return CheckResult(True, f"The {sym} chart has a {want.replace('_', ' ')}.")
    if not symbols:
        return CheckResult(False, "No chart shows a symbol yet.")
    return CheckResult(False, f"No {want.replace('_', ' ')} on the open charts yet"
                       + (f" (there is: {', '.join(sorted(set(have)))})." if have else "."))


# --------------------------------------------------------------------------------- orders

_LIVE = frozenset({OrderState.ACCEPTED, OrderState.PARTIALLY_FILLED, OrderState.WAITING, OrderState.FILLED})


def _entry_price(o: OrderView, s: EngineState) -> Decimal | None:
    if o.filled_qty > 0 and o.avg_fill_price is not None:
        return o.avg_fill_price
    if o.limit_price is not None:
        return o.limit_price
    if o.stop_price is not None:
        return o.stop_price
    return s.last_price(o.symbol)


def _brackets(orders: Sequence[OrderView]) -> list[tuple[OrderView, OrderView]]:
    """(entry, its stop-loss) of every bracket whose entry is working or filled."""
    stops = {o.parent_id: o for o in orders if o.role == Role.STOP_LOSS and o.parent_id
             and o.state not in (OrderState.REJECTED,)}
    return [(o, stops[o.order_id]) for o in orders
            if o.role == Role.ENTRY and o.state in _LIVE and o.order_id in stops]


def check_bracket_order(p: Mapping[str, Any], s: EngineState) -> CheckResult:
    symbol = str(p.get("symbol", "")).upper()
    side = str(p.get("side", "buy")).lower()
    want = _num(p.get("stop_pct"), "stop_pct")
    tol = _num(p.get("tolerance_pct", 0.2), "tolerance_pct")
    near: list[str] = []
    for entry, stop in _brackets(s.orders()):
        if entry.symbol != symbol or entry.side.value != side or stop.stop_price is None:
            continue
        price = _entry_price(entry, s)
        if price is None or price <= 0:
            near.append("a bracket whose entry price is not known yet (no quote)")
            continue
        dist = (price - stop.stop_price) if side == "buy" else (stop.stop_price - price)
        pct = dist / price * 100
        where = "below" if side == "buy" else "above"
        if abs(pct - want) <= tol:
            return CheckResult(True, f"Bracket on {symbol}: the stop is {pct:.2f} % {where} the entry.")
        near.append(f"the stop is {pct:.2f} % {where} the entry")
    if near:
        return CheckResult(False, f"A {side} bracket on {symbol} exists but {near[-1]}; the exercise asks for "
                                  f"{float(want):g} % ± {float(tol):g}.")
    return CheckResult(False, f"No working or filled {side} bracket order on {symbol} yet.")


def _type(v: object) -> str:
    return str(v or "").strip().lower().replace("-", "_").replace(" ", "_")


def check_order_type(p: Mapping[str, Any], s: EngineState) -> CheckResult:
    symbol = str(p.get("symbol", "")).upper()
    want, side = _type(p.get("type")), str(p.get("side", "")).lower()
    seen: list[str] = []
    for o in s.orders():
        if o.symbol != symbol or o.role not in (Role.SINGLE, Role.ENTRY, Role.OCO) or o.state == OrderState.REJECTED:
            continue
        seen.append(f"{o.side.value} {o.type.value}")
        if o.type.value == want and (not side or o.side.value == side):
            return CheckResult(True, f"A {o.side.value} {want.replace('_', '-')} order on {symbol} was placed.")
    if seen:
        return CheckResult(False, f"Orders on {symbol}: {', '.join(seen)}; the exercise asks for a {side} "
                                  f"{want.replace('_', '-')} order.")
    return CheckResult(False, f"No order on {symbol} yet.")


def check_risk_sized_order(p: Mapping[str, Any], s: EngineState) -> CheckResult:
    risk = _num(p.get("risk_dollars"), "risk_dollars")
    tol = _num(p.get("tolerance_pct", 5), "tolerance_pct")
    symbol = str(p.get("symbol", "")).upper()
    near: list[str] = []
    for entry, stop in _brackets(s.orders()):
        if symbol and entry.symbol != symbol:
            continue
        price = _entry_price(entry, s)
        if price is None or stop.stop_price is None:
            continue
        at_risk = entry.qty * abs(price - stop.stop_price)
        if risk > 0 and abs(at_risk - risk) / risk * 100 <= tol:
            return CheckResult(True, f"{entry.qty} × |{price:.2f} − {stop.stop_price:.2f}| = {money(at_risk)} at risk.")
        near.append(f"{entry.qty} shares risk {money(at_risk)}")
    if near:
        return CheckResult(False, f"{near[-1]}; size the order so that about ${float(risk):g} is at risk (± {float(tol):g} %).")
    return CheckResult(False, "No order with a stop-loss yet: place a bracket (entry + stop) sized by your risk.")


# --------------------------------------------------------------------------------- scan etc.

def check_scan(p: Mapping[str, Any], s: EngineState) -> CheckResult:
    universe, reference = str(p.get("universe", "")), str(p.get("reference", ""))
    run = s.last_scan()
    if run is None:
        return CheckResult(False, "No scan has been run yet.")
    name = s.universe_name(universe)
    if run.universe != name:
        return CheckResult(False, f"The last scan ran on {run.universe!r}; run it on {name!r}.")
    try:
        expected = s.reference_scan(universe, reference)
    except Exception as exc:  # noqa: BLE001 - any failure to run the reference: not done, with the reason
        return CheckResult(False, f"The reference scan could not run: {exc}")
    got = set(run.symbols)
    if got == expected and not expected and not _same_formula(s.last_scan_formula(), reference):
        # nothing matches today: an empty result proves nothing, so the scan itself must be the reference
        return CheckResult(False, f"No symbol matches {reference} on this data, and your last scan "
                                  f"({s.last_scan_formula() or 'unknown'}) is a different formula; scan for {reference}.")
    if got == expected:
        return CheckResult(True, f"Your scan matched the same {len(got)} symbols as {reference}.")
    extra, missing = sorted(got - expected), sorted(expected - got)
    parts = ([f"extra: {', '.join(extra[:5])}"] if extra else []) + ([f"missing: {', '.join(missing[:5])}"] if missing else [])
    return CheckResult(False, f"Your last scan's matches differ from {reference} ({'; '.join(parts)}).")


def _same_formula(a: str, b: str) -> bool:
    """Whether two formulas are the same once parsed (defaults filled, spacing ignored)."""
    from engine.formula import formula as fm
    from engine.formula.errors import FormulaError

    try:
        return fm.parse(a).canonical() == fm.parse(b).canonical()
    except (FormulaError, ValueError):
        return False


def check_custom_indicator(_p: Mapping[str, Any], s: EngineState) -> CheckResult:
    names = list(s.custom_indicators())
    if names:
        return CheckResult(True, f"Custom indicator saved: {', '.join(names[:3])}.")
    return CheckResult(False, "No custom indicator saved yet (Indicators → New indicator).")


def check_journal_emotion(_p: Mapping[str, Any], s: EngineState) -> CheckResult:
    e = s.last_journal_entry()
    if e is None:
        return CheckResult(False, "There is no closed trade in the journal yet: close a paper trade first.")
    if e.fields.emotion_before or e.fields.emotion_after:
        return CheckResult(True, f"Your last trade ({e.trip.symbol}) has an emotion tag.")
    return CheckResult(False, f"Your last trade ({e.trip.symbol}) has no emotion tag yet: add one in the Journal.")


CHECKERS: dict[str, Callable[[Mapping[str, Any], EngineState], CheckResult]] = {
    "chart_timeframe": check_chart_timeframe,
    "chart_study": check_chart_study,
    "chart_drawing": check_chart_drawing,
    "bracket_order": check_bracket_order,
    "order_type": check_order_type,
    "risk_sized_order": check_risk_sized_order,
    "scan": check_scan,
    "custom_indicator": check_custom_indicator,
    "journal_emotion": check_journal_emotion,
}


def check(exercise: Material, state: EngineState) -> CheckResult:
    """Check ``exercise`` (a material of kind "exercise") against ``state``. Never raises for
    state that cannot be read: the answer is not done, with the reason."""
    fn = CHECKERS.get(exercise.check)
    if exercise.kind != "exercise" or fn is None:
        return CheckResult(False, f"{exercise.id!r} is not an exercise with a known check.")
    try:
        return fn(exercise.params, state)
    except Exception as exc:  # noqa: BLE001 - a read failed: show why, do not count it
        return CheckResult(False, f"Could not check: {exc}")


def reference_matches(bars: Callable[[str, str], Any], symbols: Sequence[str], formula: str,
                      custom: Mapping[str, str] | None = None, universe_name: str = "reference") -> set[str]:
    """The symbols ``formula`` matches on the last bar of each of ``symbols`` (daily bars from
    ``bars(symbol, timeframe)``): the scanner's own run, with no store, so nothing is recorded
    and the user's last run stays the last. Raises ``FormulaError`` for a bad formula."""
    from engine.progress import run_to_end
    from engine.scanner.filters import ScanDefinition
    from engine.scanner.scanner import Scanner
    from engine.scanner.universe import Universe

    scanner = Scanner(bars, store=None, custom=dict(custom or {}))
    result = run_to_end(scanner.run(ScanDefinition("reference", formula), Universe(universe_name, tuple(symbols)),
                                    columns=(), record=False))
    return set(result.symbols)


def last_scan_run(db: Any) -> ScanRun | None:
    """The newest run of any scan in the local store (``scan_runs``), None before the first."""
    r = _last_row(db)
    return None if r is None else r[0]


def last_scan_formula(db: Any) -> str:
    """The filter formula of the newest scan run ("" before the first)."""
    r = _last_row(db)
    return "" if r is None else r[1]


def _last_row(db: Any) -> tuple[ScanRun, str] | None:
    import json

    with db.connect(write=False) as c:
        r = c.execute("SELECT scan_key, universe, ran_at, symbols, definition FROM scan_runs "
                      "ORDER BY ran_at DESC, id DESC LIMIT 1").fetchone()
    if r is None:
        return None
    return ScanRun(str(r[0]), str(r[1]), str(r[2]), tuple(json.loads(r[3]))), str(r[4] or "")
