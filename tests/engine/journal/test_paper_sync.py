"""Zero-entry: the paper broker's round trips become entries by themselves, once."""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from engine.data.bars import Bars
from engine.events import EventBus
from engine.journal.paper import sync_paper
from engine.journal.store import JournalStore
from engine.paper.broker import PaperBroker
from engine.paper.orders import OrderRequest, OrderType, Side

T0 = 1_709_560_800_000  # 2024-03-04 14:00 UTC


def minute_bars(symbol: str, n: int = 120) -> Bars:
    t = (T0 // 1000 - 30 * 60) + 60 * np.arange(n, dtype=np.int64)
    close = 100 + np.sin(np.arange(n) / 7.0) * 2
    return Bars(symbol, "1m", t, close - 0.1, close + 0.5, close - 0.5, close, np.full(n, 1000.0), "demo")


def test_round_trips_of_the_broker_become_entries_with_stop_excursions_and_snapshot(tmp_path):
    path = tmp_path / "db.sqlite3"
    now = [T0]
    broker = PaperBroker.open(path, bus=EventBus(), clock=lambda: now[0])
    broker.create_account("Paper", 100_000)
    broker.on_quote("ACME", 99.9, 100.0, time_ms=now[0])  # a market order needs a price first
    broker.submit("Paper", OrderRequest("ACME", Side.BUY, 10, OrderType.MARKET, stop_loss=Decimal("95"),
                                        take_profit=Decimal("130")))
    now[0] += 60_000
    broker.on_quote("ACME", 99.9, 100.0, time_ms=now[0])
    now[0] += 20 * 60_000
    broker.on_quote("ACME", 131.0, 131.1, time_ms=now[0])  # the take-profit fills: flat
    journal = JournalStore.open(path)
    bars = minute_bars("ACME")
    ids = sync_paper(journal, broker, lambda s, tf: bars if tf == "1m" else None)
    assert len(ids) == 1
    e = journal.get(ids[0])
    assert e.source == "paper" and e.account == "Paper" and e.trip.direction == "long" and e.trip.qty == 10
    assert e.trip.stop == Decimal("95")
    assert e.trip.r_multiple == float(e.trip.net_pnl / (abs(e.trip.avg_entry_price - 95) * 10))
    assert e.trip.mfe is not None and e.trip.mfe >= 0 and e.trip.mae is not None
    png = journal.snapshot(e.id)
    assert png is not None and png.startswith(b"\x89PNG") and len(png) > 1000
    # replaying the same fills (another fill event, a restart) adds nothing
    assert sync_paper(journal, broker, None) == []
    broker.close()
    broker = PaperBroker.open(path, bus=EventBus(), clock=lambda: now[0])
    assert sync_paper(JournalStore.open(path), broker, None) == [] and journal.count() == 1
