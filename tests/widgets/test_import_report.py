"""The import report: every problem of a bad CSV with its line, copyable, and the notes."""
import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from engine.data.csv_import import read_bars_csv
from engine.data.errors import CsvFormatError
from widgets.import_report import ImportReportDialog


def _bad_csv(tmp_path, n_bad=12):
    rows = ["Date,Open,High,Low,Close,Volume", "2020-01-01,1,2,0.5,1.5,100"]
    rows += [f"2020-02-{d:02d},1,0.5,2,1.5,100" for d in range(1, n_bad + 1)]
    rows += ["2020-13-45,1,2,0.5,1.5,100"]
    p = tmp_path / "BAD.csv"
    p.write_text("\n".join(rows) + "\n")
    return p


def _error(path):
    with pytest.raises(CsvFormatError) as info:
        read_bars_csv(path)
    return info.value


def test_the_report_lists_every_problem_with_its_line_and_copies_it(tmp_path, qtbot):
    path = _bad_csv(tmp_path)
    dlg = ImportReportDialog.for_error(path, _error(path))
    qtbot.addWidget(dlg)
    dlg.show()
    headline = dlg.findChild(QLabel, "importHeadline").text()
    assert headline == "BAD.csv cannot be imported (13 problems; nothing was changed)."
    shown = dlg.view.toPlainText().splitlines()
    assert dlg.view.isReadOnly()
    assert shown[0] == "13 problems:"
    assert [ln.strip() for ln in shown[1:13]] == [f"line {n}: High 0.5 is below Low 2" for n in range(3, 15)]
    assert shown[13].strip() == "line 15: cannot read the date '2020-13-45'"
    dlg.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith(headline + "\n")
    assert "line 9: High 0.5 is below Low 2" in copied and "line 15: cannot read the date" in copied
    assert dlg.copy_button.text() == "Copied"


def test_a_successful_import_with_notes_shows_them(tmp_path, qtbot, shared_data):
    from engine.data.service import ImportResult

    result = ImportResult("FUT", "1m", 30889, "2006-01-02T09:01:00", "2006-02-27T22:00:00",
                          notes=("The header names 7 columns but the rows have 8: …",))
    dlg = ImportReportDialog.for_result(shared_data / "FUT-2006-1min.csv", result)
    qtbot.addWidget(dlg)
    assert dlg.findChild(QLabel, "importHeadline").text() == (
        "Imported 30,889 bars of FUT (1m), 2006-01-02T09:01:00 → 2006-02-27T22:00:00.")
    assert dlg.view.toPlainText().splitlines() == ["Notes:", "  The header names 7 columns but the rows have 8: …"]
    assert dlg.windowTitle() == "Import report — FUT-2006-1min.csv"


def test_the_window_opens_the_report_when_an_import_fails(home, qtbot, tmp_path):
    from app.main import build_workstation

    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        path = _bad_csv(tmp_path)
        ws.window.import_csv(str(path))
        qtbot.waitUntil(lambda: getattr(ws.window, "import_report", None) is not None, timeout=15000)
        dlg = ws.window.import_report
        assert dlg.isVisible() and len(dlg.problems) == 13
        assert "line 15: cannot read the date '2020-13-45'" in dlg.view.toPlainText()
        qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=15000)
    finally:
        ws.close()


def test_the_window_shows_the_notes_of_the_futures_file(home, qtbot, shared_data):
    from app.main import build_workstation

    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        ws.window.import_csv(str(shared_data / "FUT-2006-1min.csv"))
        qtbot.waitUntil(lambda: getattr(ws.window, "import_report", None) is not None, timeout=20000)
        dlg = ws.window.import_report
        assert not dlg.problems and any("header names 7 columns" in n for n in dlg.notes)
        assert "Notes:" in dlg.view.toPlainText()
        qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=15000)
    finally:
        ws.close()
