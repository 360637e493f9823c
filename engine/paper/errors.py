"""The errors of the paper broker: every refusal of the public API is a ``PaperError``.

A ``PaperError`` is a ``ValueError`` whose message is one sentence meant for the user (the
CLI prints it after ``error:``, the order ticket shows it). A call that raises one has
changed nothing: nothing was written to the store and no event was published.

* ``InvalidValue``: an argument is not a usable number, text or choice (a NaN or infinite
  price, a price or quantity out of range, a string that names no order type, ...).
* ``InvalidOrder``: an order request or an order change has an invalid value.
* ``InvalidMarketData``: a bar or a quote the broker refuses (open ≤ 0, high < low,
  bid > ask, non-finite values).
* ``AccountExists``, ``UnknownAccount``, ``OrderNotFound``, ``OrderNotWorking``: the named
  account or order is not in the state the call needs (the last three keep their historic
  ``KeyError``/``ValueError`` bases so existing ``except`` clauses still catch them).
"""
from __future__ import annotations

from dataclasses import dataclass


class PaperError(ValueError):
    """Base of every refusal of the paper broker's public API (one-sentence message)."""


class InvalidValue(PaperError):
    """An argument is not a usable number, text or choice."""


class InvalidOrder(InvalidValue):
    """An order request or order change carries an invalid value."""


class InvalidMarketData(InvalidValue):
    """A bar or quote the broker will not match against."""


class AccountExists(PaperError):
    """An account of that name exists already."""


class UnknownAccount(PaperError, KeyError):
    """No paper account of that name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown account"


class OrderNotFound(PaperError, KeyError):
    """No order with that id in this account."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "order not found"


class OrderNotWorking(PaperError):
    """The order is already filled, cancelled, rejected or expired."""


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Something of the store that could not be rebuilt and was left out when it opened.

    ``order_id`` is None when the whole account was left out. ``fills`` is how many fills
    of that order (or account) were left out of the ledger with it. ``reason`` says why.
    """

    account: str
    order_id: str | None
    reason: str
    fills: int = 0

    def describe(self) -> str:
        """One sentence for the log and the user's notification."""
        what = f"order {self.order_id} of paper account {self.account!r}" if self.order_id \
            else f"paper account {self.account!r}"
        extra = f" (with {self.fills} fill{'s' if self.fills != 1 else ''})" if self.fills else ""
        return f"{what}{extra} was left out because its stored history is unreadable: {self.reason}"


__all__ = [
    "AccountExists", "InvalidMarketData", "InvalidOrder", "InvalidValue", "OrderNotFound",
    "OrderNotWorking", "PaperError", "Quarantined", "UnknownAccount",
]
