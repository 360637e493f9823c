"""The account feature: the service connection (``sync.hub.SyncHub``: client, tokens, the
watchlist sync and its worker thread), the sync status indicator in the status bar and the
Account dialog (Account menu, or a click on the indicator).

The service URL is the ``service/url`` setting; empty means the built-in service, which the
service feature starts after the first frame (``sync.link.ServiceLink``); its ``ServiceAvailable``
event gives this feature the URL (until then the status says no service is configured). Google sign-in calls ``sync.google.sign_in_with_google(client, client_id)`` when
that module exists and ``service/google_client_id`` is set."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable

from app.features import ActionSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    from app.context import AppContext
    from app.mainwindow import MainWindow
    from sync.hub import SyncHub

log = logging.getLogger(__name__)


def base_url(ctx: "AppContext") -> tuple[str, str]:
    """(the service URL, its identity): ``service/url``, else the built-in service's URL once it
    runs (``sync.link.ServiceLink``), under the stable identity "embedded" (its port changes
    from run to run)."""
    url = str(ctx.settings.get("service/url") or "").strip()
    if url:
        return url, ""
    from sync.link import ServiceLink

    embedded = ctx.service(ServiceLink).base_url if ctx.has_service(ServiceLink) else None
    return (embedded, "embedded") if embedded else ("", "")


def _hub(ctx: "AppContext") -> object:
    from engine import paths
    from sync.hub import SyncHub

    url, identity = base_url(ctx)
    h = SyncHub(ctx.db, ctx.bus, ctx.watchlists, paths.data_dir(), url, identity=identity)
    h.on_security = lambda kind, detail: _record_security(ctx, kind, detail)
    if not url:
        h.configure("", "", _missing(ctx))
    return h


def _record_security(ctx: "AppContext", kind: str, detail: str) -> None:
    """A sign-in, sign-out, token refresh, 2FA or password change into the device's security
    log (the Health dock's Security tab); called from the worker that made the call."""
    from engine.health.metrics import record_security_event

    record_security_event(ctx.kv, kind, detail)


def _missing(ctx: "AppContext") -> str:
    """Why there is no service URL yet, in words for the status bar."""
    if str(ctx.settings.get("service/url") or "").strip():
        return ""
    if not bool(ctx.settings.get("service/embedded", True)):
        return "No service is configured: set Settings → Service URL, or turn the built-in service on."
    from sync.link import ServiceLink

    if ctx.has_service(ServiceLink) and ctx.service(ServiceLink).reason:
        return str(ctx.service(ServiceLink).reason)
    return "The built-in service is starting…"


def hub(ctx: "AppContext") -> "SyncHub":
    from sync.hub import SyncHub

    return ctx.service(SyncHub)


def google_sign_in(ctx: "AppContext") -> tuple[str, Callable[..., object] | None]:
    """(client id, the sign-in call) — the call is None without a client id or ``sync.google``.
    Called with no arguments it runs the whole browser flow; with ``id_token`` and a code it
    finishes a sign-in that needed the account's second factor."""
    client_id = str(ctx.settings.get("service/google_client_id") or "").strip()
    h = hub(ctx)
    if not client_id or h.client is None:
        return client_id, None
    from sync.google import finish_google_sign_in, sign_in_with_google

    client = h.client

    def run(id_token: str | None = None, otp: str | None = None, backup_code: str | None = None,
            remember_device: bool = False) -> object:
        # Blocking (system browser + loopback redirect): the dialog runs it in a worker. An
        # account with 2FA answers SecondFactorRequired carrying the verified Google ID token;
        # the dialog asks for the code and calls again with ``id_token`` and the code, which
        # finishes the sign-in without a second trip to the browser (the service's nonce is
        # valid for 10 minutes).
        old = client.tokens.load()
        device = (old.device_token if old else None) or None
        if id_token:
            pair = finish_google_sign_in(client.base_url, id_token, otp=otp, backup_code=backup_code,
                                         device_token=device, remember_device=remember_device)
        else:
            pair = sign_in_with_google(client.base_url, client_id=client_id, device_token=device)
        return client.adopt(pair)

    return client_id, run


def open_account(ctx: "AppContext", window: Any = None) -> Any:
    """Show the Account dialog (one per window, raised when already open)."""
    from widgets.account.dialog import AccountDialog

    parent = window if window is not None else ctx.window
    from app.dialogs import raise_open

    existing = raise_open(parent, "_account_dialog", lambda d: d.refresh())
    if existing is not None:
        return existing
    client_id, google = google_sign_in(ctx)
    dialog = AccountDialog(hub(ctx), ctx.tasks, client_id, google, parent)
    if parent is not None:
        parent._account_dialog = dialog
    dialog.show()
    return dialog


def _sync_now(ctx: "AppContext", _window: Any) -> None:
    hub(ctx).worker.wake()


def _start(ctx: "AppContext") -> None:
    """Put the indicator in the status bar and start the sync worker."""
    from widgets.account.status import SyncStatusWidget

    h = hub(ctx)
    window = ctx.window
    if window is not None and hasattr(window, "statusBar"):
        indicator = SyncStatusWidget(window)  # type: ignore[arg-type]
        window.statusBar().addPermanentWidget(indicator)
        window.sync_indicator = indicator  # type: ignore[attr-defined]
        ctx.bridge.connect("sync.service:SyncStatusChanged", indicator.set_status, owner=indicator)
        indicator.account_requested.connect(lambda: open_account(ctx, window))
        indicator.set_status(h.sync.status)
    h.start()


def _on_settings(ctx: "AppContext", event: Any) -> None:
    if event.key in ("service/url", "service/embedded") and ctx.has_service(_hub_type()):
        hub(ctx).configure(*base_url(ctx), _missing(ctx))


def _on_service(ctx: "AppContext", _event: Any) -> None:
    """The service became available (or went away): point the client at it."""
    if ctx.has_service(_hub_type()):
        hub(ctx).configure(*base_url(ctx), _missing(ctx))


def _hub_type() -> type:
    from sync.hub import SyncHub

    return SyncHub


def _open(ctx: "AppContext", window: "MainWindow") -> None:
    open_account(ctx, window)


FEATURE = Feature(
    id="account",
    title="Account",
    services=(ServiceSpec("sync.hub:SyncHub", _hub),),
    actions=(
        ActionSpec("account.open", "&Account…", _open, None, menu="&Account"),
        ActionSpec("account.sync_now", "&Sync now", _sync_now, None, menu="&Account"),
    ),
    settings=(
        SettingKey("service/google_client_id", str, "",
                   "the OAuth client id for Google sign-in (empty = the button is off)", label="Google client id"),
    ),
    subscriptions=(
        Subscription("engine.events:SettingsChanged", _on_settings),
        Subscription("sync.events:ServiceAvailable", _on_service),
        Subscription("sync.events:ServiceUnavailable", _on_service),
    ),
    start=_start,
)
