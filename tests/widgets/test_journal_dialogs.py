"""The journal's dialogs: broker-CSV import through a column mapping, manual entry, screenshots."""
from __future__ import annotations

from pathlib import Path

from app.workers import TaskRunner
from engine.journal.store import JournalStore
from widgets.journal.import_dialog import SAVED_PREFIX, ImportDialog

SHOTS = Path("/tmp/journal2")

CSV = """Ticker,Action,Shares,Fill,Commission,When
AAPL,B,10,100.00,1.00,2024-03-04T14:30:00Z
AAPL,S,10,103.50,1.00,2024-03-04T15:30:00Z
MSFT,B,5,400,0.5,2024-03-05T14:30:00Z
MSFT,S,3,398,0.5,2024-03-05T15:00:00Z
MSFT,S,2,405,0.5,2024-03-05T16:00:00Z
NVDA,B,1,800,0,2024-03-06T14:30:00Z
"""


def _map_by_hand(d: ImportDialog) -> None:
    for field, col in {"symbol": "Ticker", "side": "Action", "qty": "Shares", "price": "Fill",
                       "fee": "Commission", "time": "When"}.items():
        d.columns[field].setCurrentText(col)


def test_a_generic_csv_mapped_by_hand_imports_and_the_saved_mapping_is_offered_next_time(qtbot, tmp_path):
    store = JournalStore.open(tmp_path / "j.sqlite3")
    (tmp_path / "fills.csv").write_text(CSV)
    d = ImportDialog(store, TaskRunner())
    qtbot.addWidget(d)
    assert d.load_file(str(tmp_path / "fills.csv"))
    assert d.preview_model.columnCount() == 6 and d.preview_model.rowCount() == 6
    assert d.preview_model.item(0, 0).text() == "AAPL"
    d.resize(1280, 800)
    _map_by_hand(d)
    d.save_name.setText("My broker")
    assert d.save_mapping()
    d.show()
    d.grab().save(str(SHOTS / "import_dialog.png"))
    d.run_import()  # in a worker
    qtbot.waitUntil(lambda: d.result is not None, timeout=10_000)
    assert (d.result.added, d.result.existing, d.result.open_positions) == (2, 0, ("NVDA",))
    assert store.count() == 2 and "2 trades added, 0 skipped" in d.status.text() and "NVDA" in d.status.text()
    msft = [e for e in store.entries() if e.trip.symbol == "MSFT"][0]
    assert str(msft.trip.net_pnl) == "2.5" and msft.source == "import"  # (-2*3 + 5*2) - 1.5 fees
    d.grab().save(str(SHOTS / "import_dialog_done.png"))

    again = ImportDialog(store)  # next time: the saved mapping is offered and fills the combos
    qtbot.addWidget(again)
    assert SAVED_PREFIX + "My broker" in again.mapping_names()
    again.load_file(str(tmp_path / "fills.csv"))
    again.apply_mapping(SAVED_PREFIX + "My broker")
    assert again.columns["qty"].currentText() == "Shares" and again.columns["time"].currentText() == "When"
    again.run_import()
    assert (again.result.added, again.result.existing) == (0, 2) and "0 trades added, 2 skipped" in again.status.text()


def test_refused_rows_are_listed_with_their_lines_and_nothing_is_imported(qtbot, tmp_path):
    store = JournalStore.open(tmp_path / "j.sqlite3")
    (tmp_path / "bad.csv").write_text(CSV.replace("103.50", "abc").replace("MSFT,S,3", "MSFT,X,3"))
    d = ImportDialog(store)
    qtbot.addWidget(d)
    d.load_file(str(tmp_path / "bad.csv"))
    d.columns["symbol"].setCurrentText("")
    d.run_import()
    assert "needs a column for symbol" in d.status.text() and store.count() == 0
    _map_by_hand(d)
    d.run_import()
    lines = d.problems.toPlainText().splitlines()
    assert d.problems.isVisibleTo(d) and store.count() == 0 and d.status.text().startswith("Refused: 2 rows")
    assert lines[0].startswith("line 3: ") and lines[1].startswith("line 5: side 'x'")
    d.resize(1280, 800)
    d.show()
    d.grab().save(str(SHOTS / "import_dialog_refused.png"))
    assert not d.load_file(str(tmp_path / "missing.csv")) and "cannot be read" in d.status.text()


def _ms(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text + "+00:00").timestamp() * 1000)


def test_manual_entry_validates_as_you_type_and_adds_exact_decimals(qtbot, tmp_path):
    from widgets.journal.manual_dialog import ManualEntryDialog

    store = JournalStore.open(tmp_path / "j.sqlite3")
    d = ManualEntryDialog(store)
    qtbot.addWidget(d)
    qtbot.keyClicks(d.symbol, "tsla")
    d.entries.rows[0][0].setDateTime(d.entries.rows[0][0].dateTime().fromMSecsSinceEpoch(_ms("2024-03-04T14:30:00")))
    qtbot.keyClicks(d.entries.rows[0][1], "10")
    qtbot.keyClicks(d.entries.rows[0][2], "200.10")
    qtbot.keyClicks(d.entries.rows[0][3], "0.35")
    assert not d.ok_btn.isEnabled() and "exit 1: give a quantity and a price" in d.summary.text()
    d.exits.rows[0][0].setDateTime(d.exits.rows[0][0].dateTime().fromMSecsSinceEpoch(_ms("2024-03-04T14:00:00")))
    d.exits.rows[0][1].setText("6")
    d.exits.rows[0][2].setText("-1")
    assert "exit 1: the price must be positive" in d.summary.text()
    d.exits.rows[0][2].setText("201.30")
    assert "exit 1 is before the first entry" in d.summary.text()
    d.exits.rows[0][0].setDateTime(d.exits.rows[0][0].dateTime().fromMSecsSinceEpoch(_ms("2024-03-04T15:00:00")))
    assert d.summary.text() == "4 still open: only a closed trade can be journalled; add the exit"
    d.exits.add_row(_ms("2024-03-04T16:00:00"), "4", "199.95", "0.1")
    d.stop.setText("195.10")
    assert d.ok_btn.isEnabled(), d.summary.text()
    d.resize(1280, 800)
    d.show()
    d.grab().save(str(SHOTS / "manual_dialog.png"))
    d.ok_btn.click()
    (e,) = store.entries()
    # 6 × 1.20 − 4 × 0.15 = 6.60 gross; fees 0.35 + 0.10 = 0.45 → 6.15 net; risk 10 × 5.00 = 50 → R 0.123
    assert (e.trip.symbol, e.source, str(e.trip.gross_pnl), str(e.trip.net_pnl)) == ("TSLA", "manual", "6.60", "6.15")
    assert e.trip.stop == __import__("decimal").Decimal("195.10") and round(e.trip.r_multiple, 3) == 0.123
    assert d.result() == d.DialogCode.Accepted


def test_screenshots_are_added_shown_as_thumbnails_and_open_larger(qtbot, tmp_path):
    from PySide6.QtGui import QColor, QImage

    from tests.engine.journal.stubs import ms, trip
    from widgets.journal import JournalWidget

    store = JournalStore.open(tmp_path / "j.sqlite3")
    e = store.add(trip(50, ms(2024, 3, 4))).entry
    w = JournalWidget(store)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.select_entry(e.id)
    img = QImage(800, 500, QImage.Format.Format_RGB32)
    img.fill(QColor("#3366cc"))
    assert img.save(str(tmp_path / "setup.jpg"), "JPEG")
    a = w.add_screenshot(tmp_path / "setup.jpg")
    assert a is not None and [x.id for x in store.attachments(e.id) if x.kind == "screenshot"] == [a.id]
    assert len(w.editor.thumbs) == 1 and not w.editor.thumbs[0].icon().isNull()
    (tmp_path / "notes.txt").write_text("not a picture")
    assert w.add_screenshot(tmp_path / "notes.txt") is None and "not a PNG or JPEG" in w.editor.error.text()
    (tmp_path / "fake.png").write_bytes(b"hello")
    assert w.add_screenshot(tmp_path / "fake.png") is None and "not a readable PNG" in w.editor.error.text()
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 10_000_001)
    assert w.add_screenshot(tmp_path / "huge.png") is None and "at most 10 MB" in w.editor.error.text()
    assert len(store.attachments(e.id)) == 1
    w.show()
    w.grab().save(str(SHOTS / "journal_screenshots.png"))
    opened = []
    w.editor.screenshot_clicked.connect(opened.append)
    w.editor.thumbs[0].click()
    assert [x.id for x in opened] == [a.id]
    from PySide6.QtWidgets import QLabel

    from widgets.journal.dock import THUMB

    view = w.open_screenshot(a)
    assert view.objectName() == "journal_screenshot_view"
    assert view.findChild(QLabel).pixmap().width() > 4 * THUMB  # larger than its thumbnail
    view.grab().save(str(SHOTS / "journal_screenshot_view.png"))
