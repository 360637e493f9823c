"""Start-up: the QApplication, the workstation and its first-run demo workspace.

``build_workstation`` is shared by the GUI, the ``screenshot`` verb and the tests.
Start-up is kept fast: only the visible docks are built when the window first shows
(hidden ones on their first show); heavy modules (SQLAlchemy, Alembic, pandas, yfinance,
numba) load on demand.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import traceback
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEMO_WATCHLIST = "Demo"
DEMO_WATCHLIST_SIZE = 15
LEGACY_SCANNER_KEY = "scanner.state"  # before the scanner's setup became its dock state

#: What Qt's X11 (xcb) platform plugin loads besides Qt itself: Debian/Ubuntu package → library.
#: Qt only says "could not load the Qt platform plugin xcb" when one is missing.
XCB_PACKAGES = {
    "libxcb-cursor0": "libxcb-cursor.so.0",
    "libxcb-icccm4": "libxcb-icccm.so.4",
    "libxcb-image0": "libxcb-image.so.0",
    "libxcb-keysyms1": "libxcb-keysyms.so.1",
    "libxcb-render-util0": "libxcb-render-util.so.0",
    "libxcb-shape0": "libxcb-shape.so.0",
    "libxcb-xkb1": "libxcb-xkb.so.1",
    "libxkbcommon-x11-0": "libxkbcommon-x11.so.0",
}
XCB_APT_LINE = "sudo apt-get install -y --no-install-recommends " + " ".join(XCB_PACKAGES)


@dataclass
class Workstation:
    app: object
    window: object
    ctx: object

    def close(self) -> None:
        import shiboken6

        if shiboken6.isValid(self.window):  # Qt may have deleted it already (an accepted close)
            self.window.close()  # type: ignore[attr-defined]
        self.ctx.tasks.wait_all(10000)  # type: ignore[attr-defined]
        self.ctx.close()  # type: ignore[attr-defined]


def _library_loads(soname: str) -> bool:
    """True if the dynamic loader finds ``soname`` (the way Qt's plugin would load it)."""
    import ctypes

    try:
        ctypes.CDLL(soname)
        return True
    except OSError:
        return False


def qt_platform_problem(environ: "dict[str, str] | os._Environ[str] | None" = None) -> str | None:
    """A sentence with the ``apt-get`` line when Qt is about to use its X11 (xcb) platform
    plugin and a library it needs is missing; else None.

    Only Linux, and only when xcb would be used: ``QT_QPA_PLATFORM`` unset (and no Wayland
    session) or ``xcb``, with ``DISPLAY`` set. Cheap: one ``dlopen`` per library.
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "").strip().lower()
    if platform not in ("", "xcb") or not env.get("DISPLAY"):
        return None
    if platform == "" and env.get("WAYLAND_DISPLAY"):
        return None  # Qt picks Wayland first there
    missing = [pkg for pkg, soname in XCB_PACKAGES.items() if not _library_loads(soname)]
    if not missing:
        return None
    return (f"Stock Scanner cannot open a window: the X11 libraries Qt needs are missing "
            f"({', '.join(missing)}). Install them with:\n  {XCB_APT_LINE}\n"
            "or run a headless verb (stockscanner screenshot …) with QT_QPA_PLATFORM=offscreen.")


def ensure_app(argv: list[str] | None = None):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(argv or [sys.argv[0]])
        app.setApplicationName("Stock Scanner")
        app.setOrganizationName("StockScanner")
        app.setQuitOnLastWindowClosed(True)
    return app


def seed_demo_workspace(ctx) -> None:  # type: ignore[no-untyped-def]
    """First start: a watchlist of demo symbols, so the window is useful offline."""
    if ctx.watchlists.names():
        return
    ctx.watchlists.create(DEMO_WATCHLIST, ctx.data.demo_symbols()[:DEMO_WATCHLIST_SIZE])


def build_workstation(db=None):  # type: ignore[no-untyped-def]
    """Open the store and build the main window on the current data dir (not shown).

    One event bus per workstation: its services (data, watchlists, formulas, the broker)
    get it explicitly, so an embedded service or a sync client in the same process never
    shares it by accident.
    """
    app = ensure_app()
    from app.bridge import QtBridge
    from app.context import AppContext
    from app.mainwindow import MainWindow
    from app.notify import Notifier
    from app.settings import DATA_SOURCES, AppSettings
    from app.theme import apply_theme
    from app.workers import TaskRunner
    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.store import open_database

    settings = AppSettings()
    settings.apply_proxy()
    apply_theme(app, str(settings.get("ui/theme")))
    db = db or open_database()
    bus = EventBus()
    data = DataService.open_default_on(db, bus=bus)
    chosen = str(settings.get("data/source"))
    if chosen not in DATA_SOURCES:
        chosen = "demo"
    if data.source != chosen:
        # The settings file holds what the user chose in the dialog; the store remembers it
        # for the headless CLI. Keep the two in agreement (e.g. after a settings reset).
        data.set_source(chosen)
    ctx = AppContext(
        db=db, data=data, settings=settings, bus=bus, bridge=QtBridge(bus),
        tasks=TaskRunner(), notifier=Notifier(),
    )
    # once: the layout keys an older version kept in settings.ini, and the scanner's own kv key
    legacy_scanner = ctx.kv.get(LEGACY_SCANNER_KEY)
    ctx.ui.adopt_legacy(settings.legacy_ui_state, legacy_scanner)  # no-op once ui.* keys exist
    seed_demo_workspace(ctx)
    window = MainWindow(ctx)
    window.restore_layout()
    if settings.recovered_from is not None:
        ctx.notifier.notify(
            "Settings reset",
            f"The settings file could not be read and was kept as {settings.recovered_from.name}; "
            "defaults are in use.",
            "warning",
        )
    if settings.problems:
        ctx.notifier.notify(
            "Settings", "Some settings had values this version cannot use; their defaults are in use: "
            + "; ".join(settings.problems) + ".", "warning",
        )
    return Workstation(app, window, ctx)


def open_workspace(ws: Workstation) -> None:
    """First start (no chart shows a symbol yet): open the first watchlist symbol in the
    first chart. Later starts: each chart dock restored its own symbol with the layout."""
    ctx = ws.ctx
    if any(c.symbol for c in ctx.charts):  # type: ignore[attr-defined]
        return
    names = ctx.watchlists.names()  # type: ignore[attr-defined]
    syms = ctx.watchlists.symbols(names[0]) if names else []  # type: ignore[attr-defined]
    if syms:
        ctx.open_symbol(str(syms[0]))  # type: ignore[attr-defined]


def schedule_indicator_warm_up(ws: Workstation, delay_ms: int = 3000) -> None:
    """Prepare the indicator kernels in a worker shortly after start-up (see
    ``engine.indicators.warmup``). ``STOCKSCANNER_WARMUP=0`` turns it off (the tests do)."""
    if os.environ.get("STOCKSCANNER_WARMUP", "1") == "0":
        return
    from PySide6.QtCore import QTimer

    def start() -> None:
        from engine.indicators.warmup import warm_up

        ws.ctx.tasks.submit(warm_up, label="Preparing indicators")  # type: ignore[attr-defined]

    QTimer.singleShot(delay_ms, start)


def install_excepthooks(show_dialog: bool = True) -> None:
    """Route uncaught errors (any thread) to the log and a dialog instead of a dead app."""
    from PySide6.QtCore import QObject, Signal

    class _Reporter(QObject):
        report = Signal(str, str)

    reporter = _Reporter()

    def show(title: str, text: str) -> None:
        if not show_dialog:
            return
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Icon.Critical, title, text)
        box.setDetailedText(text)
        box.exec()

    reporter.report.connect(show)

    def hook(exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("uncaught error", exc_info=(exc_type, exc, tb))
        reporter.report.emit("Unexpected error", "".join(traceback.format_exception_only(exc_type, exc)).strip()
                             + "\n\nDetails are in the log file (Help → Open log folder).")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    install_excepthooks.reporter = reporter  # type: ignore[attr-defined]  # keep alive


def _fatal(title: str, text: str) -> int:
    from PySide6.QtWidgets import QMessageBox

    ensure_app()
    print(f"error: {text}", file=sys.stderr)
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        QMessageBox.critical(None, title, text)
    return 1


def _recover_corrupt_database(exc) -> bool:  # type: ignore[no-untyped-def]
    """Offer to restore the newest backup. True if restored (start again)."""
    from PySide6.QtWidgets import QMessageBox

    from engine.store import restore_backup

    print(f"error: {exc}", file=sys.stderr)
    if not exc.backups or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return False
    answer = QMessageBox.question(
        None, "Database damaged",
        f"{exc}\n\nRestore the newest backup ({exc.backups[0].name})? The damaged file is kept beside it.",
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    aside = restore_backup(exc.path, exc.backups[0])
    log.warning("restored %s from %s; damaged file kept as %s", exc.path, exc.backups[0], aside)
    return True


def run_gui(args: argparse.Namespace | None = None) -> int:
    """Open the workstation window; returns the exit status."""
    problem = qt_platform_problem()
    if problem is not None:  # before Qt, which would abort with its own misleading message
        print(f"error: {problem}", file=sys.stderr)
        return 1
    app = ensure_app()
    from engine import paths
    from engine.store import DatabaseCorrupt, DatabaseLocked, StoreError, open_database

    try:
        folder = paths.ensure_writable(paths.data_dir())
    except paths.DataDirError as exc:
        return _fatal("Data folder not writable", str(exc))
    from app.single_instance import SingleInstance

    single = SingleInstance(folder)
    if not single.acquire():
        if single.signal_running_instance():
            print("Stock Scanner is already running on this data folder; brought it to the front.")
            return 0
        return _fatal(
            "Already running",
            f"Another Stock Scanner holds the data folder {folder} but does not answer. "
            "Close it (or end its process) and start again.",
        )
    install_excepthooks()
    try:
        try:  # a restore chosen in Settings / Health while the store was open (before opening it)
            from engine.health.backups import apply_pending_restore

            done = apply_pending_restore(paths.database_path())
            if done is not None:
                log.warning("restored %s from %s; the previous store was kept as %s",
                            paths.database_path(), done[0], done[1])
        except (StoreError, OSError, ValueError) as exc:
            return _fatal("Restore", f"The scheduled restore failed and nothing was changed: {exc}")
        while True:
            try:
                db = open_database()
                if done is not None:
                    from engine.health.metrics import record_security_event
                    from engine.store.kv import KeyValueStore

                    record_security_event(KeyValueStore(db), "restore",
                                          f"restored from {done[0].name}; previous store kept as {done[1]}")
                    done = None
                break
            except DatabaseCorrupt as exc:
                if not _recover_corrupt_database(exc):
                    return _fatal("Database damaged", str(exc))
            except DatabaseLocked as exc:
                return _fatal("Database locked", str(exc))
            except StoreError as exc:  # foreign file, newer build's store, disk full, read-only…
                return _fatal("Database", str(exc))
        ws = build_workstation(db)
        single.activation_requested.connect(lambda: (ws.window.showNormal(), ws.window.raise_(), ws.window.activateWindow()))
        ws.window.show()
        open_workspace(ws)
        from app.wizard import maybe_open_at_start

        maybe_open_at_start(ws.window)  # the first start of this data folder only
        # A backup of the healthy store at start-up, off the GUI thread (verified and rotated;
        # app/features/health.py takes one daily while running).
        from engine.health.backups import take_backup

        ws.ctx.tasks.submit(take_backup, db.path, label="Backing up the database")
        schedule_indicator_warm_up(ws)
        rc = app.exec()
        ws.ctx.tasks.wait_all(10000)
        ws.ctx.close()
        return int(rc)
    finally:
        single.release()


def screenshot(out: str, width: int = 1600, height: int = 1000, timeout_ms: int = 15000) -> str:
    """Render the main window (current workspace) offscreen to a PNG at ``out``.

    Raises ``ValueError`` for a size outside ``app.cli.MIN_SIZE`` … ``MAX_SIZE`` (a huge
    window took a minute to render; 0x0 silently became the minimum window size).
    """
    from app.cli import MAX_SIZE, MIN_SIZE

    if not (isinstance(width, int) and isinstance(height, int)
            and MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise ValueError(f"a screenshot is {MIN_SIZE[0]}x{MIN_SIZE[1]} to {MAX_SIZE[0]}x{MAX_SIZE[1]} pixels, "
                         f"not {width}x{height}")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer

    from app.single_instance import SingleInstance
    from engine import paths

    ensure_app()
    folder = paths.ensure_writable(paths.data_dir())
    single = SingleInstance(folder)
    if not single.acquire(listen=False):
        # A running window owns this folder: building a workstation here would migrate,
        # seed and save a layout into its store behind its back.
        from app.cli import CliError

        raise CliError(f"Stock Scanner is running on the data folder {folder}, so the screenshot was not "
                       "taken (it would write to that folder); close the window, or use another folder "
                       "with --data-dir.")
    try:
        return _render_screenshot(out, width, height, timeout_ms)
    finally:
        single.release()


def _render_screenshot(out: str, width: int, height: int, timeout_ms: int) -> str:
    from PySide6.QtCore import QEventLoop, QTimer

    from app.features import service

    service.AUTOSTART = False  # a picture needs no built-in service child process
    ws = build_workstation()
    win = ws.window
    win.resize(width, height)  # type: ignore[attr-defined]
    win.show()  # type: ignore[attr-defined]
    open_workspace(ws)
    loop = QEventLoop()
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    poll = QTimer()

    def check() -> None:
        if not ws.ctx.tasks.active:  # type: ignore[attr-defined]
            loop.quit()

    poll.timeout.connect(check)
    poll.start(50)
    deadline.start(timeout_ms)
    loop.exec()
    poll.stop()
    for _ in range(5):
        ensure_app().processEvents()
    pm = win.grab()  # type: ignore[attr-defined]
    if not pm.save(out, "PNG"):
        raise OSError(f"cannot write the screenshot to {out}")
    ws.close()
    return out
