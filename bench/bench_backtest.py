"""Backtester and paper broker benchmarks.

* ``backtest.sma_cross_100k``: an SMA 10/30 crossover (formula entries/exits, 100 shares,
  market orders at the next open) over 100,000 daily bars of a seeded random walk, through
  the full event-driven engine (order objects, transition table, exact ledger), against
  backtrader on the same bars. The trades must be identical; a warning is printed if not.
* ``paper.submit_ack_latency``: submit → acknowledged in live paper mode, including the
  durable SQLite commit (WAL, synchronous=FULL); ours_s is the median, the note has p99.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

from bench.core import Result, benchmark, best_of
from engine.data.bars import Bars

N_BARS = 100_000
ENTRY = "crosses_above(sma(close,10), sma(close,30))"
EXIT = "crosses_below(sma(close,10), sma(close,30))"


def random_walk(n: int, seed: int = 11) -> Bars:
    """Daily OHLCV of a geometric random walk (prices to 1e-6 like Yahoo CSVs, so the SMAs do not tie)."""
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.012, n)))
    open_ = close * np.exp(rng.normal(0, 0.005, n))
    hi = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.005, n)))
    lo = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.005, n)))
    o, h, low, c = (np.round(a, 6) for a in (open_, hi, lo, close))
    h = np.maximum.reduce([h, o, c])
    low = np.minimum.reduce([low, o, c])
    t = (np.datetime64("1800-01-01") + np.arange(n)).astype("datetime64[s]").astype(np.int64)
    v = rng.integers(500_000, 5_000_000, n).astype(float)
    return Bars.from_arrays("RW", "1d", t, o, h, low, c, v)


def _backtrader(bars: Bars) -> tuple[list[tuple], float]:
    import backtrader as bt

    df = bars.to_frame()
    df["openinterest"] = 0

    class SmaCross(bt.Strategy):
        def __init__(self) -> None:
            self.x = bt.ind.CrossOver(bt.ind.SMA(period=10), bt.ind.SMA(period=30))
            self.fills: list[tuple] = []

        def notify_order(self, order) -> None:  # type: ignore[no-untyped-def]
            if order.status == order.Completed:
                self.fills.append((int(round(bt.num2date(order.executed.dt).timestamp())),
                                   order.executed.size, order.executed.price))

        def next(self) -> None:
            if not self.position:
                if self.x[0] > 0:
                    self.buy(size=100)
            elif self.x[0] < 0:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(100_000.0)
    cerebro.adddata(bt.feeds.PandasData(dataname=df))
    cerebro.addstrategy(SmaCross)
    strat = cerebro.run()[0]
    return strat.fills, cerebro.broker.getvalue()


@benchmark("backtest.sma_cross_100k")
def bench_sma_cross() -> Result:
    from engine.paper.backtest import FixedQty, RuleStrategy, run_backtest

    bars = random_walk(N_BARS)
    strat = RuleStrategy(ENTRY, EXIT, FixedQty(100))
    holder: dict[str, object] = {}

    def ours() -> None:
        holder["r"] = run_backtest(bars, strat, cash=100_000)

    ours()  # warm caches (formula parse, imports)
    ours_s = best_of(ours, repeat=5)
    result = holder["r"]
    t0 = time.perf_counter()
    bt_fills, bt_value = _backtrader(bars)
    peer_s = time.perf_counter() - t0
    mine = [(f.time_ms // 1000, f.qty if f.side.value == "buy" else -f.qty, float(f.price))
            for f in result.fills]  # type: ignore[attr-defined]
    same = len(mine) == len(bt_fills) and all(
        a[0] == b[0] and a[1] == b[1] and abs(a[2] - b[2]) < 1e-9 for a, b in zip(mine, bt_fills)
    )
    equity_diff = abs(float(result.final_equity) - bt_value)  # type: ignore[attr-defined]
    if not same or equity_diff >= 0.005:
        print(f"WARNING: backtest.sma_cross_100k trades differ from backtrader "
              f"({len(mine)} vs {len(bt_fills)} fills, equity diff {equity_diff:.4f})", file=sys.stderr)
    note = (f"{N_BARS / ours_s:,.0f} bars/s vs backtrader {N_BARS / peer_s:,.0f} bars/s; "
            f"{len(mine)} fills, {'identical trades' if same else 'TRADES DIFFER'}, "
            f"equity diff {equity_diff:.4f}")
    return Result("backtest.sma_cross_100k", ours_s, "backtrader", peer_s, note)


def _submit_latencies(keep_working: bool, n: int = 1000) -> list[float]:
    """Seconds from submit() to the acknowledged order (durable commit included).

    ``keep_working``: every order stays working (1000 accumulate: the buying-power check
    scans the working orders, so this is the stress case); otherwise each acknowledged
    order is cancelled before the next submit (untimed), as a trader's few orders are.
    """
    from engine.events import EventBus
    from engine.paper.broker import PaperBroker
    from engine.paper.orders import OrderRequest, OrderType, Side, TimeInForce

    with tempfile.TemporaryDirectory() as d:
        broker = PaperBroker.open(Path(d) / "paper.sqlite3", bus=EventBus())
        broker.create_account("bench", 10_000_000, "margin")
        broker.on_quote("AAPL", 99.99, 100.01, 100.0)
        lat = []
        for i in range(n):
            req = OrderRequest("AAPL", Side.BUY, 1 + i % 7, OrderType.LIMIT,
                               limit_price=Decimal("90.00") - Decimal(i % 50) / 100, tif=TimeInForce.GTC)
            t0 = time.perf_counter()
            o = broker.submit("bench", req)
            lat.append(time.perf_counter() - t0)
            assert o.is_working
            if not keep_working:
                broker.cancel(o.order_id)
        broker.close()
    return sorted(lat)


def _latency_result(name: str, lat: list[float], what: str) -> Result:
    p50 = statistics.median(lat)
    p99 = lat[int(len(lat) * 0.99) - 1]
    return Result(name, p50, None, None,
                  f"p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms, max {lat[-1] * 1e3:.2f} ms "
                  f"({len(lat)} submits, durable commit each; {what})")


@benchmark("paper.submit_ack_latency")
def bench_submit_latency() -> list[Result]:
    return [
        _latency_result("paper.submit_ack_latency", _submit_latencies(False),
                        "one working order at a time"),
        _latency_result("paper.submit_ack_latency_1000_working", _submit_latencies(True),
                        "orders accumulate to 1000 working"),
    ]


def _window_latencies(n: int = 1000) -> list[float]:
    """Seconds from the ticket's send (``TradingSession.send_orders``, the window's path) to
    the acknowledged order handed back on the GUI thread, through the broker thread, while
    orders accumulate to ``n`` working."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from engine.events import EventBus
    from engine.paper.broker import PaperBroker
    from engine.paper.orders import OrderRequest, OrderType, Side, TimeInForce
    from engine.paper.session import PaperSession
    from widgets.trading.session import BrokerThread, TradingSession

    app = QCoreApplication.instance() or QCoreApplication([])
    with tempfile.TemporaryDirectory() as d:
        bus = EventBus()
        broker = PaperBroker.open(Path(d) / "paper.sqlite3", bus=bus)
        broker.create_account("bench", 10_000_000, "margin")
        broker.on_quote("AAPL", 99.99, 100.01, 100.0)
        core = PaperSession(broker, bus, account="bench")
        s = TradingSession(core, None, bus.subscribe, commands=BrokerThread())  # type: ignore[arg-type]
        loop = QEventLoop()
        lat = []
        for i in range(n):
            req = OrderRequest("AAPL", Side.BUY, 1 + i % 7, OrderType.LIMIT,
                               limit_price=Decimal("90.00") - Decimal(i % 50) / 100, tif=TimeInForce.GTC)
            t0 = time.perf_counter()
            got: list[float] = []

            def done(res: object, t0: float = t0, got: list[float] = got) -> None:
                got.append(time.perf_counter() - t0)
                loop.quit()

            s.send_orders([req], done)
            if not got:
                loop.exec()
            lat.append(got[0])
        s.close()
        core.close()
        broker.close()
    del app
    return sorted(lat)


@benchmark("paper.submit_ack_latency_window")
def bench_window_submit_latency() -> list[Result]:
    return [_latency_result("paper.submit_ack_latency_window_1000_working", _window_latencies(),
                            "the window's path: ticket send → broker thread → result on the GUI thread, "
                            "orders accumulate to 1000 working")]
