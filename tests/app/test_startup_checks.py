"""Checks made before Qt starts: a missing X11 library is our sentence, not Qt's abort."""
import pytest

import app.main as main_mod


@pytest.fixture
def probe(monkeypatch):
    """The library probe, with a chosen set of libraries 'missing'."""
    missing: set[str] = set()
    monkeypatch.setattr(main_mod, "_library_loads", lambda soname: soname not in missing)
    monkeypatch.setattr(main_mod.sys, "platform", "linux")
    return missing


def test_missing_xcb_libraries_give_the_apt_get_line(probe):
    probe.update({"libxcb-icccm.so.4", "libxcb-keysyms.so.1"})
    text = main_mod.qt_platform_problem({"DISPLAY": ":0"})
    assert text is not None
    assert "libxcb-icccm4, libxcb-keysyms1" in text
    line = next(ln.strip() for ln in text.splitlines() if "apt-get" in ln)
    assert line == ("sudo apt-get install -y --no-install-recommends libxcb-cursor0 libxcb-icccm4 "
                    "libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 "
                    "libxkbcommon-x11-0")


@pytest.mark.parametrize("env", [
    {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},  # not xcb
    {},  # no display: Qt will not try X11
    {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"},  # Qt picks Wayland
])
def test_no_message_when_xcb_is_not_used(probe, env):
    probe.add("libxcb-icccm.so.4")
    assert main_mod.qt_platform_problem(env) is None


def test_no_message_when_every_library_loads(probe):
    assert main_mod.qt_platform_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}) is None


def test_the_window_exits_1_with_the_sentence_before_creating_qt(probe, monkeypatch, capsys):
    probe.add("libxcb-keysyms.so.1")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def no_qt(*a, **k):
        raise AssertionError("the QApplication must not be created")

    monkeypatch.setattr(main_mod, "ensure_app", no_qt)
    assert main_mod.run_gui() == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Stock Scanner cannot open a window") and "libxcb-keysyms1" in err
    assert "apt-get install -y --no-install-recommends" in err


def test_the_probe_is_real_for_a_library_that_exists_and_one_that_does_not():
    assert main_mod._library_loads("libc.so.6")
    assert not main_mod._library_loads("libdefinitely-not-here.so.9")
