"""The settings schema: unknown keys kept, bad values fall back per key, versions migrate."""
from PySide6.QtCore import QByteArray, QSettings

from app.settings import VERSION_KEY, AppSettings


def _ini(home, text):
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.ini").write_text(text, encoding="utf-8")
    return home / "settings.ini"


def test_a_key_this_version_does_not_know_is_kept_and_nothing_is_moved_aside(home):
    path = _ini(home, "[ui]\ntheme=light\n[alerts]\nsound=chime\n")
    s = AppSettings()
    assert s.recovered_from is None
    assert s.get("ui/theme") == "light"  # the user's theme survives
    s.set("ui/theme", "dark")
    s.sync()
    raw = QSettings(str(path), QSettings.Format.IniFormat)
    assert raw.value("alerts/sound") == "chime"  # untouched, even after a write
    assert list(home.glob("settings.ini.corrupt-*")) == []


def test_a_bad_value_falls_back_to_that_keys_default_only_and_says_so(home):
    _ini(home, "[ui]\ntheme=purple\n[data]\nsource=yahoo\n[network]\nproxy=not a proxy\n")
    s = AppSettings()
    assert s.recovered_from is None
    assert s.get("ui/theme") == "dark"
    assert s.get("network/proxy") == ""
    assert s.get("data/source") == "yahoo"  # the good value next to it is kept
    assert len(s.problems) == 2
    assert any("ui/theme" in p and "purple" in p for p in s.problems)


def test_a_bad_value_is_notified_once_at_start(home, qtbot):
    from app.main import build_workstation

    _ini(home, "[ui]\ntheme=purple\n")
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        titles = [n.title for n in ws.ctx.notifier.recent]
        assert titles.count("Settings") == 1
        assert "ui/theme" in next(n.text for n in ws.ctx.notifier.recent if n.title == "Settings")
    finally:
        ws.close()


def test_set_refuses_a_bad_value_for_a_schema_key(home):
    s = AppSettings()
    try:
        s.set("ui/theme", "purple")
    except ValueError as exc:
        assert "ui/theme" in str(exc)
    else:
        raise AssertionError("a bad theme was stored")
    s.set("some/future_key", [1, 2])  # unknown keys are the caller's business


def test_migrations_run_once_in_order_from_the_files_version(home):
    path = _ini(home, f"[meta]\nversion=1\n[a]\nx=1\n")
    ran = []

    def m0(s):
        ran.append("m0")

    def m1(s):
        ran.append("m1")
        s.qs.setValue("a/y", s.qs.value("a/x"))

    s = AppSettings(migrations=[m0, m1])
    assert ran == ["m1"]
    assert int(s.qs.value(VERSION_KEY)) == 2 and s.qs.value("a/y") == "1"
    AppSettings(migrations=[m0, m1])
    assert ran == ["m1"]  # already at version 2
    assert path.exists()


def test_version_1_moves_the_layout_keys_out_of_settings_ini(home):
    home.mkdir(parents=True, exist_ok=True)
    old = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    old.setValue("ui/theme", "light")
    old.setValue("window/state", QByteArray(b"\x00\x01layout"))
    old.setValue("workspace/symbol", "ACME")
    old.setValue("workspace/timeframe", "1wk")
    old.sync()
    del old
    s = AppSettings()
    assert s.legacy_ui_state["window/state"] == b"\x00\x01layout"
    assert s.legacy_ui_state["workspace/symbol"] == "ACME"
    assert not s.qs.contains("window/state") and not s.qs.contains("workspace/symbol")
    assert s.get("ui/theme") == "light" and int(s.qs.value(VERSION_KEY)) == s.version


def test_an_old_settings_ini_layout_reaches_the_chart_once(home, qtbot):
    from app.main import build_workstation, open_workspace

    home.mkdir(parents=True, exist_ok=True)
    old = QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat)
    old.setValue("workspace/symbol", "HOOLI")
    old.setValue("workspace/timeframe", "1wk")
    old.sync()
    del old
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    ws.window.show()
    open_workspace(ws)
    chart = ws.ctx.active_chart
    try:
        assert chart.symbol == "HOOLI" and chart.timeframe == "1wk"
        qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=15000)
    finally:
        ws.close()
