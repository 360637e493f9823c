"""The options feature: ``stockscanner options price|iv|chain`` (issue 12's CLI contract).

Units (the engine's, stated in ``--help`` and the README): ``--rate``, ``--vol`` and
``--dividend`` are continuously compounded annual *decimals* (0.05 = 5 %); ``--years`` is
ACT/365 years; prices are per share. Values that look like percent points (a rate or yield of
1 or more, a vol above 5 = 500 %) are refused with a hint rather than priced. Output: vega and
rho per 1 vol / rate point, theta per calendar day.

Exit status: 0 done — also for ``iv`` when the price is outside the no-arbitrage bounds (the
input was valid; the answer is "no vol exists": ``{"iv": null, "reason": ...}``); 1 bad
input (one sentence on stderr); 2 usage (argparse: unknown option, a non-number).

This module imports nothing heavy at import time (see ``app/features/__init__.py``): the
engine is imported inside the verb.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import sys
from typing import TYPE_CHECKING, Any

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec, SettingKey

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext

#: Above these a value is taken for percent points (``--vol 20`` meant 20 %), not priced.
MAX_VOL = 5.0
MAX_RATE = 1.0

_UNITS = ("--rate, --vol and --dividend are annual decimals, continuously compounded "
          "(0.05 = 5 %); --years is ACT/365 years; prices are per share.")
_OUTPUT = "vega and rho are per 1 vol / rate point, theta per calendar day."


class OptionsInputError(ValueError):
    """A value the options verbs refuse: one sentence, exit status 1."""


def finite_float(text: str) -> float:
    """argparse type: a finite number (``nan``/``inf`` are usage errors, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not '{text}'") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not '{text}'")
    return value


# --------------------------------------------------------------------------- parser

def _common(p: argparse.ArgumentParser, *, vol: bool) -> None:
    p.add_argument("--type", required=True, choices=("call", "put"), help="call or put")
    p.add_argument("--spot", required=True, type=finite_float, metavar="S", help="underlying price (> 0)")
    p.add_argument("--strike", required=True, type=finite_float, metavar="K", help="strike (> 0)")
    p.add_argument("--rate", required=True, type=finite_float, metavar="R",
                   help="risk-free rate, decimal (0.05 = 5 %%)")
    if vol:
        p.add_argument("--vol", required=True, type=finite_float, metavar="V",
                       help="volatility, decimal (0.20 = 20 %%)")
    p.add_argument("--years", required=True, type=finite_float, metavar="T",
                   help="time to expiry in years (ACT/365; 30 days = 0.0822)")
    p.add_argument("--dividend", type=finite_float, default=0.0, metavar="Q",
                   help="continuous dividend yield, decimal (default 0)")
    p.add_argument("--style", choices=("european", "american"), default="european",
                   help="exercise style: european (Black-Scholes-Merton, default) or american "
                        "(Bjerksund-Stensland 2002)")
    p.add_argument("--json", action="store_true", help="print JSON")


def configure(parser: argparse.ArgumentParser) -> None:
    """``options`` and its three sub-commands."""
    parser.description = ("Options pricing, implied volatility and chains. " + _UNITS + " " + _OUTPUT)
    sub = parser.add_subparsers(dest="options_cmd", metavar="COMMAND", required=True)
    p = sub.add_parser("price", help="price and first-order Greeks of one contract",
                       description="Price, delta, gamma, vega, theta and rho of one contract. "
                                   + _UNITS + " " + _OUTPUT)
    _common(p, vol=True)
    p = sub.add_parser("iv", help="implied volatility of one option price",
                       description="Implied volatility (decimal) of an option price per share. "
                                   + _UNITS + " A price outside the no-arbitrage bounds has no "
                                   "implied vol: the answer is null with a reason, exit status 0.")
    _common(p, vol=False)
    p.add_argument("--price", required=True, type=finite_float, metavar="P",
                   help="option price per share (> 0)")
    p = sub.add_parser("chain", help="an option chain (Yahoo, cached; or the demo chain) with IV and Greeks",
                       description="The option chain of SYMBOL with implied vols (American, from the "
                                   "mid quote) and Greeks. With the Yahoo data source: Yahoo's delayed "
                                   "chain, cached in the store for 15 minutes; when Yahoo cannot be "
                                   "reached, the cached chain with its age. In demo mode: the generated "
                                   "demo chain of a demo symbol. " + _OUTPUT)
    p.add_argument("symbol", metavar="SYMBOL", help="e.g. AAPL (Yahoo) or ACME (demo)")
    p.add_argument("--expiry", metavar="DATE", help="only this expiry (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print JSON")


# --------------------------------------------------------------------------- checks

def _check_contract(args: argparse.Namespace, *, need_time_value: bool) -> None:
    """Refuse values the engine would refuse, and percent points, in one sentence each."""
    if args.spot <= 0:
        raise OptionsInputError(f"--spot must be positive, got {args.spot:g}")
    if args.strike <= 0:
        raise OptionsInputError(f"--strike must be positive, got {args.strike:g}")
    if need_time_value and args.years <= 0:
        raise OptionsInputError(f"--years must be positive for an implied vol, got {args.years:g}")
    if args.years < 0:
        raise OptionsInputError(f"--years must be zero or positive, got {args.years:g}")
    for flag, value in (("--rate", args.rate), ("--dividend", args.dividend)):
        if abs(value) >= MAX_RATE:
            raise OptionsInputError(
                f"{flag} is a decimal (0.05 = 5 %); {value:g} looks like percent points — "
                f"for {value:g} % pass {value / 100:g}")
    vol = getattr(args, "vol", None)
    if vol is not None:
        if vol < 0:
            raise OptionsInputError(f"--vol must be zero or positive, got {vol:g}")
        if vol > MAX_VOL:
            raise OptionsInputError(
                f"--vol is a decimal (0.20 = 20 %); {vol:g} looks like percent points — "
                f"for {vol:g} % pass {vol / 100:g}")


def _num(x: Any) -> float | None:
    f = float(x)
    return f if math.isfinite(f) else None


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, indent=2, allow_nan=False))


# --------------------------------------------------------------------------- verbs

_GREEKS = ("price", "delta", "gamma", "vega", "theta", "rho")


def _price(args: argparse.Namespace) -> int:
    _check_contract(args, need_time_value=False)
    from engine.options import american, bsm

    model = american if args.style == "american" else bsm
    g = model.greeks(args.type, args.spot, args.strike, args.years, args.rate, args.vol, args.dividend)
    values = {n: _num(getattr(g, n)) for n in _GREEKS}
    if args.json:
        _print_json(values)
        return 0
    print(f"{args.style} {args.type}  S={args.spot:g} K={args.strike:g} r={args.rate:g} "
          f"σ={args.vol:g} T={args.years:g} q={args.dividend:g}")
    units = {"price": "per share", "delta": "dV/dS", "gamma": "d²V/dS²", "vega": "per 1 vol point",
             "theta": "per calendar day", "rho": "per 1 rate point"}
    for n in _GREEKS:
        v = values[n]
        print(f"  {n:<6} {'n/a' if v is None else f'{v:12.6f}'}  {units[n]}")
    return 0


def _iv(args: argparse.Namespace) -> int:
    _check_contract(args, need_time_value=True)
    if args.price <= 0:
        raise OptionsInputError(f"--price must be positive, got {args.price:g}")
    from engine.options.iv import implied_vol

    res = implied_vol(args.type, args.price, args.spot, args.strike, args.years, args.rate,
                      args.dividend, style=args.style)
    vol = _num(res.vol)
    reason = res.reason_text() if vol is None else ""
    if args.json:
        _print_json({"iv": vol} if vol is not None else {"iv": None, "reason": reason})
    elif vol is not None:
        print(f"implied vol {vol:.10f} ({vol * 100:.4f} %), {args.style}")
    else:
        print(f"no implied vol for a {args.style} {args.type} at {args.price:g}: {reason}")
    return 0


def _parse_expiry(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise OptionsInputError(f"--expiry must be a date like 2026-12-18, not '{text}'") from None


def _chain_result(symbol: str) -> Any:
    """The ``ChainResult`` the dock would show for ``symbol``: ``ChainService`` over the data
    folder's store and data source (the ``options/rate`` setting for Yahoo chains)."""
    from engine.data.demo import demo_symbols, is_demo_symbol
    from engine.data.errors import DataError
    from engine.data.service import DataService
    from engine.events import EventBus
    from engine.options.yahoo import ChainService, YahooChainSource
    from engine.store.db import open_database

    db = open_database()
    try:
        source = DataService.open_default_on(db, bus=EventBus()).source
        if source != "yahoo":
            if not is_demo_symbol(symbol):
                names = demo_symbols()
                raise OptionsInputError(
                    f"no option chain for {symbol or '(empty)'} in demo mode: only the demo symbols have chains "
                    f"({', '.join(names[:5])}, … {len(names)} in all); set the data source to Yahoo for real chains")
            yahoo = YahooChainSource()
        else:
            from app.settings import AppSettings

            rate = float(AppSettings().get("options/rate", 0.04))
            if _rate_problem(rate) is not None:
                rate = 0.04
            yahoo = YahooChainSource(rate=rate)
        try:
            return ChainService(db, lambda: source, yahoo).get(symbol)
        except DataError as exc:
            raise OptionsInputError(str(exc).rstrip(".")) from None
    finally:
        db.dispose()


def _iso_utc(epoch_s: int | None) -> str | None:
    if epoch_s is None:
        return None
    return _dt.datetime.fromtimestamp(epoch_s, tz=_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chain(args: argparse.Namespace) -> int:
    symbol = args.symbol.strip().upper()
    expiry = _parse_expiry(args.expiry) if args.expiry is not None else None
    if not symbol:
        raise OptionsInputError("SYMBOL is empty; give an underlying such as AAPL (or ACME in demo mode)")
    res = _chain_result(symbol)
    chain = res.chain
    expiries = chain.expiries()
    if expiry is not None:
        if expiry not in expiries:
            raise OptionsInputError(f"{symbol} has no expiry {expiry.isoformat()}; its expiries are "
                                    + ", ".join(d.isoformat() for d in expiries))
        chain = chain.select(expiry=expiry)
    if args.json:
        age = res.age_seconds()
        _print_json({
            "symbol": chain.symbol, "spot": chain.spot, "as_of": chain.as_of.isoformat(),
            "rate": chain.rate, "dividend": chain.dividend, "source": chain.source,
            "delayed": chain.delayed, "style": "american",
            # when the quotes were fetched (null for the demo chain), whether they came from
            # the store, and why asking Yahoo again failed (null if it did not)
            "fetched_at": _iso_utc(res.fetched_at), "age_seconds": None if age is None else round(age),
            "from_cache": res.from_cache, "refresh_error": res.error or None,
            "expiries": [d.isoformat() for d in chain.expiries()],
            "contracts": chain.to_rows(),
        })
        return 0
    _print_chain_table(chain, res.label())
    return 0


def _fmt(x: Any, spec: str, width: int) -> str:
    f = float(x)
    return f"{f:{width}{spec}}" if math.isfinite(f) else f"{'-':>{width}}"


def _print_chain_table(chain: Any, label: str) -> None:
    """Calls | strike | puts per expiry, as on a broker's chain page; ``label`` says where the
    quotes come from and how old they are."""
    print(label)
    print(f"{chain.symbol} {chain.source} chain as of {chain.as_of.isoformat()}, spot {chain.spot:.2f}, "
          f"rate {chain.rate:g}, dividend {chain.dividend:g}; IV from the mid (American), "
          "vega per vol point, theta per day")
    side = f"{'bid':>7} {'ask':>7} {'iv':>6} {'delta':>6} {'theta':>7}"
    for e in chain.expiries():
        part = chain.select(expiry=e)
        print(f"\n{e.isoformat()}  ({part.years[0] * 365:.0f} days)")
        print(f"{'CALLS':^37} | {'strike':>8} | {'PUTS':^37}")
        print(f"{side} | {'':>8} | {side}")
        by_strike: dict[float, dict[bool, int]] = {}
        for i, (k, c) in enumerate(zip(part.strike, part.is_call)):
            by_strike.setdefault(float(k), {})[bool(c)] = i

        def cols(i: int | None) -> str:
            if i is None:
                return " " * 37
            return " ".join((_fmt(part.bid[i], ".2f", 7), _fmt(part.ask[i], ".2f", 7),
                             _fmt(part.iv[i] * 100, ".1f", 6), _fmt(part.delta[i], ".2f", 6),
                             _fmt(part.theta[i], ".3f", 7)))

        for k in sorted(by_strike):
            row = by_strike[k]
            print(f"{cols(row.get(True))} | {k:8.2f} | {cols(row.get(False))}")


def run(args: argparse.Namespace) -> int:
    """Run ``options price|iv|chain``; 0 ok, 1 bad input (one sentence on stderr)."""
    verbs = {"price": _price, "iv": _iv, "chain": _chain}
    try:
        return verbs[args.options_cmd](args)
    except OptionsInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


DOCK_ID = "options"


def _rate_problem(v: Any) -> str | None:
    return None if -0.1 < float(v) < MAX_RATE else "the rate is an annual decimal between -0.1 and 1 (0.04 = 4 %)"


def _service(ctx: "AppContext") -> object:
    from engine.options.yahoo import ChainService, YahooChainSource

    rate = float(ctx.settings.get("options/rate", 0.04))
    return ChainService(ctx.db, lambda: ctx.data.source, YahooChainSource(rate=rate))


def _trading(ctx: "AppContext") -> Any:
    """The paper trading session for "Send to ticket" (None when paper trading is not there)."""
    try:
        from widgets.trading.session import TradingSession

        return ctx.service(TradingSession)
    except Exception:  # noqa: BLE001 - the dock still shows analytics without a broker
        return None


def _dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    """One chain per dock; it follows the symbol of the charts in its link group."""
    from app.chart_registry import ChartFollower
    from engine.options.yahoo import ChainService
    from widgets.options import OptionsWidget

    svc = ctx.service(ChainService)
    w = OptionsWidget(svc.get, ctx.tasks, trading=_trading(ctx))
    ChartFollower(ctx.chart_registry, instance_id, w, w.set_symbol, lambda _price: None)
    return w


FEATURE = Feature(
    id="options",
    title="Options",
    services=(ServiceSpec("engine.options.yahoo:ChainService", _service),),
    docks=(
        DockSpec(DOCK_ID, "Options", _dock, Area.RIGHT, visible=False, shortcut="Ctrl+Shift+O", multi=True,
                 new_text="New &options chain", linkable=True),
    ),
    settings=(
        SettingKey("options/rate", float, 0.04, "risk-free rate for Yahoo option chains, annual decimal "
                   "(0.04 = 4 %); used for IVs, Greeks and the surface", validator=_rate_problem,
                   label="Risk-free rate"),
    ),
    cli_verbs=(
        CliVerb("options", "options pricing and Greeks, implied volatility, option chains", configure, run,
                description="Options pricing, implied volatility and chains."),
    ),
)
