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

if TYPE_CHECKING:
    from engine.paper.account import AccountKind, AccountSummary, PaperAccount
    from engine.paper.backtest import (
        BacktestResult,
        FixedQty,
        PercentEquity,
        RiskPerTrade,
        RuleStrategy,
        Trade,
        run_backtest,
    )
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

#: Every name is imported on first use (PEP 562): importing one submodule (the ticket's
#: ``engine.paper.ticket``, the journal's ``engine.paper.events``) must not load the whole
#: broker, matching engine and backtester before the workstation's first frame (issue 8).
_LAZY = {
    "engine.paper.account": ("AccountKind", "AccountSummary", "PaperAccount"),
    "engine.paper.backtest": ("BacktestResult", "FixedQty", "PercentEquity", "RiskPerTrade", "RuleStrategy",
                              "Trade", "run_backtest"),
    "engine.paper.broker": ("PaperBroker", "bar_from"),
    "engine.paper.errors": ("AccountExists", "InvalidMarketData", "InvalidOrder", "InvalidValue", "OrderNotFound",
                            "OrderNotWorking", "PaperError", "Quarantined", "UnknownAccount"),
    "engine.paper.events": ("AccountChanged", "FillOccurred", "OrderUpdated", "PaperEvent", "PositionChanged"),
    "engine.paper.feed": ("DelayedQuotes", "DemoQuotes", "QuoteFeed"),
    "engine.paper.fills": ("FillConfig", "parse_commission", "parse_slippage"),
    "engine.paper.ledger": ("PositionView",),
    "engine.paper.orders": ("Bar", "DuplicateFill", "Fill", "IllegalTransition", "OrderRequest", "OrderState",
                            "OrderType", "OrderView", "Quote", "Side", "TimeInForce"),
}
_HOME = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


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
