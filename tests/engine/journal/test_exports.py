"""Exports to CSV/JSON/XLSX re-import to the same entries; broker CSVs through mappings."""
from __future__ import annotations

from decimal import Decimal

import pytest

from engine.journal.exports import ImportProblem, export_entries, import_file, read_rows
from engine.journal.imports import BUILTIN_MAPPINGS, ColumnMapping, import_broker_csv
from engine.journal.store import JournalStore
from tests.engine.journal.test_store import scaled_trip


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_an_exported_round_trip_reimports_to_the_same_entry(tmp_path, fmt):
    src = JournalStore.open(tmp_path / "a.sqlite3")
    t = scaled_trip().with_excursions([14.0], [9.5])
    e = src.add(t, source="paper", account="Paper").entry
    e = src.edit(e.id, setups=["ORB", "gap"], tags=["FOMO"], emotion_before="anxious", confidence=2,
                 followed_plan=False, mistakes=["chased"], notes="# Late\n*chased*, the \"gap\"; then, 🙈")
    out = tmp_path / f"journal.{fmt}"
    assert export_entries([e], out) == 1
    dst = JournalStore.open(tmp_path / "b.sqlite3")
    assert import_file(dst, out) == (1, 0)
    (back,) = dst.entries()
    assert (back.key, back.source, back.account) == (e.key, "paper", "Paper")
    assert back.trip == e.trip and back.trip.net_pnl == Decimal(296) and back.fields == e.fields
    assert import_file(dst, out) == (0, 1) and dst.count() == 1  # again: the same entry, not a second


def test_a_tampered_export_row_is_refused_with_its_line(tmp_path):
    src = JournalStore.open(tmp_path / "a.sqlite3")
    export_entries([src.add(scaled_trip()).entry], tmp_path / "j.csv")
    text = (tmp_path / "j.csv").read_text().replace(",296,", ",999,")
    (tmp_path / "j.csv").write_text(text)
    with pytest.raises(ImportProblem) as info:
        import_file(JournalStore.open(tmp_path / "b.sqlite3"), tmp_path / "j.csv")
    assert info.value.problems[0][0] == 2 and "does not match" in info.value.problems[0][1]
    assert read_rows(tmp_path / "j.csv")[0]["symbol"] == "AAA"


IBKR = """Symbol,Buy/Sell,Quantity,TradePrice,IBCommission,DateTime
MSFT,BUY,100,400.00,-1.00,20240305;093015
MSFT,BUY,50,402.00,-1.00,20240305;100000
MSFT,SELL,-120,405.00,-1.20,20240306;110000
MSFT,SELL,-30,399.00,-1.00,20240306;150000
AAPL,BUY,10,170,-1,20240307;100000
"""


def test_ibkr_flex_executions_become_round_trips_and_open_positions_are_reported(tmp_path):
    (tmp_path / "flex.csv").write_text(IBKR)
    store = JournalStore.open(tmp_path / "j.sqlite3")
    res = import_broker_csv(store, tmp_path / "flex.csv", BUILTIN_MAPPINGS["IBKR Flex"], account="IBKR")
    assert (res.added, res.existing, res.open_positions) == (1, 0, ("AAPL",))
    (e,) = store.entries()
    # FIFO: 100×(405−400) + 20×(405−402) + 30×(399−402) = 500 + 60 − 90 = 470; fees 4.20
    assert e.trip.gross_pnl == Decimal(470) and e.trip.fees == Decimal("4.20") and e.trip.qty == 150
    assert e.trip.entry_time_ms == 1709649015000  # 09:30:15 New York = 14:30:15 UTC
    assert import_broker_csv(store, tmp_path / "flex.csv", BUILTIN_MAPPINGS["IBKR Flex"], "IBKR").added == 0


def test_generic_layout_and_saved_mapping_with_bad_rows_reported(tmp_path):
    store = JournalStore.open(tmp_path / "j.sqlite3")
    m = ColumnMapping("mine", symbol="Ticker", side="Action", qty="Shares", price="Px", time="When",
                      time_format="%d/%m/%Y %H:%M")
    store.save_mapping("mine", m.to_dict())
    assert ColumnMapping.from_dict(store.mappings()["mine"]) == m
    (tmp_path / "t.csv").write_text("Ticker,Action,Shares,Px,When\nX,buy,10,5,01/03/2024 10:00\n"
                                    "X,hold,10,6,01/03/2024 11:00\nX,sell,10,abc,01/03/2024 12:00\n")
    with pytest.raises(ImportProblem) as info:
        import_broker_csv(store, tmp_path / "t.csv", m)
    assert [line for line, _ in info.value.problems] == [3, 4] and store.count() == 0
    (tmp_path / "g.csv").write_text("symbol,side,qty,price,fee,time\nz,sell,5,10,0.5,2024-03-01T15:00:00Z\n"
                                    "z,buy,5,9,0.5,2024-03-01T16:00:00Z\n")
    res = import_broker_csv(store, tmp_path / "g.csv", BUILTIN_MAPPINGS["Generic"])
    assert res.added == 1 and store.entries()[0].trip.direction == "short"
    assert store.entries()[0].trip.net_pnl == Decimal(4)
