"""The alerts dock: the editor validates as you type (with the formula's column), saves,
the history acknowledges and snoozes, failed deliveries can be retried."""
from __future__ import annotations

import pytest

from engine.alerts import AlertTemplate, Scope
from engine.alerts.service import AlertService
from engine.events import EventBus
from tests.engine.alerts.stubs import T0, panel


@pytest.fixture
def svc(db):
    now = [T0]
    s = AlertService(db, EventBus(), clock=lambda: now[0])
    s.now = now
    return s


@pytest.fixture
def widget(svc, qtbot):
    from widgets.alerts import AlertsWidget

    w = AlertsWidget(svc, lambda: ["Tech"])
    qtbot.addWidget(w)
    w.resize(1280, 800)
    return w


def test_editor_validates_as_you_type_with_the_column(widget):
    ed = widget.editor
    ed.name.setText("x")
    ed.scope_value.setEditText("AAA")
    ed.conditions.setPlainText("close > 1\nclose > smaa(close, 3)")
    assert ed.problem.text() == "Line 2, column 9: unknown function 'smaa' — did you mean 'sma'?"
    assert not ed.save_button.isEnabled()
    assert len(ed.conditions.extraSelections()) == 1  # the bad name is underlined
    ed.conditions.setPlainText("close > 1\nclose > sma(close, 3)")
    assert ed.problem.text() == "✓ valid" and ed.save_button.isEnabled()
    assert ed.conditions.extraSelections() == []
    ed.conditions.setPlainText("close + 1")
    assert "true or false" in ed.problem.text()


def test_editor_saves_and_the_list_shows_it(widget, svc):
    ed = widget.editor
    ed.name.setText("AAA up")
    ed.scope_value.setEditText("aaa")
    ed.conditions.setPlainText("close > 11\nvolume > 100")
    ed.mode.setCurrentIndex(ed.mode.findData("every"))
    ed.cooldown.setValue(15)
    ed.save_button.click()
    (a,) = svc.alerts()
    assert (a.name, a.scope, a.conditions, a.mode, a.cooldown_s) == \
        ("AAA up", Scope("symbol", "AAA"), ("close > 11", "volume > 100"), "every", 900)
    assert widget.alert_model.rowCount() == 1
    assert widget.alert_model.row_texts(0)[4] == "active"


def test_history_acknowledge_and_snooze(widget, svc):
    svc.save(AlertTemplate("up", ("close > 11",), Scope("symbol", "AAA"), mode="every"))
    svc.evaluate(panel({"AAA": [10, 11, 12]}))
    widget.reload()
    assert widget.tabs.tabText(1) == "History (1)"
    widget.history_view.selectRow(0)
    widget.snooze_buttons[0].click()
    (e,) = svc.history()
    assert e.snoozed_until == T0 + 3600 and e.acknowledged_at == T0
    assert widget.tabs.tabText(1) == "History"
    assert svc.evaluate(panel({"AAA": [10, 11, 12]})) == []  # snoozed


def test_delivery_settings_refuse_bad_values_with_a_sentence(widget, svc, memory_keyring):
    widget.webhook_url.setText("ftp://nope")
    widget.delivery_save.click()
    assert widget.delivery_problem.text().startswith("The webhook URL must be an http(s) URL")
    widget.webhook_url.setText("https://example.com/hook")
    widget.webhook_secret.setText("s3")
    widget.delivery_save.click()
    assert svc.config().webhook_url == "https://example.com/hook"
    from engine.alerts.delivery import get_secret

    assert get_secret("webhook_secret") == "s3"
    assert widget.webhook_secret.text() == ""  # never shown back


def test_editor_knows_sentiment_validates_and_completes_it(widget, qtbot):
    from PySide6.QtCore import Qt

    ed = widget.editor
    ed.name.setText("news")
    ed.scope_value.setEditText("AAA")
    widget.show()
    ed.conditions.setFocus()
    ed.conditions.setPlainText("close > 1 and sentimnt > 0.2")
    assert ed.problem.text() == ("Line 1, column 15: unknown name 'sentimnt' — did you mean 'sentiment'?")
    ed.conditions.setPlainText("")
    qtbot.keyClicks(ed.conditions, "sent")
    assert ed.completer.popup().isVisible()
    assert ed.completer.currentCompletion() == "sentiment"
    ed.completer.activated.emit("sentiment")
    assert ed.conditions.toPlainText() == "sentiment"
    qtbot.keyClicks(ed.conditions, "(3) < -0.2")
    assert ed.problem.text() == "✓ valid" and ed.save_button.isEnabled()
    assert dict(widget.service.condition_words())["sentiment"].startswith("sentiment(days=1)")
    qtbot.keyClick(ed.conditions, Qt.Key.Key_Escape)
