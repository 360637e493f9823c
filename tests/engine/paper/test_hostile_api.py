"""Property (issue 7): arbitrary Python values at every argument of the broker's public API.

Every call either succeeds or raises our own ``PaperError``; afterwards the store reopens
with ``PaperBroker.open``, nothing is quarantined, and cash and positions reconcile with the
fills (cash = initial − Σ signed qty × price − Σ fees).
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.events import EventBus
from engine.paper import Bar, OrderRequest, PaperBroker, PaperError
from engine.paper.store import PaperStore

hostile = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([D("sNaN"), D("NaN"), D("-Infinity"), D("1e400"), D("-0"), True, 10**30, 1e22]),
    st.text(max_size=6),
    st.none(),
    st.lists(st.integers(), max_size=2),
)


def mostly(good: st.SearchStrategy, n: int = 10) -> st.SearchStrategy:
    """``good`` about n times out of n + 1, else something hostile (so state builds up too)."""
    return st.sampled_from([True] * n + [False]).flatmap(lambda ok: good if ok else hostile)


good_price = st.sampled_from([D("10"), 10, 10.5, "9.75", D("11.25"), 12])
price = mostly(good_price)
qty = mostly(st.sampled_from([1, 5, 50]))
symbol = mostly(st.sampled_from(["ORCL", "ORCL", "MSFT"]))
account = mostly(st.sampled_from(["a", "a", "b"]))
side = mostly(st.sampled_from(["buy", "sell", "BUY"]))
otype = mostly(st.sampled_from(["market", "market", "limit", "limit", "stop", "stop_limit", "trailing_stop"]))
tif = mostly(st.sampled_from(["gtc", "day", "ioc", "fok"]))
opt_price = st.one_of(st.none(), st.none(), st.none(), price)
prices4 = st.lists(st.sampled_from([9, 9.5, 10, 10.5, 11, 12]), min_size=4, max_size=4).map(
    lambda p: [p[1], max(p), min(p), p[2]])  # open, high, low, close: a consistent bar
quote3 = st.lists(st.sampled_from([9.9, 10, 10.1, 10.5, 11]), min_size=2, max_size=2).map(sorted)


@st.composite
def action(draw):
    kind = draw(st.sampled_from(["submit", "submit", "submit", "oco", "modify", "cancel", "quote", "quote",
                                 "bar", "bar", "create", "flatten", "reverse"]))
    if kind in ("submit", "oco"):
        reqs = [dict(symbol=draw(symbol), side=draw(side), qty=draw(qty), type=draw(otype),
                     limit_price=draw(opt_price), stop_price=draw(opt_price),
                     trail_amount=draw(opt_price), trail_percent=draw(opt_price),
                     tif=draw(tif), take_profit=draw(opt_price), stop_loss=draw(opt_price),
                     tag=draw(mostly(st.just(""))))
                for _ in range(2 if kind == "oco" else 1)]
        return kind, (draw(account), reqs)
    if kind == "modify":
        return kind, (draw(st.one_of(st.integers(0, 30), hostile)),
                      {k: draw(st.one_of(st.none(), st.none(), v)) for k, v in (
                          ("qty", qty), ("limit_price", price), ("stop_price", price),
                          ("trail_amount", price), ("trail_percent", price))})
    if kind == "cancel":
        return kind, (draw(st.one_of(st.integers(0, 30), hostile)),)
    if kind == "quote":
        bid, ask = draw(st.one_of(quote3, quote3, quote3, st.tuples(price, price)))
        return kind, (draw(symbol), bid, ask, draw(st.one_of(st.none(), st.none(), price)),
                      draw(st.one_of(st.none(), st.none(), st.none(), hostile)), draw(st.one_of(st.none(), qty)),
                      draw(st.one_of(st.none(), qty)))
    if kind == "bar":
        return kind, (draw(symbol), draw(st.one_of(st.none(), st.none(), st.none(), hostile)),
                      draw(st.one_of(prices4, prices4, prices4, st.lists(price, min_size=4, max_size=4))),
                      draw(mostly(st.sampled_from([1e6, 100.0, 0.0]))))
    if kind == "create":
        return kind, (draw(mostly(st.sampled_from(["a", "b", "c"]), 2)),
                      draw(mostly(st.sampled_from([100_000, "2500.50"]), 2)),
                      draw(mostly(st.sampled_from(["cash", "margin"]), 2)))
    return kind, (draw(account), draw(symbol))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "paper.sqlite3"
    b = PaperBroker.open(path, bus=EventBus(), clock=lambda: 1_700_000_000_000)
    b.create_account("a", 100_000, "margin")
    b.create_account("b", 50_000)
    b.close()
    return path


def run(b: PaperBroker, kind: str, args: tuple, oids: list[str], clock: list[int]) -> None:
    clock[0] += 60_000
    if kind in ("submit", "oco"):
        acct, specs = args
        reqs = [OrderRequest(**s) for s in specs]
        views = b.submit(acct, reqs[0]) if kind == "submit" else b.submit_oco(acct, reqs[0], reqs[1])
        for v in (views if isinstance(views, tuple) else (views,)):
            oids.append(v.order_id)
    elif kind == "modify":
        ref, kw = args
        b.modify(oids[ref % len(oids)] if isinstance(ref, int) and 0 <= ref < 31 and oids else ref, **kw)
    elif kind == "cancel":
        (ref,) = args
        b.cancel(oids[ref % len(oids)] if isinstance(ref, int) and 0 <= ref < 31 and oids else ref)
    elif kind == "quote":
        sym, bid, ask, last, t, bs, ks = args
        b.on_quote(sym, bid, ask, last, t, bs, ks)
    elif kind == "bar":
        sym, t, (o, h, lo, c), v = args
        b.on_bar(sym, Bar(clock[0] if t is None else t, o, h, lo, c, v))
    elif kind == "create":
        b.create_account(*args)
    elif kind == "flatten":
        b.flatten(*args)
    else:
        b.reverse(*args)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(actions=st.lists(action(), min_size=5, max_size=20))
def test_hostile_values_either_work_or_raise_our_error_and_the_store_reopens(template, actions):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "paper.sqlite3"
        shutil.copy(template, path)
        clock = [1_700_000_000_000]
        # the hostile run on a connection without fsync (speed); the reopen below is the real one
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA foreign_keys=ON")
        b = PaperBroker(PaperStore(conn), bus=EventBus(), clock=lambda: clock[0])
        oids: list[str] = []
        for kind, args in actions:
            try:
                run(b, kind, args, oids, clock)
            except PaperError as exc:
                msg = str(exc)
                assert msg and "\n" not in msg and len(msg) < 400  # one sentence
        before = {n: (b.account_summary(n).cash, sorted((p.symbol, p.qty) for p in b.positions(n)))
                  for n in b.accounts()}
        b.close()
        again = PaperBroker.open(path, bus=EventBus(), clock=lambda: clock[0])
        try:
            assert again.quarantined == []
            assert set(again.accounts()) == set(before)
            for n in again.accounts():
                s = again.account_summary(n)
                fills = again.fills(n)
                cash = s.initial_cash - sum((f.signed_qty * f.price + f.fee for f in fills), D(0))
                pos: dict[str, int] = {}
                for f in fills:
                    pos[f.symbol] = pos.get(f.symbol, 0) + f.signed_qty
                assert s.cash == cash == before[n][0]
                assert sorted((p.symbol, p.qty) for p in again.positions(n)) == \
                    sorted((k, q) for k, q in pos.items() if q) == before[n][1]
        finally:
            again.close()
