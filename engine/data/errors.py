"""Errors of the data layer, each with a message a user can act on.

All derive from ``DataError`` (a ``ValueError``), so the CLI prints them without a
traceback and widgets can show them as they are.
"""
from __future__ import annotations


class DataError(ValueError):
    """Market data could not be read, fetched or found; the message says why."""


class CsvFormatError(DataError):
    """A CSV file cannot be imported.

    ``problems`` lists ``(line, message)`` pairs, ``line`` being the 1-based line number
    in the file (0 when the problem concerns the whole file; for a DataFrame import
    ``unit`` is "row" and the number is the 1-based row). The message shows the
    first few problems and how many there are in all.
    """

    MAX_SHOWN = 8

    def __init__(self, source: str, problems: list[tuple[int, str]], unit: str = "line",
                 notes: tuple[str, ...] = ()) -> None:
        self.source = source
        self.unit = unit
        #: what the reader recognised before it failed (e.g. a header one column short)
        self.notes = tuple(notes)
        self.problems = sorted(problems, key=lambda p: p[0])
        shown = [
            (f"{unit} {line}: {msg}" if line > 0 else msg)
            for line, msg in self.problems[: self.MAX_SHOWN]
        ]
        more = len(self.problems) - len(shown)
        tail = f"\n  ... and {more} more problem{'s' if more != 1 else ''}" if more > 0 else ""
        n = len(self.problems)
        #: one sentence without the list, e.g. "BAD.csv cannot be imported (5 problems; nothing was changed)."
        self.summary = f"{source} cannot be imported ({n} problem{'s' if n != 1 else ''}; nothing was changed)."
        super().__init__(
            f"{source} cannot be imported ({n} problem{'s' if n != 1 else ''}; nothing was changed):\n  "
            + "\n  ".join(shown)
            + tail
        )


class ProviderError(DataError):
    """A data provider failed to deliver bars."""


class NoNetworkError(ProviderError):
    """The provider cannot be reached (no internet, DNS failure, connection refused)."""

    def __init__(self, provider: str, detail: str = "") -> None:
        self.detail = detail
        super().__init__(
            f"{provider} cannot be reached: no network connection"
            + (f" ({detail})" if detail else "")
            + ". Check your internet connection, or use demo data or a CSV import while offline."
        )


class UnknownSymbolError(ProviderError):
    """The provider does not know the symbol."""

    def __init__(self, provider: str, symbol: str, detail: str = "") -> None:
        self.symbol = symbol
        self.detail = detail
        super().__init__(
            f"{provider} has no data for symbol {symbol!r}"
            + (f" ({detail})" if detail else "")
            + ". Check the spelling (e.g. 'BRK-B', '^GSPC', 'SAP.DE')."
        )


class EmptyResponseError(ProviderError):
    """The provider answered with no bars and no reason."""

    def __init__(self, provider: str, symbol: str, detail: str = "") -> None:
        self.symbol = symbol
        self.detail = detail
        super().__init__(
            f"{provider} returned no bars for {symbol}"
            + (f" ({detail})" if detail else "")
            + ". The service may be down or the date range empty; try again later."
        )


class RateLimitedError(ProviderError):
    """The provider refused because of too many requests (after our own retries)."""

    def __init__(self, provider: str, attempts: int = 1) -> None:
        self.attempts = attempts
        super().__init__(
            f"{provider} is rate limiting requests (gave up after {attempts} attempt"
            f"{'s' if attempts != 1 else ''}). Wait a few minutes and refresh again."
        )
