"""The paper-trading feature: the broker, the paper session and its Qt adapter, the ticket and blotters.
CLI: ``stockscanner backtest`` and ``stockscanner paper`` (``app/paper_cli.py``). The docks' content comes from ``app/trading.py``."""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec, SettingKey, legacy_cli_adder

if TYPE_CHECKING:
    from decimal import Decimal

    from PySide6.QtWidgets import QWidget

    from app.context import AppContext


#: the order ticket's dock id (``app/trading.py`` hands the session to tickets built before it)
TICKET_DOCK = "order_ticket"


def _notional_problem(value: float) -> str | None:
    if not value == value or value < 0 or value > 1e12:  # NaN, negative, absurd
        return f"{value!r} is not an amount of dollars (0 or more; 0 = confirm every order)"
    return None


def _distance_problem(value: float) -> str | None:
    from decimal import Decimal

    from engine.paper.checks import max_distance

    if not value == value or value in (float("inf"), float("-inf")):
        return f"{value!r} is not a percent"
    try:
        max_distance(Decimal(repr(value)))
    except ValueError as exc:
        return str(exc)
    return None


def max_distance_setting(settings: Any) -> "Decimal":
    """The ``trading/max_distance_pct`` setting as the engine's exact percent."""
    from decimal import Decimal

    from engine.paper.checks import DEFAULT_MAX_DISTANCE_PCT, max_distance

    try:
        return max_distance(Decimal(repr(float(settings.get(MAX_DISTANCE_KEY)))))
    except (TypeError, ValueError, ArithmeticError):
        return DEFAULT_MAX_DISTANCE_PCT


def _apply_distance(ctx: "AppContext", _value: Any) -> None:
    """A new distance takes effect on the next order (the session, if it runs already)."""
    from engine.paper.session import PaperSession

    if ctx.has_service(PaperSession):
        ctx.service(PaperSession).max_distance_pct = max_distance_setting(ctx.settings)


def paper_quote_source(ctx: "AppContext", shares: Any) -> Any:
    """The paper session's quotes: ``shares`` for tickers; option contracts (OCC symbols) from
    the options feature's chains (``ChainService``: demo, or the cached delayed Yahoo chain),
    see ``engine.paper.option_quotes``. Without the options feature: ``shares`` alone."""
    from engine.paper.option_quotes import OptionQuotes

    try:
        from engine.options.yahoo import ChainService

        chains = ctx.service(ChainService)
    except LookupError:
        return shares
    return OptionQuotes(shares, lambda root: chains.get(root).chain)


MAX_DISTANCE_KEY = "trading/max_distance_pct"

#: order confirmation and hotkey trading (the ticket reads them: ``widgets/order_ticket.py``),
#: and how far from the market a price may be before the engine asks (``PaperSession``)
SETTINGS = (
    SettingKey("trading/confirm_orders", bool, True,
               "show a summary to confirm before an order above trading/confirm_above is sent"),
    SettingKey("trading/confirm_above", float, 5000.0,
               "orders above this value in dollars are confirmed (0 = every order)", validator=_notional_problem),
    SettingKey("trading/hotkeys", bool, False,
               "hotkey trading: Shift+B / Shift+S buy / sell at market and Shift+F flattens from the ticket"),
    SettingKey(MAX_DISTANCE_KEY, float, 10.0,
               "an order price more than this percent from the market asks for confirmation (0 < p ≤ 1000)",
               validator=_distance_problem, apply=_apply_distance),
)


def _broker(ctx: "AppContext") -> object:
    from engine.paper.broker import PaperBroker

    return PaperBroker.open(ctx.db.path, bus=ctx.bus)


def _paper_session(ctx: "AppContext") -> object:
    from app import trading

    return trading.build_paper_session(ctx)


def _session(ctx: "AppContext") -> object:
    from app import trading

    return trading.build_trading_session(ctx)


def _ticket(ctx: "AppContext", instance_id: str) -> "QWidget":
    """The ticket trades the symbol of the charts in its link group (an unlinked ticket:
    of the active chart) and takes prices clicked on them."""
    from app import trading
    from app.chart_registry import ChartFollower

    w = trading.order_ticket(ctx)
    ChartFollower(ctx.chart_registry, instance_id, w, w.set_symbol, w.set_clicked_price)
    return w


def _positions(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from app import trading

    return trading.positions(ctx)


def _working_orders(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from app import trading

    return trading.working_orders(ctx)


def _fills(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from app import trading

    return trading.fills(ctx)


def _order_history(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from app import trading

    return trading.order_history(ctx)


def _account(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from app import trading

    return trading.account(ctx)


def _add_backtest(sub: Any) -> None:
    from app import cli

    cli._add_backtest(sub)


def _run_backtest(args: argparse.Namespace) -> int:
    from app import cli

    return cli.cmd_backtest(args)


def _add_paper(parser: argparse.ArgumentParser) -> None:
    from app import paper_cli

    paper_cli.add_paper(parser)


def _run_paper(args: argparse.Namespace) -> int:
    from app import paper_cli

    return paper_cli.cmd_paper(args)


FEATURE = Feature(
    id="trading",
    title="Paper trading",
    settings=SETTINGS,
    services=(
        ServiceSpec("engine.paper.broker:PaperBroker", _broker),
        ServiceSpec("engine.paper.session:PaperSession", _paper_session),
        ServiceSpec("widgets.trading.session:TradingSession", _session),
    ),
    # the ticket beside the chart; the blotters share the scanner's tab group under the
    # chart (or the bottom area when there is no scanner dock)
    docks=(
        DockSpec(TICKET_DOCK, "Order Ticket", _ticket, split_with="chart", size=300, shortcut="Ctrl+T",
                 linkable=True),
        DockSpec("positions", "Positions", _positions, Area.BOTTOM, size=250, tabify_with="scanner"),
        DockSpec("orders", "Working Orders", _working_orders, Area.BOTTOM, tabify_with="positions"),
        DockSpec("fills", "Fills", _fills, Area.BOTTOM, tabify_with="positions"),
        DockSpec("order_history", "Order History", _order_history, Area.BOTTOM, visible=False,
                 tabify_with="positions"),
        DockSpec("account", "Account", _account, Area.BOTTOM, tabify_with="positions"),
    ),
    cli_verbs=(
        CliVerb("backtest", "backtest entry/exit formulas on a bar CSV (long only, market orders at the next open)",
                legacy_cli_adder(_add_backtest), _run_backtest),
        CliVerb("paper", "paper trading without the window: accounts, quote, order, orders, positions, cancel",
                _add_paper, _run_paper,
                description="Paper trading on the data folder's paper store, with the same session, quotes "
                            "and market checks as the window. Numbers in --json output are exact decimal strings."),
    ),
)
