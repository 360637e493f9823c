"""``stockscanner paper``: headless paper trading on the data folder's paper store, through
the same ``PaperSession``, quote source (``engine.paper.feed.DataQuotes``) and market checks
(``engine.paper.checks``) as the window.

Sub-commands::

    stockscanner paper accounts
    stockscanner paper quote SYMBOL
    stockscanner paper order SYMBOL --side buy|sell --qty N
        --type market|limit|stop|stop-limit|trailing|bracket [--limit P] [--stop P]
        [--trail P|P%] [--take-profit P] [--stop-loss P] [--tif day|gtc|ioc|fok] [--yes]
    stockscanner paper order --leg "buy 1 AAPL  261218C00200000" --leg "sell 1 ..." ...
        [--limit P [--credit]] [--tif day|gtc|ioc|fok]
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

SYMBOL may be an OCC option symbol (``"AAPL  261218C00200000"`` padded, or
``AAPL261218C00200000``): ``--qty`` is then contracts (× 100 shares), prices per share, and
the quote comes from the underlying's option chain (``engine.paper.option_quotes``). Two or
more ``--leg "buy|sell N OCC"`` make one multi-leg package filled all-or-none at a net price
(``engine.paper.options``): ``--limit P`` is the net debit per package unit at most P, with
``--credit`` (or a negative P) a net credit of at least P; without ``--limit`` it fills at the
legs' ask/bid now. ``order --json`` for a package is ``{"package", "state", "net_price",
"limit", "legs": [order, ...]}`` (each leg as a single order's JSON).

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
    o.add_argument("symbol", nargs="?", help="a ticker, or an OCC option symbol (contracts); omit with --leg")
    o.add_argument("--side", choices=("buy", "sell"))
    o.add_argument("--qty", type=_whole, metavar="N", help="shares (contracts for an option)")
    o.add_argument("--leg", action="append", default=[], metavar='"buy|sell N OCC"',
                   help="one leg of a multi-leg option package (give two or more; all fill or none)")
    o.add_argument("--credit", action="store_true", help="a package's --limit is a net credit (at least P)")
    o.add_argument("--type", default="market", choices=ORDER_TYPES, dest="order_type")
    o.add_argument("--limit", metavar="P", help="limit price (a bracket with --limit has a limit entry; "
                   "a package: the net debit per unit, see --credit)")
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


def option_quotes(db: Any, data: Any) -> Any:
    """The session's quote source: the data's quotes for shares, the option chains (the
    options feature's ``ChainService``: demo or cached Yahoo) for OCC symbols."""
    from engine.options.yahoo import ChainService, YahooChainSource
    from engine.paper.feed import DataQuotes
    from engine.paper.option_quotes import OptionQuotes

    chains = ChainService(db, lambda: data.source, YahooChainSource())
    return OptionQuotes(DataQuotes(data), lambda root: chains.get(root).chain)


def daily_close(data: Any) -> Any:
    """``close_of(symbol, day)`` for expiry settlement: the close of ``day``'s stored daily bar."""
    def close_of(symbol: str, day: _dt.date) -> Decimal | None:
        import numpy as np

        try:
            bars = data.get_bars(symbol, "1d")
        except Exception:  # noqa: BLE001 - no data: the expiry waits
            return None
        if bars is None or not len(bars.time):
            return None
        days = np.asarray(bars.time, dtype="datetime64[s]").astype("datetime64[D]")
        hit = np.flatnonzero(days == np.datetime64(day, "D"))
        if hit.size == 0:
            return None
        return Decimal(repr(float(bars.close[int(hit[-1])]))).quantize(Decimal("0.000001"))

    return close_of


@contextmanager
def _seat(args: argparse.Namespace, create_default: bool = False) -> Iterator[_Seat]:
    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.paper.broker import PaperBroker
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
        quotes = option_quotes(db, data)
        session = PaperSession(broker, bus, account=args.account.strip() if args.account else None, source=quotes,
                               close_of=daily_close(data))
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


def _symbol(text: str | None) -> str:
    """A ticker (``normalize_symbol``) or an OCC option symbol in the broker's compact form."""
    from engine.data.errors import DataError
    from engine.data.symbols import normalize_symbol
    from engine.paper.contracts import option_contract

    if not text:
        raise CliError("give a SYMBOL (with --side and --qty), or two or more --leg")
    c = option_contract(text)
    if c is not None:
        return c.symbol
    try:
        return normalize_symbol(text)
    except DataError as exc:
        raise CliError(str(exc)) from None


def _quote(args: argparse.Namespace) -> int:
    sym = _symbol(args.symbol)
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


def parse_leg(text: str) -> tuple[str, int, str]:
    """``"buy 1 AAPL  261218C00200000"`` → ("buy", 1, "AAPL261218C00200000"). Raises ``CliError``."""
    from engine.paper.contracts import option_contract

    parts = text.split(None, 2)
    if len(parts) != 3 or parts[0].lower() not in ("buy", "sell") or not parts[1].isdigit() or int(parts[1]) <= 0:
        raise CliError(f'a leg is "buy|sell N OCC-SYMBOL" (e.g. "buy 1 AAPL  261218C00200000"), not {text!r}')
    c = option_contract(parts[2])
    if c is None:
        raise CliError(f"{parts[2].strip()!r} in leg {text!r} is not an OCC option symbol")
    return parts[0].lower(), int(parts[1]), c.symbol


def _package(args: argparse.Namespace) -> int:
    from engine.paper.orders import OrderRequest

    if args.symbol or args.side or args.qty:
        raise CliError("a package is given by its --leg options only (no SYMBOL, --side or --qty)")
    if len(args.leg) < 2:
        raise CliError("a package needs two or more --leg; one contract is an order of its OCC symbol")
    if args.order_type != "market" and args.order_type != "limit" or args.stop or args.trail \
            or args.take_profit or args.stop_loss:
        raise CliError("a package takes only --limit (its net price), --credit and --tif")
    legs = [parse_leg(x) for x in args.leg]
    net: Decimal | None = None
    if args.limit is not None:
        try:
            net = Decimal(args.limit.strip())
        except ArithmeticError:
            raise CliError(f"--limit must be a number, not {args.limit!r}") from None
        if not net.is_finite():
            raise CliError(f"--limit must be a finite number, not {args.limit!r}")
        if args.credit:
            net = -abs(net)
    elif args.credit:
        raise CliError("--credit goes with --limit (the net credit to receive at least)")
    with _seat(args, create_default=True) as seat:
        s = seat.session
        s.watch("cli", [sym for _side, _q, sym in legs])
        assert s.feed is not None
        s.feed.poll()
        try:
            reqs = [OrderRequest(sym, side, q) for side, q, sym in legs]
        except ValueError as exc:
            raise CliError(str(exc)) from None
        res = s.submit_package(reqs, net, tif=args.tif)
        if not res.ok or res.value is None:
            raise CliError(res.error or "the package was not sent")
        views = [seat.broker.order(v.order_id) for v in res.value]
        fills = seat.broker.fills(s.account)
    out = {"package": views[0].oco_group, "state": views[0].state.value,
           "net_price": _num(_package_fill_net(views)), "limit": _num(net),
           "legs": [_order_json(v, fills) for v in views]}
    if args.json:
        _print_json(out)
    else:
        print(f"package {out['package']}: {out['state']}, net {out['net_price'] or '-'} per share"
              f" (limit {out['limit'] or 'market'})")
        for v in views:
            print("  " + _order_line(v))
    return 0


def _package_fill_net(views: list[Any]) -> Decimal | None:
    """The filled package's net per unit (debit > 0) from the legs' fill prices."""
    if not views or any(v.avg_fill_price is None for v in views):
        return None
    import math

    g = 0
    for v in views:
        g = math.gcd(g, v.qty)
    return sum(((v.avg_fill_price * (v.qty // g)) * (1 if v.side.value == "buy" else -1) for v in views), Decimal(0))


def _order(args: argparse.Namespace) -> int:
    from engine.paper.orders import OrderType, Quote
    from engine.paper.ticket import TicketError, build_requests

    if args.leg:
        return _package(args)
    sym = _symbol(args.symbol)
    if args.side is None or args.qty is None:
        raise CliError("an order needs --side and --qty")
    if args.credit:
        raise CliError("--credit is for a package's net price (with --leg)")
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
            "realized_pnl": _num(p.realized_pnl), "fees": _num(p.fees), "multiplier": _num(p.multiplier)}
           for p in ps]
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
