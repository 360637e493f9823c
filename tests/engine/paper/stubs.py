"""Shared builders for the paper broker tests (bars, signals, a backtrader reference run)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.bars import Bars
from engine.paper.orders import Bar

D = Decimal


def bar(o, h, low, c, v=1_000_000.0, t=1_000_000) -> Bar:
    """A matching bar from plain numbers (t in epoch ms)."""
    return Bar(t, D(str(o)), D(str(h)), D(str(low)), D(str(c)), float(v))


def load_yahoo(path: Path, symbol: str = "ORCL") -> Bars:
    """Raw Open/High/Low/Close/Volume of a Yahoo CSV (Adj Close ignored), daily bars."""
    df = pd.read_csv(path, parse_dates=["Date"]).set_index("Date")
    df = df.rename(columns=str.lower)[["open", "high", "low", "close", "volume"]]
    return Bars.from_frame(symbol, "1d", df, source="csv")


def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Simple moving average with TA-Lib's NaN warm-up (the first n-1 values)."""
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        c = np.cumsum(np.insert(x, 0, 0.0))
        out[n - 1:] = (c[n:] - c[:-n]) / n
    return out


def crossover(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """backtrader's CrossOver: +1 where a crosses above b, -1 below, 0 else (it remembers the
    last non-zero difference, so touching and going back is not a cross)."""
    d = a - b
    nzd = pd.Series(np.where(d == 0, np.nan, d)).ffill().to_numpy()
    prev = np.concatenate([[np.nan], nzd[:-1]])
    up = (prev < 0) & (a > b)
    down = (prev > 0) & (a < b)
    return up.astype(int) - down.astype(int)


def sma_cross_rules(fast: int = 10, slow: int = 30):
    """(entry, exit) signal callables of the SMA fast/slow crossover."""
    def x(bars: Bars) -> np.ndarray:
        return crossover(sma(bars.close, fast), sma(bars.close, slow))

    return (lambda b: x(b) > 0), (lambda b: x(b) < 0)


def backtrader_sma_cross(bars: Bars, qty: int = 100, cash: float = 100000.0) -> dict:
    """Run backtrader's SMA 10/30 CrossOver strategy on ``bars``; its fills and final value."""
    import backtrader as bt

    df = bars.to_frame()
    df["openinterest"] = 0

    class SmaCross(bt.Strategy):
        def __init__(self):
            self.x = bt.ind.CrossOver(bt.ind.SMA(period=10), bt.ind.SMA(period=30))
            self.fills = []

        def notify_order(self, order):
            if order.status == order.Completed:
                self.fills.append((
                    bt.num2date(order.executed.dt).date(),
                    "buy" if order.isbuy() else "sell",
                    order.executed.size, order.executed.price,
                ))

        def next(self):
            if not self.position:
                if self.x[0] > 0:
                    self.buy(size=qty)
            elif self.x[0] < 0:
                self.close()

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(cash)
    cerebro.adddata(bt.feeds.PandasData(dataname=df))
    cerebro.addstrategy(SmaCross)
    strat = cerebro.run()[0]
    return {"fills": strat.fills, "value": cerebro.broker.getvalue(), "cash": cerebro.broker.getcash()}


def fill_rows(result) -> list[tuple]:
    """Our fills in backtrader_sma_cross's shape (date, side, signed size, price)."""
    out = []
    for f in result.fills:
        d = dt.datetime.fromtimestamp(f.time_ms / 1000, dt.UTC).date()
        out.append((d, f.side.value, f.qty if f.side.value == "buy" else -f.qty, float(f.price)))
    return out


def random_walk_bars(n: int, seed: int = 7, symbol: str = "RW") -> Bars:
    """Daily OHLCV of a geometric random walk, prices rounded to cents (realistic quotes)."""
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    open_ = close * np.exp(rng.normal(0, 0.006, n))
    hi = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.006, n)))
    lo = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.006, n)))
    r = lambda a: np.round(a, 2)  # noqa: E731
    o, h, low, c = r(open_), r(hi), r(lo), r(close)
    h = np.maximum.reduce([h, o, c])
    low = np.minimum.reduce([low, o, c])
    t = (np.datetime64("1990-01-01") + np.arange(n)).astype("datetime64[s]").astype(np.int64)
    v = rng.integers(200_000, 5_000_000, n).astype(float)
    return Bars.from_arrays(symbol, "1d", t, o, h, low, c, v)
