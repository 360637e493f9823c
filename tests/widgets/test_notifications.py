"""The notification centre: the bell's unread count, the list (newest first, time and
level), clear; and error sentences a user can act on."""
import time

import pytest

from app.notify import HISTORY, Notifier, actionable
from widgets.notifications import NotificationBell, NotificationCentreWidget, note_time


@pytest.fixture
def notifier(qtbot):
    return Notifier()  # no window, no tray: only the centre keeps them


def test_the_centre_lists_notifications_newest_first_with_time_and_level(notifier, qtbot):
    centre = NotificationCentreWidget(notifier)
    qtbot.addWidget(centre)
    assert centre.texts() == [] and centre.empty_label.isVisibleTo(centre)
    first = notifier.notify("Import finished", "5036 bars of ORCL (1d)")
    notifier.notify("Loading ZZZZ 1d", "Yahoo Finance has no data for symbol 'ZZZZ'.", "error")
    rows = centre.texts()
    assert len(rows) == 2
    assert rows[0].startswith(f"{note_time(time.time())[:5]}") and " · Error · Loading ZZZZ 1d\n" in rows[0]
    assert rows[1] == f"{note_time(first.at)} · Info · Import finished\n5036 bars of ORCL (1d)"


def test_the_bell_counts_unread_and_opening_marks_them_read(notifier, qtbot):
    bell = NotificationBell(notifier)
    qtbot.addWidget(bell)
    bell.show()
    assert bell.text() == ""
    for i in range(3):
        notifier.notify("Paper fill", f"Bought {i + 1} AAA")
    assert bell.text() == "3" and "3 unread of 3" in bell.toolTip()
    bell.click()
    assert bell.popup.isVisible() and bell.popup.texts()[0].endswith("Bought 3 AAA")
    assert bell.text() == "" and notifier.unread == 0
    bell.popup.clear_button.click()
    assert bell.popup.texts() == [] and len(notifier.recent) == 0
    assert "none yet" in bell.toolTip()
    bell.popup.hide()


def test_the_history_keeps_the_last_200(notifier):
    for i in range(HISTORY + 30):
        notifier.notify("n", str(i))
    assert len(notifier.recent) == HISTORY == 200
    assert notifier.recent[0].text == str(HISTORY + 29) and notifier.recent[-1].text == "30"


@pytest.mark.parametrize("raw, start", [
    ("Yahoo Finance cannot be reached: no network connection (Cookie/crumb fetch failed (DNSError)). "
     "Check your internet connection, or use demo data or a CSV import while offline.",
     "Yahoo Finance cannot be reached: check the network or the proxy in Settings"),
    ("Failed to get ticker 'AAPL' reason: Cookie/crumb fetch failed (DNSError)",
     "Yahoo Finance cannot be reached: check the network or the proxy in Settings"),
    ("HTTPSConnectionPool(host='query2.finance.yahoo.com', port=443): Read timed out. (read timeout=10)",
     "Yahoo Finance cannot be reached: check the network or the proxy in Settings"),
    ("YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')",
     "Yahoo Finance is limiting requests (too many in a short time): wait a few minutes"),
    ("HTTPSConnectionPool(host='fc.yahoo.com', port=443): Max retries exceeded (Caused by ProxyError('Unable "
     "to connect to proxy'))", "The proxy in Settings cannot be reached or refused the connection"),
    ("BAD.csv cannot be imported (5 problems; nothing was changed):\n  line 3: High 0.5 is below Low 2",
     "BAD.csv cannot be imported (5 problems; nothing was changed). The import report lists every problem"),
])
def test_errors_become_sentences_a_user_can_act_on(notifier, raw, start):
    assert actionable(raw).startswith(start)
    note = notifier.notify("Loading AAPL 1d", raw, "error")
    assert note.text.startswith(start) and "DNSError" not in note.text and "\n" not in note.text


def test_other_texts_are_kept_as_they_are(notifier):
    text = "Some settings had values this version cannot use; their defaults are in use: sync/timeout_s."
    assert actionable(text) == text
    assert notifier.notify("Settings", text, "warning").text == text
    assert notifier.notify("Fill", "Cookie/crumb is an info text here").text == "Cookie/crumb is an info text here"


def test_the_main_window_has_the_bell(home, qtbot):
    from app.main import build_workstation

    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        bell = ws.window.statusBar().findChild(NotificationBell, "notificationBell")
        assert bell is not None
        ws.ctx.notifier.notify("Loading AAPL 1d", "Failed to get ticker 'AAPL' reason: Cookie/crumb fetch failed (DNSError)",
                               "error")
        assert bell.text() == str(ws.ctx.notifier.unread) and ws.ctx.notifier.unread >= 1
        assert ws.ctx.notifier.recent[0].text.startswith("Yahoo Finance cannot be reached")
    finally:
        ws.close()


def test_a_burst_of_fills_shows_at_most_three_toasts_and_the_bell_counts_all(qtbot):
    from PySide6.QtWidgets import QMainWindow

    from app.notify import MAX_TOASTS, Toast

    win = QMainWindow()
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    n = Notifier(win)  # no tray: toasts
    bell = NotificationBell(n)
    qtbot.addWidget(bell)
    for i in range(6):
        n.notify("Paper fill", f"Bought {i + 1} AAA")
    shown = [t for t in win.findChildren(Toast) if t.isVisible()]
    assert MAX_TOASTS == 3 and len(shown) == 3
    assert [t.text().split("<br>")[1] for t in shown] == ["Bought 1 AAA", "Bought 2 AAA", "Bought 3 AAA"]
    assert all(t.geometry().top() >= 0 for t in shown)
    assert bell.text() == "6" and len(n.recent) == 6  # the other three are in the centre
    for t in shown:
        t.hide()  # the first toasts went away: the next fill gets one again
    n.notify("Paper fill", "Bought 7 AAA")
    assert [t.text().split("<br>")[1] for t in win.findChildren(Toast) if t.isVisible()] == ["Bought 7 AAA"]
