"""The formula language: one small, safe expression language for custom indicators,
scanner filters, alerts, chart overlays and strategy rules.

Quick reference (see ``engine.formula.functions`` for every function and default)::

    close > sma(close, 50) and rsi(close) < 30          # rsi(close) = rsi(close, 14)
    crosses_above(macd(close), macd_signal(close))
    volume > 2 * sma(volume, 20)
    (close - sma(close, 20)) / atr(14)                   # saved as a custom indicator ...
    my_osc > 1                                           # ... and used by name

Fields ``open high low close volume``; numbers; ``+ - * / **``; comparisons
``< <= > >= == !=``; ``and or not``; parentheses; ``true``/``false``.

API::

    f = parse(text, custom={"my_osc": "..."})   # -> Formula (raises FormulaError)
    f.evaluate(bars)             # 1-D over a Bars
    f.evaluate_panel(panel)      # symbols × time
    f.evaluate_last(panel)       # symbols × 1, only what the last bar needs
    evaluate(text, bars, custom=None)
"""
from engine.formula.compute import Evaluator
from engine.formula.errors import FormulaError
from engine.formula.formula import Formula, evaluate, parse, parse_many
from engine.formula.functions import FIELDS, FUNCTIONS, RESERVED
from engine.formula.panel import Panel
from engine.formula.service import CustomIndicator, CustomIndicatorStore, FormulaService, validate

__all__ = [
    "FIELDS",
    "FUNCTIONS",
    "RESERVED",
    "CustomIndicator",
    "CustomIndicatorStore",
    "Evaluator",
    "Formula",
    "FormulaError",
    "FormulaService",
    "Panel",
    "evaluate",
    "parse",
    "parse_many",
    "validate",
]
