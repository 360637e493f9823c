"""Updates: automatic updates over The Update Framework (``engine/updates``, python-tuf) and the
maintainers' ``release`` verbs.

* At start (15 s after the window is up) and then daily, when ``updates/auto_check`` is on and
  ``updates/url`` is set, a worker refreshes the TUF metadata, finds the newest bundle for
  this platform on ``updates/channel`` and downloads it (verified against its signed length and
  hashes); the user is then asked (the version and its release notes). Accepted, the bundle is
  staged and installed at the next start, beside the running version; the "current" pointer
  moves only after the new version's ``--version`` ran (``engine/updates/install.py``).
* Help → Check for updates… runs the same check now and says what it found.
* Installs, failed installs and refused updates go to the device security log (Health dock),
  as ``update_install`` events whose detail starts with "installed", "failed:" or "refused:".

The trust anchor is ``resources/update/root.json`` (replaced by the production root at release
time; see README "Updates").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.features import ActionSpec, CliVerb, Feature, ServiceSpec, SettingKey

if TYPE_CHECKING:
    from engine.updates.client import Offer, UpdateClient

    from app.context import AppContext
    from app.mainwindow import MainWindow

CHANNEL_KEY = "updates/channel"
URL_KEY = "updates/url"
AUTO_KEY = "updates/auto_check"
CHECK_EVERY_MS = 24 * 3600 * 1000
FIRST_CHECK_MS = 15_000
log = logging.getLogger(__name__)


def bundled_root() -> bytes:
    """The root metadata this build trusts (``resources/update/root.json``)."""
    import resources

    return (Path(resources.__file__).parent / "update" / "root.json").read_bytes()


def running_version() -> str:
    from engine import __version__

    return __version__


def cache_dir() -> Path:
    from engine.paths import data_dir

    return data_dir() / "updates" / "cache"


def make_client(url: str, channel: str) -> "UpdateClient":
    from engine.updates.client import UpdateClient

    return UpdateClient(url, cache_dir(), channel, root=bundled_root(), current_version=running_version())


def settings_values() -> tuple[str, str]:
    """``(updates/url, updates/channel)`` from the settings file (for the CLI)."""
    from app.settings import AppSettings

    s = AppSettings()
    return str(s.get(URL_KEY, "") or ""), str(s.get(CHANNEL_KEY, "stable") or "stable")


@dataclass(frozen=True)
class CheckOutcome:
    """What a check found: an offer and its verified download, or nothing new, or why not."""

    offer: "Offer | None" = None
    path: Path | None = None
    error: str = ""
    refused: bool = False  # TUF verification refused what the repository served


def check_and_download(url: str, channel: str) -> CheckOutcome:
    """The worker's job: refresh, find, download and verify. Expected failures (offline, a
    refused repository) are returned, not raised: they are outcomes, not bugs."""
    from engine.updates.client import UpdateError, UpdateRefused

    try:
        client = make_client(url, channel)
        offer = client.check()
        if offer is None:
            return CheckOutcome()
        return CheckOutcome(offer, client.download(offer))
    except UpdateRefused as exc:
        log.warning("update refused: %s", exc)
        return CheckOutcome(error=str(exc), refused=True)
    except UpdateError as exc:
        log.info("update check failed: %s", exc)
        return CheckOutcome(error=str(exc))


def _url_problem(v: Any) -> str | None:
    from engine.updates import url_problem

    text = str(v or "").strip()
    return url_problem(text) if text else None


class UpdateService:
    """Checks (in workers), asks, stages, and installs a staged update at start."""

    def __init__(self, ctx: "AppContext") -> None:
        from engine.updates.install import Installation, default_install_root

        self.ctx = ctx
        self.installation = Installation(default_install_root())
        self.checking = False
        self.last_offer: "Offer | None" = None
        self.last_message = ""
        self.timer: Any = None
        self.first_timer: Any = None
        self.dialog: Any = None

    def url(self) -> str:
        return str(self.ctx.settings.get(URL_KEY, "") or "").strip()

    def channel(self) -> str:
        return str(self.ctx.settings.get(CHANNEL_KEY, "stable") or "stable")

    def record(self, kind: str, detail: str) -> None:
        from engine.health.metrics import record_security_event

        record_security_event(self.ctx.kv, kind, detail)

    # -- checking ------------------------------------------------------------------------
    def check(self, interactive: bool = False, parent: Any = None, on_done: Any = None) -> bool:
        """Start a check in a worker; False when none was started (no URL, one running)."""
        url = self.url()
        if not url:
            self.last_message = "No update repository is set (Settings → Updates → URL)."
            if interactive:
                self._inform(parent, self.last_message)
            return False
        if self.checking:
            return False
        self.checking = True

        def done(found: CheckOutcome) -> None:
            self.checking = False
            self.last_offer = found.offer
            if found.refused:
                self.last_message = found.error
                self.record("update_install", f"refused: {found.error}")
                self.ctx.notifier.notify("Update refused", "The update repository served data that failed "
                                         f"verification; nothing was installed. {found.error}", "error")
            elif found.error:
                self.last_message = found.error
                if interactive:
                    self.ctx.notifier.notify("Update check failed", found.error, "warning")
            elif found.offer is None or found.path is None:
                self.last_message = f"Stock Scanner {running_version()} is the newest version on {self.channel()}."
                if interactive:
                    self._inform(parent, self.last_message)
            else:
                self.last_message = f"Stock Scanner {found.offer.version} is available."
                self.ask(found.offer, found.path, parent)
            if on_done:
                on_done(found)

        def failed(exc: BaseException) -> None:  # a bug: the runner logs and shows it
            self.checking = False
            if on_done:
                on_done(exc)

        self.ctx.tasks.submit(check_and_download, url, self.channel(), label="Checking for updates",
                              on_result=done, on_error=failed)
        return True

    def _inform(self, parent: Any, text: str) -> None:
        if parent is None:
            self.ctx.notifier.notify("Updates", text, "info")
            return
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.information(parent, "Check for updates", text)

    def ask(self, offer: "Offer", path: Path, parent: Any = None) -> None:
        """Show the version and its release notes; staged for the next start if accepted."""
        from widgets.updates import UpdateDialog

        staged = self.installation.pending()
        if staged and staged.get("version") == offer.version:
            return  # already accepted: it installs at the next start
        dlg = UpdateDialog(offer.version, running_version(), offer.notes, offer.channel, parent or self.ctx.window)
        self.dialog = dlg
        dlg.accepted.connect(lambda: self.accept(offer, path))
        dlg.open()

    def accept(self, offer: "Offer", path: Path) -> None:
        from engine.updates.install import InstallError

        try:
            self.installation.stage(path, offer.version, offer.sha256, offer.notes)
        except (InstallError, OSError, ValueError) as exc:
            self.ctx.notifier.notify("Update", f"Could not keep the update: {exc}", "error")
            return
        self.ctx.notifier.notify("Update", f"Stock Scanner {offer.version} installs when you restart.", "info")

    # -- installing at start -------------------------------------------------------------
    def apply_pending(self, on_done: Any = None) -> bool:
        """Install a staged update in a worker (False if none is staged)."""
        if not self.installation.pending():
            return False

        def done(result: Any) -> None:
            if result is not None:
                if result.ok:
                    self.record("update_install", result.message)
                    self.ctx.notifier.notify("Update installed", f"{result.message}; it runs from the next start.")
                else:
                    self.record("update_install", f"failed: {result.message}")
                    self.ctx.notifier.notify("Update not installed", result.message, "warning")
            if on_done:
                on_done(result)

        def failed(exc: BaseException) -> None:
            self.record("update_install", f"failed: {exc}")
            self.ctx.notifier.notify("Update not installed", str(exc), "warning")
            if on_done:
                on_done(exc)

        self.ctx.tasks.submit(self.installation.apply_pending, label="Installing the update",
                              on_result=done, on_error=failed)
        return True

    def start_schedule(self) -> None:
        """The first check ``FIRST_CHECK_MS`` after start, then one every day. The timers are
        children of the main window, so they end with it."""
        from PySide6.QtCore import QObject, QTimer

        if self.timer is not None:
            return
        owner = self.ctx.window if isinstance(self.ctx.window, QObject) else None
        self.timer = QTimer(owner)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self._auto_check)
        self.timer.start()
        self.first_timer = QTimer(owner)
        self.first_timer.setSingleShot(True)
        self.first_timer.setInterval(FIRST_CHECK_MS)
        self.first_timer.timeout.connect(self._auto_check)
        self.first_timer.start()

    def _auto_check(self) -> None:
        if bool(self.ctx.settings.get(AUTO_KEY, True)) and self.url():
            self.check(interactive=False)


def _check_action(ctx: "AppContext", window: "MainWindow") -> None:
    ctx.service(UpdateService).check(interactive=True, parent=window)


def _start(ctx: "AppContext") -> None:
    svc = ctx.service(UpdateService)
    svc.apply_pending()
    svc.start_schedule()


def _verbs() -> tuple[CliVerb, ...]:
    def lazy(name: str) -> Any:
        def call(*a: Any) -> Any:
            from app import updates_cli

            return getattr(updates_cli, name)(*a)
        return call

    return (
        CliVerb("release", "maintainers: make, sign and publish the TUF update repository",
                lazy("add_release"), lazy("cmd_release"),
                description="init creates the keys and root; add puts a bundle on a channel with release "
                            "notes; sign adds your signatures (thresholds); rotate replaces a role's keys; renew "
                            "gives a role a fresh expiry; "
                            "publish writes the static repository folder."),
        CliVerb("update", "check for, stage, install or roll back an update of this computer",
                lazy("add_update"), lazy("cmd_update")),
    )


FEATURE = Feature(
    id="updates",
    title="Updates",
    services=(ServiceSpec("app.features.updates:UpdateService", UpdateService),),
    actions=(ActionSpec("updates.check", "Check for &updates…", _check_action, None, menu="&Help"),),
    settings=(
        SettingKey(CHANNEL_KEY, str, "stable", "Which releases to install: stable, or beta (earlier, less tested)",
                   choices=("stable", "beta"), label="Update channel"),
        SettingKey(URL_KEY, str, "", "The update repository (https://…); empty: no automatic updates",
                   validator=_url_problem, label="Update repository URL"),
        SettingKey(AUTO_KEY, bool, True, "Check for updates at start and daily (nothing installs without asking)",
                   label="Check for updates automatically"),
    ),
    cli_verbs=_verbs(),
    start=_start,
)
