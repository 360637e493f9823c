"""Education in the real main window (ws fixture): every tour step finds its target widget, the
Learn dock renders an article, scores a quiz with explanations and checks an exercise live
against the chart's state, the glossary is searchable, in the palette and in tooltips."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QLabel

from app.features import education as edu_feature
from engine.education.content import REQUIRED_TERMS, load_tours
from engine.education.glossary import METRIC_TERMS

FIXTURE = Path(__file__).resolve().parent.parent / "engine" / "education" / "content"


def test_every_tour_step_highlights_a_real_widget_and_the_tour_is_remembered(ws, qtbot):
    _version, tours = load_tours()
    assert {t.id for t in tours} >= {tid for tid, _label in edu_feature.TOURS}
    svc = edu_feature.service(ws.ctx)
    for tour in tours:
        overlay = edu_feature.start_tour(ws.ctx, tour.id)
        assert overlay is not None
        seen = []
        for _ in tour.steps:
            assert overlay.target is not None
            seen.append(overlay.target.objectName())
            # the bubble is tall enough for its text (a clipped tip was seen in a screenshot)
            assert overlay.text.height() >= overlay.text.heightForWidth(overlay.text.width()) - 1
            assert overlay.target.isVisible() and overlay.window_.isAncestorOf(overlay.target)
            qtbot.mouseClick(overlay.next, Qt.MouseButton.LeftButton)
        assert seen == [s.target for s in tour.steps], overlay.missing
        assert overlay.missing == []
        assert tour.id in svc.tours_seen()
    # skipping is remembered too
    svc.progress.db  # noqa: B018 - the same store
    overlay = edu_feature.start_tour(ws.ctx, "scanner")
    qtbot.mouseClick(overlay.skip, Qt.MouseButton.LeftButton)
    assert not overlay.isVisible()


@pytest.fixture
def learn(ws, qtbot):
    qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=20000)  # the start-up content load is done
    svc = edu_feature.service(ws.ctx)
    svc.root = FIXTURE
    svc.reload()
    w = ws.window.show_dock(edu_feature.LEARN)
    w.refresh()
    return ws, svc, w


def test_learn_article_quiz_and_live_exercise(learn, qtbot):
    ws, svc, w = learn
    assert w.select("mini-course", "candles-article")
    assert "A candle shows the open" in w.article.toPlainText()
    assert svc.progress.get("mini-course", "candles-article", "read") is not None
    assert w.select("mini-course", "candles-quiz")
    w.quiz.choose("q1", "b")
    w.quiz.choose("q2", "a", "b")
    qtbot.mouseClick(w.quiz.submit, Qt.MouseButton.LeftButton)
    note = w.quiz.notes["q1"]["b"]
    assert not note.isHidden() and "wicks included" in note.text()
    assert "1 of 2 right" in w.quiz.result.text() and "Passed" in w.quiz.result.text()
    item = svc.progress.get("mini-course", "candles-quiz", "quiz")
    assert item is not None and item.score == 0.5 and not item.verified  # the service scores it when synced
    # the exercise: not done until a chart shows 1 hour, then done from the chart's own state
    assert w.select("mini-course", "tf-exercise")
    qtbot.waitUntil(lambda: not w._checking, timeout=10000)
    assert w.exercise.status.property("done") is False
    chart = ws.ctx.active_chart
    chart.open_symbol(chart.symbol, "60m")
    qtbot.waitUntil(lambda: chart.state()["timeframe"] == "60m" and not ws.ctx.tasks.active, timeout=20000)
    w.check_exercise()
    qtbot.waitUntil(lambda: w.exercise.status.property("done") is True, timeout=10000)
    assert svc.progress.get("mini-course", "tf-exercise", "exercise") is not None
    assert "(3/5)" in w.tree.topLevelItem(0).text(0)  # read, passed, done
    # progress from elsewhere (the sync pulled it) shows without rebuilding the tree
    svc.progress.mark_read("mini-course", "candles-video")
    qtbot.waitUntil(lambda: "(4/5)" in w.tree.topLevelItem(0).text(0), timeout=5000)
    assert w.tree.currentItem() is w._item("mini-course", "tf-exercise")


def test_glossary_dock_palette_and_tooltips(learn, qtbot):
    from app.palette import entries

    ws, svc, _w = learn
    ws.ctx.glossary = {t.term: t.definition for t in svc.glossary.terms}
    assert edu_feature.open_term(ws.ctx, "Sharpe")
    g = ws.window.show_dock(edu_feature.GLOSSARY)
    assert "Sharpe ratio" in g.detail.toPlainText() and "sqrt(252)" in g.detail.toPlainText()
    g.search.setText("volat")
    assert g.list.item(0).text() == "Volatility"
    glossary_entries = [e for e in entries(ws.window) if e.kind == "Glossary"]
    assert {e.text for e in glossary_entries} == {"Sharpe ratio", "Volatility", "Candlestick", "Stop order"}
    next(e for e in glossary_entries if e.text == "Candlestick").run()
    assert "Candlestick" in g.detail.toPlainText()
    # hovering a metric name anywhere shows its entry
    label = QLabel("Sharpe:", ws.window)
    label.show()
    tips = ws.ctx.glossary_tooltips
    QApplication.sendEvent(label, QHelpEvent(QEvent.Type.ToolTip, QPoint(2, 2), label.mapToGlobal(QPoint(2, 2))))
    assert tips.shown[-1] == "sharpe-ratio"


def test_link_sets_tooltip_whats_this_and_opens_the_glossary(learn):
    ws, _svc, _w = learn
    label = QLabel("1.42", ws.window)
    assert not edu_feature.link(ws.ctx, label, "no-such-term")
    assert edu_feature.link(ws.ctx, label, "sharpe-ratio")
    assert "Sharpe ratio" in label.toolTip() and "sqrt(252)" in label.whatsThis()
    action = next(a for a in label.actions() if a.objectName() == "glossaryWhatsThis")
    assert action.text() == "What's this: Sharpe ratio"
    action.trigger()
    g = ws.window.docks[edu_feature.GLOSSARY].widget()
    assert g.isVisible() and "Sharpe ratio" in g.detail.toPlainText()


def test_every_linked_term_is_a_required_glossary_id():
    # the shipped glossary must hold every REQUIRED_TERMS id (engine/education/content.py checks it)
    assert set(METRIC_TERMS.values()) <= set(REQUIRED_TERMS)


def _recognised(root):
    """(text, term id) of every label and table header under ``root`` whose text is a known name."""
    from PySide6.QtWidgets import QHeaderView

    from widgets.education.tooltips import normalise

    found = []
    for label in root.findChildren(QLabel):
        tid = METRIC_TERMS.get(normalise(label.text()))
        if tid:
            found.append((label, None, tid))
    for header in root.findChildren(QHeaderView):
        model = header.model()
        if model is None:
            continue
        for section in range(model.columnCount() if header.orientation() == Qt.Orientation.Horizontal else 0):
            text = str(model.headerData(section, header.orientation(), Qt.ItemDataRole.DisplayRole) or "")
            tid = METRIC_TERMS.get(normalise(text))
            if tid:
                found.append((header, section, tid))
    return found


def test_metric_names_in_the_account_positions_and_journal_show_their_glossary_entry(ws, qtbot):
    tips = ws.ctx.glossary_tooltips
    from engine.education.content import Glossary, Term

    # every id the app links, as a glossary: the hover must find each
    terms = tuple(Term(t, t, (), "basics", f"definition of {t}", None, ()) for t in sorted(set(METRIC_TERMS.values())))
    tips.glossary = lambda: Glossary(1, terms, {t.id: t for t in terms})
    ws.window.show_dock("journal")
    qtbot.wait(50)
    seen = set()
    ws.window.show_dock("optimizer")
    for dock in ("account", "positions", "journal", "optimizer"):
        root = ws.window.docks[dock]
        ws.window.show_dock(dock)
        for widget, section, tid in _recognised(root):
            if section is None:
                pos = widget.rect().center()
                target = widget
            else:
                target = widget.viewport()
                pos = QPoint(widget.sectionViewportPosition(section) + 2, widget.height() // 2)
            QApplication.sendEvent(target, QHelpEvent(QEvent.Type.ToolTip, pos, target.mapToGlobal(pos)))
            if tips.shown and tips.shown[-1] == tid:
                seen.add(tid)
    assert {"equity", "cash", "buying-power", "realized-pnl", "unrealized-pnl", "day-pnl"} <= seen, seen
    assert {"sharpe-ratio", "cagr", "max-drawdown", "profit-factor", "win-rate"} <= seen, seen  # the optimizer's table
    # F1 opens the term hovered last
    ws.window.feature_actions["education.glossary"].trigger()
    g = ws.window.docks[edu_feature.GLOSSARY].widget()
    assert g is not None and g.isVisible()


def test_exercises_read_the_real_workstation_state(ws, qtbot):
    """engine_state(ctx) over the real app: a scan run by the scanner on the demo universe, and
    a 50-day SMA on the chart."""
    from engine.education.content import Material
    from engine.education.exercises import check
    from engine.progress import run_to_end
    from engine.scanner.filters import ScanDefinition
    from engine.scanner.universe import demo_universe

    def ex(name, **params):
        return Material("x", "exercise", "x", instructions="x", check=name, params=params)

    chart = ws.ctx.active_chart
    qtbot.waitUntil(lambda: chart.bars is not None and not ws.ctx.tasks.active, timeout=20000)
    sma = ex("chart_study", study="sma", period=50)
    assert not check(sma, edu_feature.engine_state(ws.ctx)).done
    chart.add_formula_overlay("sma(close, 20)")
    assert not check(sma, edu_feature.engine_state(ws.ctx)).done  # the wrong period
    chart.add_formula_overlay("sma(close, 50)")
    assert check(sma, edu_feature.engine_state(ws.ctx)).done

    scan = ex("scan", universe="demo", reference="rsi(close, 14) < 40")
    assert not check(scan, edu_feature.engine_state(ws.ctx)).done  # no scan yet
    universe = demo_universe(ws.ctx.data)
    run_to_end(ws.ctx.scanner.run(ScanDefinition("mine", "rsi(close, 14) > 60"), universe))
    r = check(scan, edu_feature.engine_state(ws.ctx))
    assert not r.done, r.detail
    run_to_end(ws.ctx.scanner.run(ScanDefinition("mine", "rsi(close, 14) < 40"), universe))
    r = check(scan, edu_feature.engine_state(ws.ctx))
    assert r.done, r.detail


def test_the_first_start_tour_shows_once(ws, qtbot):
    svc = edu_feature.service(ws.ctx)
    edu_feature._first_start_tour(ws.ctx)
    overlay = ws.window._tour_overlay
    assert overlay is not None and overlay.tour.id == "first-start" and overlay.isVisible()
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)  # skipped: remembered all the same
    assert "first-start" in svc.tours_seen() and ws.window._tour_overlay is None
    edu_feature._first_start_tour(ws.ctx)
    assert ws.window._tour_overlay is None
