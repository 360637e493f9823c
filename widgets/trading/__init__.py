"""Paper-trading docks: working orders, order history, fills, positions, account + equity.

All of them are thin views over one ``TradingSession`` (``widgets.trading.session``), the
Qt adapter of the engine's ``PaperSession`` (selected account, quote cache, marks,
commands, the one quote path). Tables are the app's one table (``widgets.table``: sort,
column choice, copy, CSV export) over the engine's immutable views (``OrderView``,
``Fill``, ``PositionView``); they load a snapshot when the
account changes and are then kept current by the broker's and the session's bus events,
which the app's Qt bridge delivers on the GUI thread — nothing polls the database.

Modules: ``session`` (the adapter and its quote timer), ``models`` (the blotters' columns),
``blotters`` (working orders, history, fills, positions), ``dialogs`` (modify an order, new
account), ``account`` (chooser and Account dock), ``markers`` (fills on charts), ``fmt`` (order
labels and colours; numbers are written by ``engine.formatting``).

The user sees the quote source named next to every quote ("demo quotes" / "delayed
quotes"): these are never live exchange prices.
"""
from typing import TYPE_CHECKING, Any

from widgets.trading.account import AccountChooser, AccountWidget
from widgets.trading.blotters import FillsWidget, OrderHistoryWidget, PositionsWidget, WorkingOrdersWidget
from widgets.trading.markers import ChartTradeMarkers, fill_markers
from widgets.trading.session import TradingSession

if TYPE_CHECKING:
    from widgets.trading.dialogs import ModifyOrderDialog, NewAccountDialog


def __getattr__(name: str) -> Any:
    """The dialogs are imported on first use (not needed for the first frame)."""
    if name in ("ModifyOrderDialog", "NewAccountDialog"):
        from widgets.trading import dialogs

        return getattr(dialogs, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AccountChooser", "AccountWidget", "ChartTradeMarkers", "FillsWidget", "ModifyOrderDialog",
    "NewAccountDialog", "OrderHistoryWidget", "PositionsWidget", "TradingSession",
    "WorkingOrdersWidget", "fill_markers",
]
