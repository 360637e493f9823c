"""Journal analytics benchmark.

* ``journal.review_100k``: a full yearly review (trade statistics, return metrics from daily
  P&L, drawdown, exposure, breakdowns by setup/tag/symbol/emotion/weekday/hour/confidence/
  mistake, plan adherence, mistakes, best/worst setups, R histogram, every recommendation
  rule) over 100,000 seeded random round trips, against the peer a user would otherwise
  write: empyrical's metrics on the same daily returns plus a pandas groupby per breakdown,
  both over the same journal already in columns (our ``JournalFrame``, the peer's
  DataFrame; building either from 100k Python objects is reported in the note, not timed:
  the store will fill the columns straight from SQLite). Target: ours ≤ 200 ms.
"""
from __future__ import annotations

import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np

from bench.core import Result, benchmark, best_of

N_TRIPS = 100_000
SETUPS = ("breakout", "pullback", "gap fill", "reversal", "range", "news")
EMOTIONS = ("calm", "confident", "anxious", "FOMO", "bored", None)
MISTAKES = ("moved stop", "early exit", "oversized", "chased", "no plan")
SYMBOLS = tuple(f"SYM{i:02d}" for i in range(40))


def make_journal(n: int = N_TRIPS, seed: int = 13) -> list:  # type: ignore[type-arg]
    """``n`` closed round trips spread over 2024 trading hours, with user fields."""
    from engine.journal.review import JournalEntry
    from engine.journal.roundtrips import Leg, RoundTrip

    rng = np.random.default_rng(seed)
    year0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
    day = rng.integers(0, 366, n)
    exit_ms = np.sort(year0 + day * 86_400_000 + rng.integers(14 * 3_600_000, 21 * 3_600_000, n))
    hold = rng.integers(60_000, 4 * 3_600_000, n)
    pnl_cents = np.round(rng.normal(300, 15_000, n)).astype(np.int64)
    fee_cents = rng.integers(0, 300, n)
    out = []
    for i in range(n):
        price = Decimal(100)
        gross = Decimal(int(pnl_cents[i])) / 100
        fee = Decimal(int(fee_cents[i])) / 100
        x, e = int(exit_ms[i]), int(exit_ms[i] - hold[i])
        trip = RoundTrip(SYMBOLS[i % 40], "long", (Leg(e, 100, price, fee),),
                         (Leg(x, 100, price + gross / 100, Decimal(0)),), gross, fee,
                         Decimal(99) if i % 3 else None)
        out.append(JournalEntry(
            trip, setups=(SETUPS[int(rng.integers(0, 6))],) + (("news",) if i % 11 == 0 else ()),
            tags=("swing",) if i % 2 else (), emotion_before=EMOTIONS[i % 6],
            emotion_after=EMOTIONS[(i * 7) % 6], confidence=1 + i % 5,
            followed_plan=None if i % 10 == 0 else bool(i % 4),
            mistakes=(MISTAKES[i % 5],) if i % 4 == 0 else ()))
    return out


def _peer_frame(entries: list):  # type: ignore[no-untyped-def,type-arg]
    """The peer's columns: the journal as a DataFrame (built once, like our JournalFrame)."""
    import pandas as pd

    return pd.DataFrame({
        "pnl": [float(e.trip.gross_pnl - e.trip.fees) for e in entries],
        "exit": pd.to_datetime([e.trip.exits[-1].time_ms for e in entries], unit="ms"),
        "entry": pd.to_datetime([e.trip.entries[0].time_ms for e in entries], unit="ms"),
        "symbol": [e.trip.symbol for e in entries],
        "emotion_before": [e.emotion_before for e in entries],
        "emotion_after": [e.emotion_after for e in entries],
        "confidence": [e.confidence for e in entries],
        "followed": [e.followed_plan for e in entries],
        "setup": [e.setups for e in entries],
        "tag": [e.tags for e in entries],
        "mistake": [e.mistakes for e in entries],
    })


def _peer(df, start_equity: float):  # type: ignore[no-untyped-def]
    """What a user would write with empyrical and pandas: groupbys over the DataFrame."""
    import empyrical as ep
    import pandas as pd

    df = df.copy()
    df["win"] = df.pnl > 0
    df["weekday"] = df.entry.dt.dayofweek
    df["hour"] = df.entry.dt.hour

    def stats(g):  # type: ignore[no-untyped-def]
        return g.agg(n=("pnl", "size"), net=("pnl", "sum"), win_rate=("win", "mean"),
                     expectancy=("pnl", "mean"))

    out = {k: stats(df.groupby(k)) for k in ("symbol", "emotion_before", "emotion_after",
                                              "confidence", "followed", "weekday", "hour")}
    for k in ("setup", "tag", "mistake"):
        out[k] = stats(df.explode(k).dropna(subset=[k]).groupby(k))
    daily = df.groupby(df.exit.dt.normalize()).pnl.sum()
    days = pd.bdate_range("2024-01-01", "2024-12-31").union(daily.index)
    daily = daily.reindex(days, fill_value=0.0)
    equity = start_equity + daily.cumsum()
    r = (daily / equity.shift(1, fill_value=start_equity)).to_numpy()
    metrics = {f.__name__: f(r) for f in (ep.sharpe_ratio, ep.sortino_ratio, ep.cagr,
                                          ep.annual_volatility, ep.max_drawdown, ep.calmar_ratio)}
    return out, metrics, r


@benchmark("journal.review_100k")
def bench_review_100k() -> Result:
    from engine.journal.review import JournalFrame, Period, review

    entries = make_journal()
    period = Period.of("year", date(2024, 6, 1))
    holder: dict[str, object] = {}
    t0 = time.perf_counter()
    frame = JournalFrame.from_entries(entries)
    frame_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    df = _peer_frame(entries)
    df_s = time.perf_counter() - t0

    def ours() -> None:
        holder["r"] = review(frame, period, starting_equity=1_000_000.0)

    ours()  # warm (imports, first allocations)
    ours_s = best_of(ours, repeat=5)
    rv = holder["r"]
    _peer(df, 1_000_000.0)
    peer_s = best_of(lambda: _peer(df, 1_000_000.0), repeat=3)
    groups, metrics, _ = _peer(df, 1_000_000.0)
    # the same numbers: Sharpe and per-setup expectancy agree with the peer's
    sharpe_ours = rv.returns.sharpe  # type: ignore[attr-defined]
    same = (abs(sharpe_ours - metrics["sharpe_ratio"]) <= 1e-9 * abs(metrics["sharpe_ratio"])
            and all(abs(rv.by_setup[k].expectancy - groups["setup"].loc[k, "expectancy"]) < 1e-6  # type: ignore[attr-defined]
                    for k in SETUPS))
    if not same:
        print("WARNING: journal.review_100k numbers differ from empyrical/pandas", file=sys.stderr)
    if ours_s > 0.2:
        print(f"WARNING: journal.review_100k took {ours_s * 1e3:.0f} ms (> 200 ms target)", file=sys.stderr)
    note = (f"{N_TRIPS:,} trips, {len(rv.recommendations)} recommendations; "  # type: ignore[attr-defined]
            f"Sharpe {sharpe_ours:.4f} {'= empyrical' if same else 'DIFFERS'}; target ≤ 200 ms; "
            f"columns from 100k objects (untimed, once): ours {frame_s * 1e3:.0f} ms, "
            f"pandas DataFrame {df_s * 1e3:.0f} ms")
    return Result("journal.review_100k", ours_s, "empyrical+pandas", peer_s, note)
