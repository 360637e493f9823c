"""Zero-entry: the paper broker's closed round trips become journal entries by themselves.

``sync_paper(journal, broker, bars_for)`` rebuilds every account's round trips from the
broker's fills (FIFO, ``engine.journal.roundtrips``) and adds those the journal does not
have yet: idempotent (the entry key is the trip's legs, so replaying the same fills, on
every start or after every fill, never makes a second entry). For each new trip it sets the
stop (the stop-loss child of a bracket entry order, else a stop order working against the
position when it was opened), MFE/MAE from the bars during the trade, and a PNG snapshot of
the chart at exit (``engine.journal.snapshot``, no Qt: the app calls this in a worker).

``bars_for(symbol, timeframe)`` returns ``engine.data.bars.Bars`` or None; 1-minute bars are
asked for trips shorter than two days, daily bars otherwise (and as the fallback).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np

from engine.journal.roundtrips import RoundTrip, match_round_trips
from engine.journal.snapshot import render_trip_snapshot
from engine.journal.store import EntryFields, JournalStore, trip_key

log = logging.getLogger(__name__)

BarsFor = Callable[[str, str], Any]
_DAY_MS = 86_400_000
_lock = threading.Lock()  # one sync at a time per process (two workers would only race to no effect)


def _stop_for(trip: RoundTrip, fills: list[Any], orders: list[Any]) -> Decimal | None:
    """The protective stop of ``trip``: a stop-loss child of the order of its first entry fill,
    else the first stop order on the other side placed no later than the entry."""
    first = trip.entries[0]
    entry_orders = {f.order_id for f in fills if f.symbol == trip.symbol and f.time_ms == first.time_ms}
    for o in orders:
        if o.parent_id in entry_orders and o.stop_price is not None and getattr(o.role, "value", "") == "stop_loss":
            return Decimal(o.stop_price)
    close_side = "sell" if trip.direction == "long" else "buy"
    for o in sorted(orders, key=lambda o: o.created_ms):
        if (o.symbol == trip.symbol and str(getattr(o.side, "value", o.side)).lower() == close_side
                and o.stop_price is not None and o.created_ms <= trip.exit_time_ms
                and getattr(o.type, "value", "") in ("stop", "stop_limit")):
            return Decimal(o.stop_price)
    return None


def bars_during(trip: RoundTrip, bars: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """(high, low) of the bars that overlap the trip, or None when none does."""
    if bars is None or not len(bars):
        return None
    t = np.asarray(bars.time, dtype=np.int64) * 1000
    lo = int(np.searchsorted(t, trip.entry_time_ms, side="right")) - 1
    hi = int(np.searchsorted(t, trip.exit_time_ms, side="right"))
    if hi <= 0 or lo >= t.size - 1 and trip.entry_time_ms > t[-1] + _DAY_MS:
        return None
    lo = max(lo, 0)
    h, low = np.asarray(bars.high[lo:hi], float), np.asarray(bars.low[lo:hi], float)
    good = np.isfinite(h) & np.isfinite(low) & (h >= low)
    return (h[good], low[good]) if good.any() else None


def _bars(bars_for: BarsFor | None, trip: RoundTrip) -> Any:
    if bars_for is None:
        return None
    frames = ("1m", "1d") if trip.holding_ms < 2 * _DAY_MS else ("1d",)
    for tf in frames:
        try:
            b = bars_for(trip.symbol, tf)
        except Exception as exc:  # noqa: BLE001 - no bars is not a reason to lose the entry
            log.info("no %s bars of %s for the journal: %s", tf, trip.symbol, exc)
            continue
        if b is not None and len(b) and bars_during(trip, b) is not None:
            return b
    try:
        return bars_for(trip.symbol, "1d")
    except Exception:  # noqa: BLE001
        return None


def enrich(trip: RoundTrip, bars: Any) -> RoundTrip:
    """``trip`` with MFE/MAE from ``bars`` when they cover it (unchanged otherwise)."""
    hl = bars_during(trip, bars)
    if hl is None:
        return trip
    # the fills themselves bound the excursion too (a fill between bar prints)
    prices = [float(leg.price) for leg in trip.entries + trip.exits]
    high = np.concatenate([hl[0], prices])
    low = np.concatenate([hl[1], prices])
    return trip.with_excursions(high, low)


def sync_paper(journal: JournalStore, broker: Any, bars_for: BarsFor | None = None,
               accounts: list[str] | None = None, snapshots: bool = True) -> list[int]:
    """Add the closed round trips of the broker's accounts (all, or ``accounts``) that the
    journal lacks; returns the new entries' ids. Safe to call any number of times."""
    new_ids: list[int] = []
    with _lock:
        known = journal.keys()
        for account in accounts if accounts is not None else broker.accounts():
            fills = broker.fills(account)
            if not fills:
                continue
            trips = match_round_trips(fills).trips
            fresh = [t for t in trips if trip_key(t, "paper", account) not in known]
            if not fresh:
                continue
            orders = broker.orders(account)
            items = []
            keys = []
            for trip in fresh:
                keys.append(trip_key(trip, "paper", account))
                stop = _stop_for(trip, fills, orders)
                if stop is not None:
                    trip = trip.with_stop(stop)
                bars = _bars(bars_for, trip)
                trip = enrich(trip, bars)
                png = None
                if snapshots:
                    try:
                        png = render_trip_snapshot(trip, bars)
                    except Exception:  # noqa: BLE001 - the entry matters more than its picture
                        log.exception("snapshot of %s failed", trip.symbol)
                items.append((replace(trip), EntryFields(), png))
            for res in journal.add_many(items, source="paper", account=account, keys=keys):
                if res.created:
                    new_ids.append(res.entry.id)
    return new_ids
