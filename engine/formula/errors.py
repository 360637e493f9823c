"""The one error type of the formula language, and how its messages show long chains."""
from __future__ import annotations

from collections.abc import Sequence


class FormulaError(ValueError):
    """A formula cannot be parsed or used.

    ``column`` is 1-based (the first character of the formula is column 1); ``message``
    says what is wrong without the position; ``suggestion`` is a close known name, if any.
    ``str(error)`` reads like ``unknown function 'rsii' at column 1 — did you mean 'rsi'?``.
    """

    def __init__(self, message: str, column: int, suggestion: str | None = None, text: str = "") -> None:
        self.message = message
        self.column = int(column)
        self.suggestion = suggestion
        self.text = text
        full = f"{message} at column {self.column}"
        if suggestion:
            full += f" — did you mean '{suggestion}'?"
        super().__init__(full)

    def caret(self) -> str:
        """The formula with a ``^`` under the offending column (two lines), for terminals."""
        if not self.text:
            return str(self)
        return f"{self.text}\n{' ' * max(self.column - 1, 0)}^"


def summarise_chain(names: Sequence[str], sep: str = " → ", head: int = 4) -> str:
    """``names`` joined by ``sep``, shortened when long: the first ``head`` names,
    ``… (N more)`` and the last one (``a → b → c → d → … (45 more) → a``).

    For messages that name a custom-indicator cycle, a nesting path or a list of users.
    """
    items = [str(n) for n in names]
    if len(items) <= head + 2:
        return sep.join(items)
    hidden = len(items) - head - 1
    return sep.join([*items[:head], f"… ({hidden} more)", items[-1]])
