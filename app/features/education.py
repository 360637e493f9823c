"""The education feature: the Learn dock (courses with articles, videos, quizzes and exercises
the app checks), the Glossary dock, glossary tooltips over metric and indicator names
everywhere (``widgets.education.tooltips``), glossary terms in the command palette, and the
feature tours (Help → Tours; the first-start tour once, remembered).

Content: ``engine.education.service.EducationService`` (bundled files + what the sync pulled).
Progress: the local store, synced to the account by ``sync.education.EducationSync`` inside the
account's sync round (outbox when offline). Exercises are checked against ``engine_state(ctx)``:
the open charts' state, the paper session's orders, the drawings, scan, formula and journal
stores — never the screen. Nothing heavy is imported here."""
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from app.features import ActionSpec, Area, DockSpec, Feature, ServiceSpec, SettingKey, Subscription

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext
    from app.mainwindow import MainWindow
    from engine.education.exercises import EngineState
    from engine.education.service import EducationService

log = logging.getLogger(__name__)
LEARN, GLOSSARY = "learn", "glossary"
#: the tours this feature owns (``resources/education/tours.json``), as Help → Tours entries
TOURS: tuple[tuple[str, str], ...] = (("first-start", "&First start"), ("order-ticket", "&Order ticket"),
                                      ("scanner", "&Scanner"), ("chart-drawing", "&Chart drawing"))
#: a tour step's target inside a dock: the dock to show first
TARGET_DOCKS: dict[str, str] = {"ticket": "order_ticket", "scanner": "scanner", "chart": "chart",
                                "watchlist": "watchlist", "account": "account", "orderTicket": "order_ticket"}


def service(ctx: "AppContext") -> "EducationService":
    from engine.education.service import EducationService

    return ctx.service(EducationService)


def _service(ctx: "AppContext") -> object:
    from engine.education.service import EducationService

    return EducationService(ctx.db, ctx.bus)


def engine_state(ctx: "AppContext") -> "EngineState":
    """What exercises are checked against. Chart states and orders are read now (GUI thread);
    the store reads run when the check runs (it may be on a worker)."""
    from engine.charts.drawings import DrawingStore
    from engine.education.exercises import EngineState, last_scan_formula, last_scan_run, reference_matches
    from engine.paper.session import PaperSession

    charts: list[dict[str, Any]] = []
    for chart in list(ctx.chart_registry.charts.values()):
        try:
            charts.append(chart.state())
        except RuntimeError:  # a chart being closed
            continue
    orders: list[Any] = []
    last: dict[str, Any] = {}
    if ctx.has_service(PaperSession):
        session = ctx.service(PaperSession)
        orders = list(session.snapshot()[0])
        for o in orders:
            last[o.symbol] = session.last_price(o.symbol)
    drawings = DrawingStore(ctx.db)
    data, formulas = ctx.data, ctx.formulas

    def universe(key: str) -> Any:
        from engine.scanner.universe import bundled_universe, demo_universe, watchlist_universe

        if key == "demo":
            return demo_universe(data)
        if key.startswith("watchlist:"):
            return watchlist_universe(ctx.db, key.split(":", 1)[1])
        return bundled_universe(key)

    def journal_last() -> Any:
        from engine.journal.store import JournalStore

        entries = ctx.service(JournalStore).entries()
        return entries[-1] if entries else None

    return EngineState(
        charts=lambda: charts, drawings=lambda sym: drawings.load(sym)[0], orders=lambda: orders,
        last_price=lambda sym: last.get(sym), last_scan=lambda: last_scan_run(ctx.db),
        last_scan_formula=lambda: last_scan_formula(ctx.db),
        universe_name=lambda key: universe(key).name,
        reference_scan=lambda key, f: _reference(ctx, key, f, lambda: reference_matches(
            lambda s, tf: data.get_bars(s, timeframe=tf), universe(key).symbols, f, formulas.custom_map())),
        custom_indicators=lambda: [c.name for c in formulas.list()], last_journal_entry=journal_last)


_REFERENCE: dict[tuple[int, str, str, str], set[str]] = {}


def _reference(ctx: "AppContext", key: str, formula: str, run: Any) -> set[str]:
    """The reference scan's matches, computed once per user scan run (the live check asks every
    few seconds; the data a run saw does not change until the next run)."""
    from engine.education.exercises import last_scan_run

    last = last_scan_run(ctx.db)
    memo = (id(ctx), key, formula, last.ran_at if last is not None else "")
    if memo not in _REFERENCE:
        if len(_REFERENCE) > 32:
            _REFERENCE.clear()
        _REFERENCE[memo] = set(run())
    return set(_REFERENCE[memo])


def open_term(ctx: "AppContext", term_id: str) -> bool:
    """Show the Glossary dock at ``term_id`` (an id, a name or an alias)."""
    term = service(ctx).term(term_id)
    if term is None or ctx.window is None:
        return False
    w = ctx.window.show_dock(GLOSSARY)
    return bool(w.show_term(term.id))  # type: ignore[attr-defined]


def link(ctx: "AppContext", widget: "QWidget", term_id: str) -> bool:
    """Give ``widget`` the glossary entry of ``term_id``: tooltip, What's-this text and a
    context-menu "What's this: <term>" that opens the Glossary there. False for an unknown id."""
    from widgets.education.tooltips import link_term

    term = service(ctx).term(term_id)
    if term is None:
        return False
    link_term(widget, term, lambda t: open_term(ctx, t))
    return True


def _learn(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from widgets.education.learn import LearnWidget

    def run_check(fn: Any, done: Any) -> None:
        ctx.tasks.submit(fn, label="Checking the exercise", on_result=done,
                         on_error=lambda exc: done(_failed(exc)))

    return LearnWidget(service(ctx), lambda: engine_state(ctx), lambda t: open_term(ctx, t), run_check)


def _failed(exc: BaseException) -> Any:
    from engine.education.exercises import CheckResult

    return CheckResult(False, f"Could not check: {exc}")


def _glossary(ctx: "AppContext", _instance_id: str) -> "QWidget":
    from widgets.education.glossary import GlossaryWidget

    return GlossaryWidget(service(ctx))


# --- tours -----------------------------------------------------------------------------------

def start_tour(ctx: "AppContext", tour_id: str, window: Any = None) -> Any:
    """Start tour ``tour_id`` over the main window; returns the overlay (None if unknown)."""
    from widgets.education.tour import TourOverlay

    win = window if window is not None else ctx.window
    tour = next((t for t in service(ctx).tours() if t.id == tour_id), None)
    if tour is None or win is None:
        return None
    old = getattr(win, "_tour_overlay", None)
    if old is not None:
        try:
            old.end(False)
        except RuntimeError:
            pass

    def prepare(step: Any) -> None:
        # a target inside a dock that is hidden: show the dock first
        for prefix, dock in TARGET_DOCKS.items():
            if step.target.startswith(prefix) and dock in getattr(win, "docks", {}):
                if not win.docks[dock].isVisible():
                    win.show_dock(dock)
                return

    def done(tid: str, _completed: bool) -> None:
        service(ctx).tour_seen(tid)  # finished or skipped: not shown again on its own
        win._tour_overlay = None

    overlay = TourOverlay(win, tour, done, prepare)
    win._tour_overlay = overlay
    overlay.start()
    return overlay


def _tour_action(tour_id: str) -> Any:
    return lambda ctx, win: start_tour(ctx, tour_id, win)


def _first_start_tour(ctx: "AppContext", tries: int = 0) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    if "first-start" in service(ctx).tours_seen() or ctx.window is None:
        return
    if QApplication.activeModalWidget() is not None:  # the first-run wizard: after it
        if tries < 60:
            QTimer.singleShot(2000, lambda: _first_start_tour(ctx, tries + 1))
        return
    start_tour(ctx, "first-start")


# --- start ------------------------------------------------------------------------------------

def _start(ctx: "AppContext") -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from widgets.education.tooltips import GlossaryTooltips

    svc = service(ctx)
    app = QApplication.instance()
    if app is not None:
        tips = GlossaryTooltips(lambda: svc.glossary, ctx.window if isinstance(ctx.window, object) else None)
        app.installEventFilter(tips)
        ctx.glossary_tooltips = tips  # type: ignore[attr-defined]
    # the palette lists glossary terms (app/palette.py reads these two); the content is read in
    # a worker after the first frame (~50-80 ms of JSON and markdown: not on the GUI thread)
    ctx.glossary = {}  # type: ignore[attr-defined]
    ctx.glossary_open = lambda name: open_term(ctx, name)  # type: ignore[attr-defined]

    def loaded(content: Any) -> None:
        ctx.glossary = {t.term: t.definition for t in content.glossary.terms}  # type: ignore[attr-defined]

    QTimer.singleShot(0, lambda: ctx.tasks.submit(svc.reload, label="Loading the education content",
                                                  on_result=loaded))
    _attach_sync(ctx)
    if (bool(ctx.settings.get("education/first_start_tour", True))
            and os.environ.get("STOCKSCANNER_FIRST_RUN_WIZARD", "1") != "0"):
        QTimer.singleShot(1500, lambda: _first_start_tour(ctx))


def _attach_sync(ctx: "AppContext") -> None:
    """Progress joins the account's sync round (when the account feature runs one)."""
    try:
        from sync.education import EducationSync
        from sync.hub import SyncHub
    except ImportError:
        return
    if not ctx.has_service(SyncHub):
        return
    hub = ctx.service(SyncHub)
    edu = EducationSync(service(ctx).progress)
    hub.sync.recorders.append(edu.record)

    def pull(client: Any, store: Any) -> int:
        n = edu.pull(client, store)
        if n:
            service(ctx).reload()
        return n

    hub.sync.pullers.append(pull)
    ctx.education_sync = edu  # type: ignore[attr-defined]


def _on_progress(ctx: "AppContext", _event: Any) -> None:
    """Progress changed (here, or pulled by the sync thread): a sync round soon, and the Learn
    dock's ticks."""
    from sync.hub import SyncHub

    if ctx.has_service(SyncHub):
        ctx.service(SyncHub).worker.wake()
    if ctx.window is not None:
        for w in ctx.window.contents(LEARN):
            w.update_marks()  # type: ignore[attr-defined]


def open_admin(ctx: "AppContext", window: Any = None) -> Any:
    """The education admin page over the signed-in account's service (the service refuses
    non-admins; the page shows its sentence)."""
    from sync import education as se
    from widgets.education.admin import EducationAdminDialog

    from app.features.account import hub

    client = hub(ctx).client

    def need() -> Any:
        if client is None:
            raise RuntimeError("No service is connected: sign in first (Account menu).")
        return client

    def run(fn: Any, ok: Any, err: Any) -> None:
        ctx.tasks.submit(fn, label="Education content", on_result=ok, on_error=err)

    dialog = EducationAdminDialog(run, lambda: se.admin_list(need()), lambda k, key: se.admin_get(need(), k, key),
                                  lambda k, key, d: se.admin_put(need(), k, key, d),
                                  window if window is not None else ctx.window)
    dialog.show()
    return dialog


def _show(dock: str) -> Any:
    return lambda ctx, win: win.show_dock(dock)


def _glossary_action(ctx: "AppContext", win: Any) -> None:
    """F1: the Glossary, at the term hovered in the last 15 s when there is one."""
    import time

    tips = getattr(ctx, "glossary_tooltips", None)
    last = getattr(tips, "last", None)
    if last is not None and time.monotonic() - last[1] < 15 and open_term(ctx, last[0]):
        return
    win.show_dock(GLOSSARY)


FEATURE = Feature(
    id="education",
    title="Education",
    services=(ServiceSpec("engine.education.service:EducationService", _service),),
    docks=(
        # beside the scanner's tab group: the largest area of the default layout
        DockSpec(LEARN, "Learn", _learn, Area.RIGHT, visible=False, tabify_with="scanner", shortcut="Ctrl+Shift+L"),
        DockSpec(GLOSSARY, "Glossary", _glossary, Area.RIGHT, visible=False, tabify_with="scanner"),
    ),
    actions=(
        ActionSpec("education.learn", "&Learn (courses)…", _show(LEARN), menu="&Help"),
        ActionSpec("education.glossary", "&Glossary…", _glossary_action, "F1", menu="&Help"),
        *(ActionSpec(f"education.tour.{tid}", f"Tour: {label}", _tour_action(tid), menu="&Help")
          for tid, label in TOURS),
        ActionSpec("education.admin", "Education content (admin)…", lambda ctx, win: open_admin(ctx, win),
                   menu="&Account"),
    ),
    settings=(SettingKey("education/first_start_tour", bool, True,
                         "show the first-start tour once on a new installation", label="First-start tour"),),
    subscriptions=(Subscription("engine.education.progress:EducationProgressChanged", _on_progress),),
    start=_start,
)
