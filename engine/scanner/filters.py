"""The scan filter model: condition rows grouped with AND/OR (nested), or a free formula.

Every filter compiles to one formula string (``compile_filter``), so the scanner, the
alert engine and a user reading the preset all see the same thing. Definitions serialise
to JSON (``ScanDefinition.to_json`` / ``from_json``) for the ``scan_presets`` table.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from engine.formula import Formula, FormulaError, parse

#: operators a condition row offers; the last two compile to crosses_above/crosses_below
OPERATORS = ("<", "<=", ">", ">=", "==", "!=", "crosses_above", "crosses_below")


@dataclass(frozen=True, slots=True)
class Condition:
    """``left op right``: ``left`` a formula (``rsi(close, 14)``), ``right`` a formula or a number."""

    left: str
    op: str
    right: str | float

    def to_formula(self) -> str:
        """The condition as formula text. Raises ``FormulaError`` for an unknown operator or empty side."""
        if self.op not in OPERATORS:
            raise FormulaError(f"unknown operator '{self.op}' in a condition (use one of {', '.join(OPERATORS)})", 1)
        left = self.left.strip()
        right = _operand(self.right)
        if not left or not right:
            raise FormulaError("a condition needs a value on both sides", 1)
        if self.op in ("crosses_above", "crosses_below"):
            return f"{self.op}({left}, {right})"
        return f"({left}) {self.op} ({right})"

    def to_dict(self) -> dict[str, Any]:
        return {"left": self.left, "op": self.op, "right": self.right}


def _operand(v: str | float) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            raise FormulaError(f"{v} is not a usable number in a condition", 1)
        return repr(float(v)) if not float(v).is_integer() else str(int(v))
    return str(v).strip()


@dataclass(frozen=True, slots=True)
class Group:
    """Conditions and nested groups joined by ``mode`` ("and" or "or")."""

    mode: str = "and"
    items: tuple[Union[Condition, "Group"], ...] = ()

    def to_formula(self) -> str:
        """The group as formula text. Raises ``FormulaError`` for an empty group or bad mode."""
        if self.mode not in ("and", "or"):
            raise FormulaError(f"a group joins with 'and' or 'or', not '{self.mode}'", 1)
        if not self.items:
            raise FormulaError("an empty group has no conditions", 1)
        parts = [i.to_formula() for i in self.items]
        return parts[0] if len(parts) == 1 else "(" + f" {self.mode} ".join(f"({p})" for p in parts) + ")"

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "items": [i.to_dict() for i in self.items]}


Filter = Union[Condition, Group, str]


def compile_filter(f: Filter) -> str:
    """Formula text of a filter (a free formula is returned as written)."""
    if isinstance(f, str):
        return f.strip()
    return f.to_formula()


def _filter_from(d: Any) -> Filter:
    if isinstance(d, str):
        return d
    if isinstance(d, Mapping) and "items" in d:
        return Group(str(d.get("mode", "and")), tuple(_filter_from(i) for i in d["items"]))  # type: ignore[misc]
    if isinstance(d, Mapping) and "left" in d:
        return Condition(str(d["left"]), str(d["op"]), d["right"])
    raise ValueError(f"not a filter: {d!r}")


DEFAULT_COLUMNS: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanDefinition:
    """What to scan for: a filter, extra expression columns, the timeframe and history length.

    ``lookback`` is how many bars per symbol go into the panel (recursive indicators like
    RSI/EMA depend on history; the scanner takes at least what the formula's warm-up needs).
    """

    name: str
    filter: Filter
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    timeframe: str = "1d"
    lookback: int = 300
    description: str = ""
    builtin: bool = field(default=False, compare=False)

    @property
    def formula_text(self) -> str:
        return compile_filter(self.filter)

    def compile(self, custom: Mapping[str, str] | None = None) -> Formula:
        """The filter parsed (raises ``FormulaError``; a numeric formula is refused: a filter
        must be true/false)."""
        text = self.formula_text
        f = parse(text, custom)
        if not f.is_boolean:
            raise FormulaError("a scan filter must be a condition (true/false), e.g. 'rsi(close) < 30'; "
                               "this formula gives numbers", 1, text=text)
        return f

    def key(self) -> str:
        """Identity used for "difference from the previous run": the preset name, else the formula."""
        return self.name or self.formula_text

    def to_json(self) -> str:
        f = self.filter
        return json.dumps({
            "name": self.name, "filter": f if isinstance(f, str) else f.to_dict(), "columns": list(self.columns),
            "timeframe": self.timeframe, "lookback": self.lookback, "description": self.description,
        })

    @classmethod
    def from_json(cls, text: str, builtin: bool = False) -> ScanDefinition:
        """Raises ``ValueError`` for JSON that is not a scan definition."""
        d = json.loads(text)
        return cls(
            name=str(d.get("name", "")), filter=_filter_from(d["filter"]),
            columns=tuple(str(c) for c in d.get("columns", ())), timeframe=str(d.get("timeframe", "1d")),
            lookback=int(d.get("lookback", 300)), description=str(d.get("description", "")), builtin=builtin,
        )


def _preset(name: str, formula: str, description: str, columns: tuple[str, ...] = (), lookback: int = 300
            ) -> ScanDefinition:
    return ScanDefinition(name, formula, columns, "1d", lookback, description, builtin=True)


#: The built-in presets (daily bars). Users may edit and "save as"; these cannot be deleted.
BUILTIN_PRESETS: tuple[ScanDefinition, ...] = (
    _preset("Oversold RSI", "rsi(close, 14) < 30", "RSI(14) below 30", ("rsi(close, 14)",)),
    _preset("New 52-week high", "high >= highest(high, 252)",
            "today's high is the highest high of the last 252 bars (this one included)",
            ("highest(high, 252)",), lookback=300),
    _preset("Volume spike", "volume > 2 * sma(volume, 20)", "volume above twice its 20-bar average",
            ("volume / sma(volume, 20)",)),
    _preset("Golden cross", "crosses_above(sma(close, 50), sma(close, 200))",
            "the 50-bar SMA crossed above the 200-bar SMA on the last bar", ("sma(close, 50)", "sma(close, 200)"),
            lookback=400),
    _preset("Death cross", "crosses_below(sma(close, 50), sma(close, 200))",
            "the 50-bar SMA crossed below the 200-bar SMA on the last bar", ("sma(close, 50)", "sma(close, 200)"),
            lookback=400),
    _preset("Gap up", "open >= shift(close, 1) * 1.02", "opened at least 2% above the previous close",
            ("change_pct(open, 1)",)),
    _preset("Gap down", "open <= shift(close, 1) * 0.98", "opened at least 2% below the previous close",
            ("change_pct(open, 1)",)),
    _preset("MACD cross (bullish)", "crosses_above(macd(close, 12, 26, 9), macd_signal(close, 12, 26, 9))",
            "the MACD line crossed above its signal line on the last bar", ("macd_hist(close, 12, 26, 9)",)),
    _preset("Bollinger squeeze",
            "(bb_upper(close, 20, 2) - bb_lower(close, 20, 2)) / bb_mid(close, 20, 2) <= "
            "lowest((bb_upper(close, 20, 2) - bb_lower(close, 20, 2)) / bb_mid(close, 20, 2), 120)",
            "Bollinger band width (20, 2) at its lowest of the last 120 bars",
            ("(bb_upper(close, 20, 2) - bb_lower(close, 20, 2)) / bb_mid(close, 20, 2)",)),
    _preset("Unusual range", "(high - low) > 2 * atr(14)", "today's range is more than twice the 14-bar ATR",
            ("(high - low) / atr(14)",)),
)
