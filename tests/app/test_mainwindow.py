"""The shell: docks, View menu, layout persistence, settings, notifications, tasks."""
from engine.events import EventBus
import pytest
from PySide6.QtCore import QSettings

from app.main import DEMO_WATCHLIST, build_workstation, open_workspace


@pytest.fixture
def ws(home, qtbot):
    w = build_workstation()
    qtbot.addWidget(w.window)
    w.window.show()
    yield w
    w.close()


def _wait_idle(ws, qtbot):
    qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=15000)


def test_every_dock_has_a_stable_id_and_a_view_menu_toggle(ws):
    win = ws.window
    ids = {d.objectName() for d in win.docks.values()}
    assert {"chart", "watchlist"} <= ids
    titles = [a.text() for a in win.view_menu.actions()]
    for spec in win.specs.values():
        assert spec.id.isascii() and spec.id.isidentifier()
        assert spec.title in titles


def test_first_start_opens_the_demo_workspace(ws, qtbot):
    ctx = ws.ctx
    assert ctx.watchlists.names() == [DEMO_WATCHLIST]
    assert len(ctx.watchlists.symbols(DEMO_WATCHLIST)) >= 10
    open_workspace(ws)
    chart = ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=15000)
    assert chart.symbol == ctx.watchlists.symbols(DEMO_WATCHLIST)[0]
    assert chart.bars.is_demo and chart.demo_badge.isVisible()
    assert ws.window.demo_badge.isVisible() and "Settings" in ws.window.demo_hint.text()
    _wait_idle(ws, qtbot)


def test_reset_layout_brings_back_hidden_docks(ws, qtbot):
    win = ws.window
    win.docks["watchlist"].hide()
    assert not win.docks["watchlist"].isVisible()
    win.reset_layout_action.trigger()
    assert win.docks["watchlist"].isVisible()


def test_theme_switch_is_saved(ws):
    ws.window.set_theme("light")
    assert ws.ctx.settings.get("ui/theme") == "light"
    assert ws.window.theme_actions["light"].isChecked()
    from widgets import style

    assert style.CHART is style.LIGHT
    ws.window.set_theme("dark")


def test_notifications_without_tray_become_toasts(ws):
    note = ws.ctx.notifier.notify("Hello", "world", "warning")
    assert ws.ctx.notifier.recent[0] == note
    if not ws.ctx.notifier.has_tray:  # offscreen has no tray
        from PySide6.QtWidgets import QLabel

        toasts = ws.window.findChildren(QLabel, "toast")
        assert toasts and "Hello" in toasts[-1].text() and toasts[-1].isVisible()


def test_engine_notification_event_reaches_the_gui(ws, qtbot):
    from engine.events import Notification

    with qtbot.waitSignal(ws.ctx.notifier.notified, timeout=2000) as sig:
        ws.ctx.bus.publish(Notification("Fill", "Bought 100 ACME", "info"))
    assert sig.args[0].title == "Fill"


def test_progress_and_cancel_in_status_bar(ws, qtbot):
    import threading

    from engine.progress import Progress

    gate = threading.Event()
    finished = []

    def slow():
        for i in range(100):
            gate.wait(0.05)
            yield Progress(i, 100, f"step {i}")
        return "done"

    w = ws.ctx.tasks.submit(slow, label="Slow job", on_result=finished.append)
    qtbot.waitUntil(lambda: ws.window.progress.isVisible() and ws.window.cancel_button.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: ws.window.progress.value() > 0, timeout=3000)
    with qtbot.waitSignal(w.signals.cancelled, timeout=5000):
        ws.window.cancel_button.click()
    _wait_idle(ws, qtbot)
    assert finished == []  # cancelled: no result delivered
    assert not ws.window.progress.isVisible()


def test_worker_errors_are_notified(ws, qtbot):
    def boom():
        raise ValueError("bad input in row 7")

    with qtbot.waitSignal(ws.ctx.notifier.notified, timeout=3000) as sig:
        ws.ctx.tasks.submit(boom, label="Import")
    assert sig.args[0].level == "error" and "row 7" in sig.args[0].text


def test_corrupted_settings_file_is_kept_aside_and_defaults_used(home, qtbot):
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.ini").write_bytes(b"\x00\xff\xfe garbage \x80\x81" * 50)
    w = build_workstation()
    qtbot.addWidget(w.window)
    try:
        assert w.ctx.settings.recovered_from is not None
        assert w.ctx.settings.recovered_from.read_bytes().startswith(b"\x00\xff")
        assert w.ctx.settings.get("data/source") == "demo"
        assert w.ctx.notifier.recent[0].title == "Settings reset"
    finally:
        w.close()


def test_settings_dialog_validates_and_saves(ws, qtbot):
    from app.settings_dialog import SettingsDialog

    dlg = SettingsDialog(ws.ctx.settings, ws.window)
    qtbot.addWidget(dlg)
    dlg.service.setText("not a url")
    dlg.accept()
    assert "Service URL" in dlg.error.text() and not dlg.result()
    dlg.service.setText("https://api.example.com")
    dlg.proxy.setText("http://proxy.local:3128")
    dlg.theme.setCurrentText("light")
    dlg.accept()
    assert dlg.changed == {"ui/theme": "light", "service/url": "https://api.example.com",
                           "network/proxy": "http://proxy.local:3128"}
    raw = QSettings(str(ws.ctx.settings.path), QSettings.Format.IniFormat)
    assert raw.value("service/url") == "https://api.example.com"


def test_indicator_kernels_are_prepared_in_a_worker_after_start(ws, qtbot, monkeypatch):
    from app.main import schedule_indicator_warm_up

    monkeypatch.setenv("STOCKSCANNER_WARMUP", "1")
    started = []
    ws.ctx.tasks.task_started.connect(lambda w: started.append(w.label))
    schedule_indicator_warm_up(ws, delay_ms=0)
    qtbot.waitUntil(lambda: "Preparing indicators" in started, timeout=3000)
    # On a fresh clone numba compiles every kernel here (no cache yet): allow for a slow machine.
    qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=180_000)
    monkeypatch.setenv("STOCKSCANNER_WARMUP", "0")
    started.clear()
    schedule_indicator_warm_up(ws, delay_ms=0)
    qtbot.wait(50)
    assert started == []


def _offline_download(**kwargs):
    raise OSError("Network is unreachable (test stub: no test reaches Yahoo)")


def test_data_source_chosen_in_settings_is_what_the_cli_uses(home, qtbot, monkeypatch):
    from app.settings import AppSettings
    from engine.data.service import DataService

    # The window opens its symbols on the Yahoo source: answer as Yahoo does when offline.
    monkeypatch.setattr("engine.data.yahoo._default_download", _offline_download)
    s = AppSettings()
    s.set("data/source", "yahoo")
    s.sync()
    w = build_workstation()
    qtbot.addWidget(w.window)
    try:
        assert w.ctx.data.source == "yahoo"
        assert DataService.open_default_on(w.ctx.db, bus=EventBus()).source == "yahoo"  # what `stockscanner import` sees
    finally:
        w.close()


def test_yahoo_offline_the_chart_title_and_badge_say_what_is_drawn(ws, qtbot, monkeypatch):
    ctx = ws.ctx
    open_workspace(ws)
    chart = ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None, timeout=15000)
    _wait_idle(ws, qtbot)
    symbol = chart.symbol
    monkeypatch.setattr("engine.data.yahoo._default_download", _offline_download)
    with qtbot.waitSignal(chart.load_failed, timeout=15000):  # Yahoo cannot be reached
        ws.window.apply_settings({"data/source": "yahoo"})
    # the demo candles stay drawn: the title names them demo and the badge shows
    assert chart.bars is not None and chart.bars.is_demo and chart.symbol == symbol
    assert "demo" in chart.title.text() and "Yahoo" not in chart.title.text()
    assert chart.demo_badge.isVisible()
    # a symbol that cannot be loaded at all: nothing of the previous one stays drawn
    chart.open_symbol("ZZZZ")
    qtbot.waitUntil(lambda: "no data" in chart.title.text(), timeout=15000)
    assert chart.bars is None and not chart.demo_badge.isVisible()
    _wait_idle(ws, qtbot)
