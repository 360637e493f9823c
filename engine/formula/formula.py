"""``parse`` text into a reusable ``Formula``; evaluate it on ``Bars`` or a ``Panel``."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.data.bars import Bars
from engine.formula.compute import Evaluator
from engine.formula.errors import FormulaError
from engine.formula.panel import Panel
from engine.formula.parser import Builder, Node, Parser

MAX_CANONICAL = 100_000  # characters of Formula.canonical(); 10 × the longest formula text


@dataclass(frozen=True, slots=True, eq=False)
class Formula:
    """A parsed, validated formula: immutable, reusable, safe to share between threads.

    ``is_boolean`` says whether it yields true/false (a filter) or numbers (an indicator);
    ``lookback`` is how many bars of warm-up its indicators need before the first value
    (TA-Lib's lookback, summed along nested calls); ``custom`` the custom indicators it
    uses (directly or through others).
    """

    text: str
    root: Node
    custom: frozenset[str]

    @property
    def is_boolean(self) -> bool:
        return self.root.is_bool

    @property
    def lookback(self) -> int:
        return self.root.lookback

    def canonical(self) -> str:
        """The formula fully parenthesised with defaults filled in (custom names expanded).

        Raises ``FormulaError`` when that text would exceed ``MAX_CANONICAL`` characters:
        custom indicators that each use the previous one twice double the expanded text per
        level (31 levels: billions of characters), although parsing and evaluation share
        the repeated parts and stay fast.
        """
        try:
            return self.root.to_text(limit=MAX_CANONICAL)
        except ValueError as exc:
            raise FormulaError(f"the formula cannot be written out in full: {exc}, because its custom "
                               "indicators repeat each other", 1, text=self.text) from None

    def evaluate(self, bars: Bars) -> np.ndarray:
        """Values for every bar of ``bars`` (1-D, len(bars)): bool for a boolean formula, else float64 (NaN during warm-up).

        Raises ``ImportError`` only if ``engine.indicators`` is missing.
        """
        out: np.ndarray = Evaluator(Panel.from_single(bars)).array(self.root)[0]
        return out

    def evaluate_panel(self, panel: Panel, evaluator: Evaluator | None = None) -> np.ndarray:
        """Values for every symbol and bar of ``panel`` (symbols × time)."""
        ev = evaluator if evaluator is not None else Evaluator(panel)
        return ev.array(self.root)

    def evaluate_last(self, panel: Panel, k: int = 1, evaluator: Evaluator | None = None) -> np.ndarray:
        """Only the last ``k`` bars of every symbol (symbols × k), computing only what they need.

        Equals ``evaluate_panel(panel)[:, -k:]`` up to floating-point rounding (tested).
        """
        ev = evaluator if evaluator is not None else Evaluator(panel)
        return ev.last(self.root, k)


def parse(text: str, custom: Mapping[str, str] | None = None) -> Formula:
    """Parse and validate ``text`` into a ``Formula``.

    ``custom`` maps custom indicator names to their formula text; they may be used by name
    (and may use each other). Raises ``FormulaError`` (with ``column`` and a suggestion
    where one helps) for anything that is not a valid formula.
    """
    return parse_many([text], custom)[0]


def parse_many(texts: Sequence[str], custom: Mapping[str, str] | None = None) -> list[Formula]:
    """Parse several formulas sharing one node table, so one ``Evaluator`` computes their
    common sub-expressions once (a scan's filter and its columns). Raises ``FormulaError``."""
    builder = Builder()
    shared: dict[str, Node] = {}
    out = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"a formula must be text, not {type(text).__name__}")
        p = Parser(text, custom, builder, custom_nodes=shared)
        try:
            root = p.parse()
        except RecursionError:  # the nesting limits should make this unreachable; never crash
            raise FormulaError("formula is nested too deeply", 1, text=text) from None
        out.append(Formula(text, root, frozenset(p.used_custom)))
    return out


def evaluate(text: str, bars: Bars, custom: Mapping[str, str] | None = None) -> np.ndarray:
    """Parse ``text`` and evaluate it on ``bars`` (see ``Formula.evaluate``). Raises ``FormulaError``."""
    return parse(text, custom).evaluate(bars)
