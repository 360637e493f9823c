"""The social and copy-trading feature (issue 18): the Social dock (my profile and what I
publish, people to follow, block, report or copy, the activity feed) and the Copy trading dock
(``widgets/social``) over ``app.social.SocialDesk``; the service side is
``server/routers/social.py``, the mirroring engine ``engine/copytrading.py``, the client and
push channel ``sync/social.py`` and ``sync/copy.py``. Nothing heavy is imported here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.features import Area, DockSpec, Feature, ServiceSpec, SettingKey

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext

SOCIAL_DOCK = "social"
COPY_DOCK = "copytrading"


def _desk(ctx: "AppContext") -> object:
    from app.social import SocialDesk

    return SocialDesk(ctx)


def desk(ctx: "AppContext") -> "object":
    from app.social import SocialDesk

    return ctx.service(SocialDesk)


def _social_dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    from app.social import SocialDesk
    from widgets.social import CopyTradingWidget, SocialWidget

    d = ctx.service(SocialDesk)
    d.start()
    w = SocialWidget(d, ctx.tasks)

    def copy(user_id: int, name: str) -> None:
        window = ctx.window
        if window is None:
            return
        for content in window.contents(COPY_DOCK):
            if isinstance(content, CopyTradingWidget):
                content.set_leader(user_id, name)
        show = getattr(window, "show_dock", None)
        if callable(show):
            show(COPY_DOCK)

    w.copy_requested.connect(copy)
    return w


def _copy_dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    from app.social import SocialDesk
    from widgets.social import CopyTradingWidget

    d = ctx.service(SocialDesk)
    d.start()
    return CopyTradingWidget(d, ctx.tasks)


def _interval(value: object) -> str | None:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "the sync interval must be a number of seconds"
    return None if 1 <= v <= 300 else "the sync interval must be between 1 and 300 seconds"


def _start(ctx: "AppContext") -> None:
    # copies keep running while the docks are closed: start the desk when there are any
    from app.social import PUBLISH_ACCOUNT, SocialDesk

    try:
        with ctx.db.connect(write=False) as c:
            copying = c.execute("SELECT 1 FROM copy_relationships WHERE status != 'stopped' LIMIT 1").fetchone()
        if copying or str(ctx.settings.get(PUBLISH_ACCOUNT) or ""):
            ctx.service(SocialDesk).start()
    except Exception:  # noqa: BLE001 - a store or service problem must not stop the app starting
        import logging

        logging.getLogger(__name__).exception("copy trading could not start")


FEATURE = Feature(
    id="social",
    title="Social and copy trading",
    services=(ServiceSpec("app.social:SocialDesk", _desk),),
    docks=(
        DockSpec(SOCIAL_DOCK, "Social", _social_dock, Area.RIGHT, visible=False, size=420),
        DockSpec(COPY_DOCK, "Copy trading", _copy_dock, Area.BOTTOM, visible=False, size=360, tabify_with="positions"),
    ),
    settings=(
        SettingKey("social/publish_account", str, "",
                   "the paper account whose fills are published to your profile (empty = nothing is published)",
                   label="Publish fills of"),
        SettingKey("social/publish_strategy_id", int, 0,
                   "the published strategy the published fills belong to (0 = none): copiers of that "
                   "strategy mirror them", lambda v: None if 0 <= int(v) <= 2**31 - 1 else "must be 0 or a strategy id",
                   label="Publish under strategy id"),
        SettingKey("social/sync_interval_s", float, 5.0,
                   "how often copy trading polls the service when the push channel is down (seconds)",
                   _interval, label="Copy trading poll interval"),
        SettingKey("social/push", bool, True,
                   "receive leaders' trades over the push channel (server-sent events) as they are published",
                   label="Copy trading push"),
    ),
    start=_start,
)
