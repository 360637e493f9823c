"""The watchlist feature: named symbol lists; a click opens the symbol in its link group."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.features import Area, DockSpec, Feature, Subscription

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext

DOCK_ID = "watchlist"


def _watchlist(ctx: "AppContext", instance_id: str) -> "QWidget":
    from widgets.watchlist import WatchlistWidget

    w = WatchlistWidget(ctx.watchlists, ctx.data, ctx.tasks)
    w.symbol_activated.connect(lambda s, i=instance_id: ctx.open_symbol(s, i))
    from app.trading import _built_trading_session, attach_watchlist

    session = _built_trading_session(ctx)  # built after the first frame; it attaches the open ones
    if session is not None:
        attach_watchlist(session, w)
    return w


def _open(ctx: "AppContext") -> list[Any]:
    return ctx.window.contents(DOCK_ID) if ctx.window is not None else []


def _on_watchlist_changed(ctx: "AppContext", _event: Any) -> None:
    for w in _open(ctx):  # other docks (the scanner's "Add to watchlist") change lists too
        w.reload_lists()


def _on_settings(ctx: "AppContext", event: Any) -> None:
    if event.key == "data/source":
        for w in _open(ctx):
            w.refresh()


FEATURE = Feature(
    id="watchlist",
    title="Watchlists",
    docks=(DockSpec(DOCK_ID, "Watchlist", _watchlist, Area.LEFT, shortcut="Ctrl+2", linkable=True),),
    subscriptions=(
        Subscription("engine.watchlists:WatchlistChanged", _on_watchlist_changed),
        Subscription("engine.events:SettingsChanged", _on_settings),
    ),
)
