"""The one error type of the formula language."""
from __future__ import annotations


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
