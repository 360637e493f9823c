"""Paper broker and backtester: one engine for live paper trading and backtests.

* ``orders``: requests, the order state machine (``Order.apply`` + ``TRANSITIONS``), fills.
* ``fills``: the fill rules (see its docstring, also in the README), slippage and commissions.
* ``ledger``: cash and positions rebuilt from fills (exact ``Decimal``).
* ``account``: ``PaperAccount`` — matching, OCO/bracket, buying power; used by both modes.
* ``broker``: ``PaperBroker`` — the service widgets receive (persistent, publishes events).
* ``errors``: ``PaperError`` and its kinds — every refusal of the public API.
* ``feed``: ``QuoteFeed`` with ``DelayedQuotes`` / ``DemoQuotes`` sources.
* ``backtest``: ``run_backtest`` of a ``RuleStrategy`` over ``Bars``.
"""
from typing import TYPE_CHECKING, Any

from engine.paper.account import AccountKind, AccountSummary, PaperAccount
from engine.paper.broker import PaperBroker, bar_from
from engine.paper.errors import (
    AccountExists,
    InvalidMarketData,
    InvalidOrder,
    InvalidValue,
    OrderNotFound,
    OrderNotWorking,
    PaperError,
    Quarantined,
    UnknownAccount,
)
from engine.paper.events import AccountChanged, FillOccurred, OrderUpdated, PaperEvent, PositionChanged
from engine.paper.feed import DelayedQuotes, DemoQuotes, QuoteFeed
from engine.paper.fills import FillConfig, parse_commission, parse_slippage
from engine.paper.ledger import PositionView
from engine.paper.orders import (
    Bar,
    DuplicateFill,
    Fill,
    IllegalTransition,
    OrderRequest,
    OrderState,
    OrderType,
    OrderView,
    Quote,
    Side,
    TimeInForce,
)

if TYPE_CHECKING:
    from engine.paper.backtest import (
        BacktestResult,
        FixedQty,
        PercentEquity,
        RiskPerTrade,
        RuleStrategy,
        Trade,
        run_backtest,
    )

#: Imported on first use: the workstation's start-up needs the broker, not the backtester.
_BACKTEST = frozenset({"BacktestResult", "FixedQty", "PercentEquity", "RiskPerTrade", "RuleStrategy", "Trade",
                       "run_backtest"})


def __getattr__(name: str) -> Any:
    if name in _BACKTEST:
        from engine.paper import backtest

        return getattr(backtest, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AccountChanged", "AccountExists", "AccountKind", "AccountSummary", "BacktestResult", "Bar",
    "DelayedQuotes", "DemoQuotes", "DuplicateFill", "Fill", "FillConfig", "FillOccurred",
    "FixedQty", "IllegalTransition", "InvalidMarketData", "InvalidOrder", "InvalidValue", "OrderNotFound", "OrderNotWorking", "OrderRequest",
    "OrderState", "OrderType", "OrderUpdated", "OrderView", "PaperAccount", "PaperBroker",
    "PaperError", "PaperEvent", "PercentEquity", "PositionChanged", "PositionView", "Quarantined", "Quote",
    "QuoteFeed",
    "RiskPerTrade", "RuleStrategy", "Side", "TimeInForce", "Trade", "UnknownAccount", "bar_from",
    "parse_commission", "parse_slippage", "run_backtest",
]
