"""``stockscanner paper``: headless paper trading on the data folder's paper store, through
the same ``PaperSession``, quote source (``engine.paper.feed.DataQuotes``) and market checks
(``engine.paper.checks``) as the window.

Sub-commands::

    stockscanner paper accounts
    stockscanner paper quote SYMBOL
    stockscanner paper order SYMBOL --side buy|sell --qty N
        --type market|limit|stop|stop-limit|trailing|bracket [--limit P] [--stop P]
        [--trail P|P%] [--take-profit P] [--stop-loss P] [--tif day|gtc|ioc|fok] [--yes]
    stockscanner paper orders [--all]
    stockscanner paper positions
    stockscanner paper cancel ID

each with ``[--account NAME] [--json]``. JSON: every number (prices, money, quantities) is a
string holding the exact decimal (``"44.96"``, ``"100"``), never a float; times are ISO 8601
UTC text (``"2026-12-02T14:30:05.123Z"``). ``quote --json`` is ``{"symbol", "bid", "ask",
"last", "time", "source"}``; ``order --json`` is ``{"id", "state", "fills": [{"price",
"qty", "time"}, ...]}`` (plus symbol, side, qty, type, tif). A market order fills at once
against the current quote. Exit 1 with one sentence on stderr (and ``{"error": ...}`` on
stdout with ``--json``) when there is no quote, when the checks or the broker refuse the
order, or when it needs confirmation (a price far from the market): the question is the
message, and ``--yes`` answers it.

On a store without accounts, ``order`` first creates the account the window would create
(``Paper``, $100,000, cash, IBKR Pro fixed commissions).
"""
from __future__ import annotations

import argparse
import datetime as _dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.cli import CliError, _print_json

#: the account the window creates on first start (``app/trading.py``, which imports Qt)
DEFAULT_ACCOUNT = "Paper"
DEFAULT_CASH = 100_000
ORDER_TYPES = ("market", "limit", "stop", "stop-limit", "trailing", "bracket")
TIFS = ("day", "gtc", "ioc", "fok")


def add_paper(parser: argparse.ArgumentParser) -> None:
    """The ``paper`` verb's sub-commands and options (``app/features/trading.py``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--account", metavar="NAME", help="paper account (default: the first one)")
    common.add_argument("--json", action="store_true", help="machine-readable output (numbers as exact strings)")
    sub = parser.add_subparsers(dest="paper_cmd", metavar="COMMAND", required=True)
    sub.add_parser("accounts", parents=[common], help="list the paper accounts with cash, equity and costs")
    q = sub.add_parser("quote", parents=[common], help="the current quote of a symbol (from its own data)")
    q.add_argument("symbol")
    o = sub.add_parser("order", parents=[common], help="send an order, checked against the market first")
    o.add_argument("symbol")
    o.add_argument("--side", required=True, choices=("buy", "sell"))
    o.add_argument("--qty", required=True, type=_whole, metavar="N", help="shares")
    o.add_argument("--type", default="market", choices=ORDER_TYPES, dest="order_type")
    o.add_argument("--limit", metavar="P", help="limit price (a bracket with --limit has a limit entry)")
    o.add_argument("--stop", metavar="P", help="stop price")
    o.add_argument("--trail", metavar="P", help="trailing stop: amount, or percent with %% (2.5%%)")
    o.add_argument("--take-profit", metavar="P", help="bracket take-profit price")
    o.add_argument("--stop-loss", metavar="P", help="bracket stop-loss price")
    o.add_argument("--tif", default="day", choices=TIFS)
    o.add_argument("--yes", action="store_true", help="confirm an order the checks ask about")
    lst = sub.add_parser("orders", parents=[common], help="the account's working orders")
    lst.add_argument("--all", action="store_true", help="every order, not only the working ones")
    sub.add_parser("positions", parents=[common], help="the account's open positions")
    c = sub.add_parser("cancel", parents=[common], help="cancel a working order")
    c.add_argument("order_id", metavar="ID")


def _whole(text: str) -> int:
    t = text.strip().replace(",", "")
    if not t.isdigit() or int(t) <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number of shares, not '{text}'")
    return int(t)


# --------------------------------------------------------------------------- formatting

def _num(v: Decimal | int | None) -> str | None:
    """An exact decimal as JSON text (no exponent, no float); None stays None."""
    if v is None:
        return None
    return str(v) if isinstance(v, int) else f"{v.normalize():f}"


def _time(ms: int) -> str:
    t = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class _Seat:
    session: Any  # engine.paper.session.PaperSession
    broker: Any  # engine.paper.broker.PaperBroker
    quotes: Any  # engine.paper.feed.DataQuotes


@contextmanager
def _seat(args: argparse.Namespace, create_default: bool = False) -> Iterator[_Seat]:
    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.paper.broker import PaperBroker
    from engine.paper.feed import DataQuotes
    from engine.paper.session import PaperSession
    from engine.store.db import open_database

    bus = EventBus()
    db = open_database()
    broker = PaperBroker.open(db.path, bus=bus)
    session = None
    try:
        if create_default and not broker.accounts():
            broker.create_account(DEFAULT_ACCOUNT, DEFAULT_CASH, "cash")
        if args.account is not None and args.account.strip() not in broker.accounts():
            names = ", ".join(broker.accounts()) or "none yet"
            raise CliError(f"no paper account named {args.account!r} (accounts: {names})")
        data = DataService.open_default_on(db, bus=bus)
        quotes = DataQuotes(data)
        session = PaperSession(broker, bus, account=args.account.strip() if args.account else None, source=quotes)
        yield _Seat(session, broker, quotes)
    finally:
        if session is not None:
            session.close()
        broker.close()
        db.dispose()


def _order_json(o: Any, fills: list[Any]) -> dict[str, Any]:
    return {
        "id": o.order_id, "state": o.state.value, "symbol": o.symbol, "side": o.side.value,
        "qty": _num(o.qty), "filled_qty": _num(o.filled_qty), "type": o.type.value, "tif": o.tif.value,
        "limit": _num(o.limit_price), "stop": _num(o.stop_price), "reason": o.reason,
        "fills": [{"price": _num(f.price), "qty": _num(f.qty), "fee": _num(f.fee), "time": _time(f.time_ms)}
                  for f in fills if f.order_id == o.order_id],
    }


def _order_line(o: Any) -> str:
    px = " ".join(p for p in (f"lmt {_num(o.limit_price)}" if o.limit_price is not None else "",
                              f"stp {_num(o.stop_price)}" if o.stop_price is not None else "") if p)
    filled = f", {o.filled_qty} filled" if o.filled_qty else ""
    why = f" ({o.reason})" if o.reason else ""
    return f"{o.order_id}  {o.side.value} {o.qty} {o.symbol} {o.type.value} {px} {o.tif.value}: {o.state.value}" \
           f"{filled}{why}".replace("  :", ":")


# --------------------------------------------------------------------------- sub-commands

def cmd_paper(args: argparse.Namespace) -> int:
    """Run ``stockscanner paper COMMAND``; 0 done, 1 refused (see module docstring)."""
    cmd = args.paper_cmd
    if cmd == "accounts":
        return _accounts(args)
    if cmd == "quote":
        return _quote(args)
    if cmd == "order":
        return _order(args)
    if cmd == "orders":
        return _orders(args)
    if cmd == "positions":
        return _positions(args)
    return _cancel(args)


def _accounts(args: argparse.Namespace) -> int:
    with _seat(args) as seat:
        rows = []
        for name in seat.broker.accounts():
            s = seat.broker.account_summary(name)
            cfg = seat.broker.account_config(name)
            rows.append({"name": name, "kind": s.kind.value, "cash": _num(s.cash), "equity": _num(s.equity),
                         "buying_power": _num(s.buying_power), "realized_pnl": _num(s.realized_pnl),
                         "fees": _num(s.fees), "commission": cfg.commission.spec()})
    if args.json:
        _print_json(rows)
    elif not rows:
        print("No paper accounts yet (an order creates 'Paper' with $100,000).")
    else:
        for r in rows:
            print(f"{r['name']} ({r['kind']}): cash {r['cash']}, equity {r['equity']}, buying power "
                  f"{r['buying_power']}, fees paid {r['fees']}, commission {r['commission']}")
    return 0


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def _quote(args: argparse.Namespace) -> int:
    from engine.data.errors import DataError
    from engine.data.symbols import normalize_symbol

    try:
        sym = normalize_symbol(args.symbol)
    except DataError as exc:
        raise CliError(str(exc)) from None
    with _seat(args) as seat:
        q = seat.quotes.quote(sym, _now_ms())
        if q is None:
            raise CliError(seat.quotes.no_quote_reason(sym) or f"no quote for {sym}")
        label = seat.quotes.label
        stale = seat.quotes.stale_reason(sym)
    out = {"symbol": q.symbol, "bid": _num(q.bid), "ask": _num(q.ask), "last": _num(q.last),
           "time": _time(q.time_ms), "source": label}
    if args.json:
        _print_json(out)
    else:
        print(f"{q.symbol}  bid {out['bid']}  ask {out['ask']}  last {out['last']}  ({label}, {out['time']})"
              + (f"\nwarning: {stale}" if stale else ""))
    return 0


def _spec(args: argparse.Namespace, sym: str) -> Any:
    from engine.paper.orders import Side, TimeInForce
    from engine.paper.ticket import TicketKind, TicketSpec

    kind = {"market": TicketKind.MARKET, "limit": TicketKind.LIMIT, "stop": TicketKind.STOP,
            "stop-limit": TicketKind.STOP_LIMIT, "trailing": TicketKind.TRAILING_STOP,
            "bracket": TicketKind.BRACKET}[args.order_type]
    trail = args.trail.strip() if args.trail else None
    pct = bool(trail and trail.endswith("%"))
    given = {"--limit": args.limit, "--stop": args.stop, "--trail": args.trail,
             "--take-profit": args.take_profit, "--stop-loss": args.stop_loss}
    takes = {TicketKind.MARKET: (), TicketKind.LIMIT: ("--limit",), TicketKind.STOP: ("--stop",),
             TicketKind.STOP_LIMIT: ("--limit", "--stop"), TicketKind.TRAILING_STOP: ("--trail",),
             TicketKind.BRACKET: ("--limit", "--take-profit", "--stop-loss")}[kind]
    extra = [k for k, v in given.items() if v is not None and k not in takes]
    if extra:
        raise CliError(f"a {args.order_type} order takes no {' or '.join(extra)}")
    return TicketSpec(sym, Side(args.side), kind, args.qty, limit=args.limit, stop=args.stop,
                      trail=trail.rstrip("%").strip() if trail else None, trail_percent=pct,
                      take_profit=args.take_profit, stop_loss=args.stop_loss,
                      limit_entry=kind is TicketKind.BRACKET and args.limit is not None,
                      tif=TimeInForce(args.tif))


def _order(args: argparse.Namespace) -> int:
    from engine.data.errors import DataError
    from engine.data.symbols import normalize_symbol
    from engine.paper.orders import OrderType, Quote
    from engine.paper.ticket import TicketError, build_requests

    try:
        sym = normalize_symbol(args.symbol)
    except DataError as exc:
        raise CliError(str(exc)) from None
    with _seat(args, create_default=True) as seat:
        s = seat.session
        s.watch("cli", [sym])
        assert s.feed is not None
        s.feed.poll()  # the current quote (and the working orders' symbols, as in the window)
        quote = s.quote(sym)
        try:
            reqs = build_requests(_spec(args, sym), quote).requests
        except TicketError as exc:
            raise CliError(str(exc)) from None
        res = s.submit_all(reqs, confirmed=args.yes)
        if res.confirm:
            raise CliError(" ".join(res.confirm) + " Add --yes to send it.")
        if not res.ok or res.value is None:
            raise CliError(res.error or "the order was not sent")
        views = list(res.value)
        if quote is not None and any(v.type is OrderType.MARKET for v in views):
            # a market order fills at once against the quote it was checked on
            s.apply_quotes([Quote(quote.symbol, quote.bid, quote.ask, quote.last, max(_now_ms(), quote.time_ms))])
        views = [seat.broker.order(v.order_id) for v in views]
        fills = seat.broker.fills(s.account)
    out = [_order_json(v, fills) for v in views]
    if args.json:
        _print_json(out[0] if len(out) == 1 else out)
    else:
        for v, o in zip(views, out):
            print(_order_line(v))
            for f in o["fills"]:
                print(f"  filled {f['qty']} at {f['price']} (fee {f['fee']}) {f['time']}")
    return 0


def _orders(args: argparse.Namespace) -> int:
    with _seat(args) as seat:
        name = seat.session.account
        views = seat.broker.orders(name, working_only=not args.all) if name else []
        fills = seat.broker.fills(name) if name else []
    out = [_order_json(v, fills) for v in views]
    if args.json:
        _print_json(out)
    elif not views:
        print("No working orders." if not args.all else "No orders.")
    else:
        for v in views:
            print(_order_line(v))
    return 0


def _positions(args: argparse.Namespace) -> int:
    with _seat(args) as seat:
        name = seat.session.account
        ps = seat.broker.positions(name) if name else []
    out = [{"symbol": p.symbol, "qty": _num(p.qty), "avg_price": _num(p.avg_price), "cost": _num(p.cost),
            "realized_pnl": _num(p.realized_pnl), "fees": _num(p.fees)} for p in ps]
    if args.json:
        _print_json(out)
    elif not out:
        print("No open positions.")
    else:
        for r in out:
            print(f"{r['symbol']}  {r['qty']} at {r['avg_price']}  (realized {r['realized_pnl']}, fees {r['fees']})")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    with _seat(args) as seat:
        res = seat.session.cancel(args.order_id)
        if not res.ok or res.value is None:
            raise CliError(res.error or f"order {args.order_id} was not cancelled")
        o = res.value
    if args.json:
        _print_json({"id": o.order_id, "state": o.state.value})
    else:
        print(f"{o.order_id}: {o.state.value}")
    return 0


__all__ = ["add_paper", "cmd_paper"]
