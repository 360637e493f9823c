"""The education content under ``resources/education/`` (issue 19) against its format
(the contract between the content and the loader, dock and checkers): the glossary's
ids, categories, formulas and links; the courses' sections, articles, quizzes and
exercises; and every formula an article or exercise tells the user to type, parsed by
the app's own formula language so an instruction never fails in the app."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from engine.data.demo import demo_symbols
from engine.formula import FIELDS, FUNCTIONS, FormulaError, parse

EDU = Path(__file__).resolve().parents[2] / "resources" / "education"
GLOSSARY = EDU / "glossary.json"
COURSES = EDU / "courses"

KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CATEGORIES = {"basics", "orders", "charting", "indicators", "performance", "risk", "options", "fundamentals",
              "market-structure", "psychology", "scanning", "sentiment"}
#: ids the app links from its metrics and indicators (edu-format contract)
REQUIRED_IDS = """
sharpe-ratio sortino-ratio calmar-ratio cagr total-return volatility max-drawdown drawdown profit-factor
win-rate expectancy average-win average-loss r-multiple payoff-ratio equity cash buying-power margin
maintenance-margin realized-pnl unrealized-pnl day-pnl commission slippage spread bid ask last-price volume
market-order limit-order stop-order stop-limit-order trailing-stop bracket-order oco-order time-in-force
day-order gtc ioc fok short-selling position-sizing risk-reward candlestick heikin-ashi renko timeframe
support resistance trendline sma ema wma rsi macd bollinger-bands stochastic-oscillator atr adx obv vwap
ichimoku-cloud parabolic-sar cci williams-r mfi momentum rate-of-change keltner-channel donchian-channel
option call-option put-option strike-price expiration premium implied-volatility delta gamma theta vega rho
black-scholes american-option european-option intrinsic-value time-value open-interest covered-call
cash-secured-put vertical-spread iron-condor straddle strangle assignment exercise backtest walk-forward
overfitting out-of-sample parameter-optimization scan universe watchlist sentiment news-sentiment alert
paper-trading journal beta alpha correlation
""".split()
REQUIRED_COURSES = ("reading-a-chart", "orders-and-risk", "indicators-and-scanning")
LEVELS = {"beginner", "intermediate", "advanced"}
MATERIAL_KINDS = {"article", "video", "quiz", "exercise"}
#: exercise check kinds the app implements, with the params each one takes
CHECKS: dict[str, set[str]] = {
    "chart_timeframe": {"timeframe"},
    "chart_study": {"study", "period"},
    "chart_drawing": {"kind"},
    "bracket_order": {"symbol", "side", "stop_pct", "tolerance_pct"},
    "order_type": {"symbol", "type", "side"},
    "risk_sized_order": {"risk_dollars", "tolerance_pct"},
    "scan": {"universe", "reference"},
    "custom_indicator": set(),
    "journal_emotion": set(),
}
TIMEFRAMES = {"1m", "5m", "15m", "30m", "1h", "4h", "D", "W", "M"}
STUDIES = {"sma", "ema", "rsi", "macd", "bbands"}
DRAWINGS = {"horizontal_line", "trendline"}
ORDER_TYPES = {"market", "limit", "stop", "stop_limit", "trailing_stop", "bracket", "oco"}
#: custom indicators the articles define before using them by name
ARTICLE_CUSTOM = {"my_osc": "(close - sma(close, 20)) / atr(14)"}
#: placeholders the articles use for "any two series" (``crosses_above(a, b)``)
PLACEHOLDERS = {"a": "close", "b": "sma(close, 20)"}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def terms() -> list[dict[str, Any]]:
    data = _load(GLOSSARY)
    assert data["version"] == 1
    return list(data["terms"])


@pytest.fixture(scope="module")
def term_ids(terms: list[dict[str, Any]]) -> set[str]:
    return {t["id"] for t in terms}


@pytest.fixture(scope="module")
def courses() -> dict[str, dict[str, Any]]:
    found = {p.parent.name: _load(p) for p in sorted(COURSES.glob("*/course.json"))}
    assert found, "no course.json under resources/education/courses"
    return found


# ---------------------------------------------------------------- glossary
def test_glossary_has_at_least_200_unique_kebab_case_ids(terms: list[dict[str, Any]]) -> None:
    ids = [t["id"] for t in terms]
    assert len(ids) >= 200
    dup = [i for i, n in Counter(ids).items() if n > 1]
    assert dup == []
    assert [i for i in ids if not KEBAB.match(i)] == []
    names = Counter(t["term"].strip().lower() for t in terms)
    assert [n for n, c in names.items() if c > 1] == []


def test_glossary_has_every_id_the_app_links(term_ids: set[str]) -> None:
    assert len(REQUIRED_IDS) == len(set(REQUIRED_IDS)) == 114
    assert sorted(set(REQUIRED_IDS) - term_ids) == []


def test_glossary_entries_are_complete(terms: list[dict[str, Any]], term_ids: set[str]) -> None:
    for t in terms:
        assert set(t) == {"id", "term", "aliases", "category", "definition", "formula", "related"}, t["id"]
        assert t["term"].strip(), t["id"]
        assert t["category"] in CATEGORIES, t["id"]
        assert isinstance(t["aliases"], list) and all(isinstance(a, str) and a.strip() for a in t["aliases"]), t["id"]
        d = t["definition"].strip()
        assert len(d) >= 80, f"{t['id']}: definition too short"
        # 2–5 sentences (abbreviations and decimals do not end one)
        plain = re.sub(r"\b(?:e\.g|i\.e|vs|etc)\.", "x", d)
        plain = re.sub(r"(\d)\.(\d)", r"\1\2", plain)
        n = len([s for s in re.split(r"(?<=[.!?])\s+", plain) if s])
        assert 2 <= n <= 5, f"{t['id']}: {n} sentences"
        assert t["formula"] is None or (isinstance(t["formula"], str) and t["formula"].strip()), t["id"]
        assert t["related"], f"{t['id']}: no related terms"
        assert t["id"] not in t["related"], t["id"]
        assert len(set(t["related"])) == len(t["related"]), t["id"]
        assert sorted(set(t["related"]) - term_ids) == [], t["id"]


def test_glossary_aliases_are_unambiguous(terms: list[dict[str, Any]]) -> None:
    """A search for an alias finds one entry: no alias is shared, or another entry's name."""
    owner: dict[str, str] = {}
    for t in terms:
        owner[t["term"].lower()] = t["id"]
        owner[t["id"].replace("-", " ")] = t["id"]
    seen: dict[str, str] = {}
    for t in terms:
        for a in t["aliases"]:
            key = a.lower()
            assert owner.get(key, t["id"]) == t["id"], f"alias {a!r} of {t['id']} names {owner[key]}"
            assert seen.setdefault(key, t["id"]) == t["id"], f"alias {a!r} of {t['id']} and {seen[key]}"


def test_glossary_formulas_where_a_formula_exists(terms: list[dict[str, Any]]) -> None:
    by_id = {t["id"]: t for t in terms}
    for i in ("sharpe-ratio", "sortino-ratio", "calmar-ratio", "profit-factor", "rsi", "macd", "bollinger-bands",
              "atr", "black-scholes", "cagr", "max-drawdown", "expectancy", "r-multiple", "vwap", "stochastic-oscillator"):
        assert by_id[i]["formula"], i
    # the facts a trader acts on, written as they are computed
    assert "sqrt(252)" in by_id["sharpe-ratio"]["formula"]
    assert "gross profit / |gross loss|" in by_id["profit-factor"]["formula"]
    assert "Wilder" in by_id["rsi"]["formula"] and "100 - 100 / (1 + RS)" in by_id["rsi"]["formula"]
    assert "EMA(close, 12) - EMA(close, 26)" in by_id["macd"]["formula"]
    assert "(ATR_{t-1} * (n - 1) + TR_t) / n" in by_id["atr"]["formula"]


def test_glossary_categories_are_all_used(terms: list[dict[str, Any]]) -> None:
    assert {t["category"] for t in terms} == CATEGORIES


# ---------------------------------------------------------------- courses
def test_the_three_required_courses_exist(courses: dict[str, dict[str, Any]]) -> None:
    assert set(REQUIRED_COURSES) <= set(courses)


def _materials(course: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for s in course["sections"] for m in s["materials"]]


@pytest.mark.parametrize("cid", REQUIRED_COURSES)
def test_course_structure(cid: str, courses: dict[str, dict[str, Any]], term_ids: set[str]) -> None:
    c = courses[cid]
    assert c["id"] == cid and c["version"] >= 1
    assert c["title"].strip() and c["summary"].strip() and c["level"] in LEVELS
    assert isinstance(c["minutes"], int) and c["minutes"] > 0
    assert len(c["sections"]) >= 3
    assert len({s["id"] for s in c["sections"]}) == len(c["sections"])
    mats = _materials(c)
    ids = [m["id"] for m in mats]
    assert len(set(ids)) == len(ids), "material ids must be unique inside a course"
    assert all(KEBAB.match(i) for i in ids)
    kinds = Counter(m["kind"] for m in mats)
    assert set(kinds) <= MATERIAL_KINDS
    assert kinds["exercise"] >= 2 and kinds["quiz"] >= 1 and kinds["article"] >= 3
    for s in c["sections"]:
        assert s["title"].strip() and s["materials"], s["id"]
        assert any(m["kind"] == "article" for m in s["materials"]), s["id"]
    for m in mats:
        assert m["title"].strip(), m["id"]
        if m["kind"] == "article":
            assert sorted(set(m["terms"]) - term_ids) == [], m["id"]
            assert isinstance(m["minutes"], int) and m["minutes"] > 0
        if m["kind"] == "video":
            assert m["url"].startswith("https://"), m["id"]


@pytest.mark.parametrize("cid", REQUIRED_COURSES)
def test_article_files_exist_and_are_all_used(cid: str, courses: dict[str, dict[str, Any]]) -> None:
    folder = COURSES / cid
    files = {m["file"] for m in _materials(courses[cid]) if m["kind"] == "article"}
    for f in files:
        path = (folder / f).resolve()
        assert path.parent == folder.resolve(), f"{f} must sit in the course folder"
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), f"{f}: starts with its title"
        assert len(text.split()) >= 250, f"{f}: too short to teach"
    assert {p.name for p in folder.glob("*.md")} == files, "every markdown file is an article of the course"


@pytest.mark.parametrize("cid", REQUIRED_COURSES)
def test_quiz_rules(cid: str, courses: dict[str, dict[str, Any]]) -> None:
    quizzes = [m for m in _materials(courses[cid]) if m["kind"] == "quiz"]
    kinds: Counter[str] = Counter()
    for qz in quizzes:
        assert 0 < qz["pass_mark"] <= 1, qz["id"]
        assert len(qz["questions"]) >= 3, qz["id"]
        assert len({q["id"] for q in qz["questions"]}) == len(qz["questions"]), qz["id"]
        for q in qz["questions"]:
            where = f"{qz['id']}/{q['id']}"
            kinds[q["kind"]] += 1
            assert q["kind"] in {"single", "multiple"}, where
            assert q["text"].strip(), where
            ch = q["choices"]
            assert len(ch) >= 2, where
            assert len({c["id"] for c in ch}) == len(ch), where
            assert len({c["text"] for c in ch}) == len(ch), where
            right = sum(1 for c in ch if c["correct"] is True)
            assert all(isinstance(c["correct"], bool) for c in ch), where
            assert right >= 1, where
            if q["kind"] == "single":
                assert right == 1, where
            else:
                assert "select all that apply" in q["text"], where
            for c in ch:
                assert c["text"].strip() and len(c["explanation"].strip()) >= 10, f"{where}/{c['id']}"
    assert kinds["single"] >= 1 and kinds["multiple"] >= 1


def test_exercises_use_known_checks_with_sensible_params(courses: dict[str, dict[str, Any]]) -> None:
    demo = set(demo_symbols())
    seen: set[str] = set()
    for c in courses.values():
        for m in _materials(c):
            if m["kind"] != "exercise":
                continue
            where = f"{c['id']}/{m['id']}"
            assert m["instructions"].strip(), where
            assert m["check"] in CHECKS, where
            p = m["params"]
            assert set(p) == CHECKS[m["check"]], where
            seen.add(m["check"])
            if "symbol" in p:
                assert p["symbol"] in demo, where
            if "side" in p:
                assert p["side"] in {"buy", "sell"}, where
            if m["check"] == "chart_timeframe":
                assert p["timeframe"] in TIMEFRAMES, where
            if m["check"] == "chart_study":
                assert p["study"] in STUDIES and isinstance(p["period"], int) and p["period"] > 0, where
            if m["check"] == "chart_drawing":
                assert p["kind"] in DRAWINGS, where
            if m["check"] == "order_type":
                assert p["type"] in ORDER_TYPES, where
            if m["check"] == "bracket_order":
                assert 0 < p["tolerance_pct"] < p["stop_pct"] / 2, where  # 1 % must not pass for 2 %
            if m["check"] == "risk_sized_order":
                assert p["risk_dollars"] > 0 and 0 < p["tolerance_pct"] <= 10, where
            if m["check"] == "scan":
                assert p["universe"] == "demo", where
                parse(p["reference"])
    # the four examples are all exercised
    assert {"bracket_order", "scan", "chart_study", "journal_emotion"} <= seen


# ---------------------------------------------------------------- what the articles tell the user to type
_SPAN = re.compile(r"```[a-z]*\n(.*?)```|`([^`]+)`", re.S)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _formula_snippets(text: str) -> list[str]:
    """Code spans and blocks written in the formula language: they start (after any opening
    brackets) with one of its functions, fields or the articles' custom indicators and hold
    a call; pseudo-maths such as ``MACD line = …`` starts otherwise. Placeholder arguments
    (``crosses_above(a, b)``) are given as the series they stand for."""
    out = []
    for m in _SPAN.finditer(text):
        snippet = " ".join((m.group(1) or m.group(2) or "").split())
        first = _NAME.match(snippet.lstrip("( "))
        if not first or "(" not in snippet:
            continue
        if first.group(0) in FUNCTIONS or first.group(0) in FIELDS or first.group(0) in ARTICLE_CUSTOM:
            out.append(snippet)
    return out


def test_every_formula_in_the_articles_parses_in_the_app() -> None:
    checked = 0
    for md in sorted(COURSES.glob("*/*.md")):
        for snippet in _formula_snippets(md.read_text(encoding="utf-8")):
            try:
                parse(snippet, custom={**ARTICLE_CUSTOM, **PLACEHOLDERS})
            except FormulaError as exc:  # pragma: no cover - the message is the failure
                pytest.fail(f"{md.parent.name}/{md.name}: `{snippet}` does not parse: {exc}")
            checked += 1
    assert checked >= 20


def test_a_scan_exercise_has_matches_on_the_demo_universe(courses: dict[str, dict[str, Any]]) -> None:
    """An empty reference result would equal any scan that finds nothing; at least one scan
    exercise must have real matches on the (fixed) demo data, found by the app's scanner."""
    from engine.data.demo import DemoProvider
    from engine.scanner.filters import ScanDefinition
    from engine.scanner.scanner import Scanner
    from engine.scanner.universe import Universe

    provider = DemoProvider()
    scanner = Scanner(lambda symbol, tf: provider.fetch(symbol, tf))
    universe = Universe("Demo universe", tuple(demo_symbols()), "demo")
    refs = sorted({m["params"]["reference"] for c in courses.values() for m in _materials(c)
                   if m["kind"] == "exercise" and m["check"] == "scan"})
    matches = {}
    for ref in refs:
        run = scanner.run(ScanDefinition("exercise", ref, (), "1d", 300, ""), universe, record=False)
        while True:
            try:
                next(run)
            except StopIteration as done:
                matches[ref] = [row.symbol for row in done.value.rows]
                break
    assert any(0 < len(m) < len(universe.symbols) for m in matches.values()), matches


# ---------------------------------------------------------------- numbers the content teaches, as the engine computes them
def _choice(courses: dict[str, dict[str, Any]], cid: str, quiz: str, qid: str) -> str:
    [qz] = [m for m in _materials(courses[cid]) if m["id"] == quiz]
    [q] = [q for q in qz["questions"] if q["id"] == qid]
    [right] = [c["text"] for c in q["choices"] if c["correct"]]
    return str(right)


def test_taught_commission_and_sizing_are_the_paper_brokers(courses: dict[str, dict[str, Any]]) -> None:
    from decimal import Decimal

    from engine.paper.fills import DEFAULT_COMMISSION
    from engine.paper.risk import size_for_risk

    # "What is the commission of a 100-share order on a new paper account?" (a $115 stock)
    fee = DEFAULT_COMMISSION.fee(100, Decimal("115.00"))
    assert _choice(courses, "orders-and-risk", "costs-quiz", "q1") == f"${fee}"
    # position-sizing.md: $500 risk, entry 115.00, stop 112.70 -> 217 shares before, 216 with commissions
    text = (COURSES / "orders-and-risk" / "position-sizing.md").read_text(encoding="utf-8")
    assert size_for_risk("buy", Decimal("115.00"), Decimal("112.70"), Decimal("500")) == 217
    with_fees = size_for_risk("buy", Decimal("115.00"), Decimal("112.70"), Decimal("500"),
                              fee=lambda q, p: DEFAULT_COMMISSION.fee(q, p))
    assert with_fees == 216 and "**216** shares" in text and "to 217" in text
    # sizing quiz: $300 risk, entry 60, stop 57.50
    assert _choice(courses, "orders-and-risk", "sizing-quiz", "q1") == str(
        size_for_risk("buy", Decimal("60"), Decimal("57.50"), Decimal("300")))


def test_taught_rsi_arithmetic_is_the_indicators() -> None:
    import numpy as np

    from engine.indicators import rsi

    # RS = 1.5 / 0.5 = 3 -> RSI 75 (rsi-quiz q3): 14 alternating changes with those averages
    # seed a Wilder average of gains 1.5 and losses 0.5; TA-Lib's first RSI value is then 75
    changes = np.array([3.0, -1.0] * 7)
    close = np.concatenate([[100.0], 100.0 + np.cumsum(changes)])
    assert float(rsi(close, 14)[14]) == pytest.approx(75.0)
