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
