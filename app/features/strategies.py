"""The strategies feature: my strategies (rules, backtest on a universe, publish, share and
revoke) and the leaderboard (timeframe, category, search, pages, detail, rate & review, clone).

Service: ``sync.strategies.CommunityService`` over the local ``StrategyStore``, the research
service's universes and the account feature's service client (``SyncHub.client``). Docks:
``strategies`` (My strategies) and ``leaderboard`` (``widgets/community``). CLI:
``stockscanner strategy list | save | backtest`` (local; no service needed). Nothing heavy is
imported here."""
from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from app.features import Area, CliVerb, DockSpec, Feature, ServiceSpec

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from app.context import AppContext

MY_DOCK = "strategies"
BOARD_DOCK = "leaderboard"


def _service(ctx: "AppContext") -> object:
    from engine.community.strategies import StrategyStore
    from engine.research.service import ResearchService
    from sync.strategies import CommunityService

    def client_of() -> object:
        from sync.hub import SyncHub

        try:
            return ctx.service(SyncHub).client
        except LookupError:  # a feature set without the account feature
            return None

    def paper() -> tuple[object, object, object]:
        from engine.paper.broker import PaperBroker
        from engine.paper.session import PaperSession

        # the app's session: its feed quotes what the broker works and what it is asked to watch
        return ctx.service(PaperBroker), ctx.bus, ctx.service(PaperSession)

    return CommunityService(StrategyStore(ctx.db), ctx.service(ResearchService), client_of,  # type: ignore[arg-type]
                            paper)


def _my_dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    from sync.strategies import CommunityService
    from widgets.community import MyStrategiesWidget

    return MyStrategiesWidget(ctx.service(CommunityService), ctx.tasks)


def _board_dock(ctx: "AppContext", instance_id: str) -> "QWidget":
    from sync.strategies import CommunityService
    from widgets.community import LeaderboardWidget

    return LeaderboardWidget(ctx.service(CommunityService), ctx.tasks)


# ------------------------------------------------------------------ CLI
def _add(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="strategy_cmd", required=True)
    ls = sub.add_parser("list", help="the saved strategies")
    ls.add_argument("--json", action="store_true")
    sv = sub.add_parser("save", help="save (or replace) a strategy")
    sv.add_argument("--name", required=True)
    sv.add_argument("--category", required=True, help="trend_following | mean_reversion | breakout | momentum | "
                                                      "swing | day_trading | options_income | long_term")
    sv.add_argument("--entry", required=True, metavar="EXPR", help="a condition in the formula language")
    sv.add_argument("--exit", metavar="EXPR")
    sv.add_argument("--sizing", default="fixed_qty:100", metavar="KIND:VALUE",
                    help="fixed_qty:SHARES | percent_equity:PCT | risk_per_trade:PCT:STOP_PCT")
    sv.add_argument("--stop-loss", type=float, metavar="PCT")
    sv.add_argument("--take-profit", type=float, metavar="PCT")
    sv.add_argument("--timeframe", default="1d")
    sv.add_argument("--universe", default="demo")
    sv.add_argument("--description", default="")
    bt = sub.add_parser("backtest", help="backtest a saved strategy on a universe")
    bt.add_argument("name")
    bt.add_argument("--universe", help="default: the strategy's own")
    bt.add_argument("--cash", type=int, default=100_000)
    bt.add_argument("--json", action="store_true")


def _run(args: argparse.Namespace) -> int:
    from engine.community.strategies import StrategyDef, StrategyError, StrategyStore
    from engine.research.service import ResearchError, ResearchService
    from engine.store.db import open_database

    db = open_database()
    store = StrategyStore(db)
    try:
        if args.strategy_cmd == "list":
            rows = store.all()
            if args.json:
                print(json.dumps([{"id": s.id, "name": s.name, "category": s.category, "rules": s.rules(),
                                   "remote_id": s.remote_id, "visibility": s.visibility} for s in rows]))
            for s in rows if not args.json else ():
                print(f"{s.name}  [{s.category}]  entry: {s.entry}  exit: {s.exit or '-'}  {s.sizing_text()}")
            return 0
        if args.strategy_cmd == "save":
            parts = args.sizing.split(":")
            kind = parts[0]
            try:
                value = float(parts[1]) if len(parts) > 1 else 100.0
                stop = float(parts[2]) if len(parts) > 2 else None
            except ValueError:
                raise StrategyError(f"--sizing {args.sizing!r}: KIND:VALUE[:STOP_PCT] with numbers") from None
            old = store.by_name(args.name)
            s = StrategyDef(args.name, args.category, args.entry, args.exit, kind, value, stop, args.stop_loss,
                            args.take_profit, args.timeframe, args.universe, args.description,
                            id=old.id if old else None, remote_id=old.remote_id if old else None,
                            parent_remote_id=old.parent_remote_id if old else None,
                            visibility=old.visibility if old else "private")
            saved = store.save(s)
            print(f"saved {saved.name!r} (id {saved.id})")
            return 0
        s_found = store.by_name(args.name)
        if s_found is None:
            raise StrategyError(f"no strategy named {args.name!r} (see `stockscanner strategy list`)")
        from sync.strategies import CommunityService

        svc = CommunityService(store, ResearchService(db), lambda: None)
        res = svc.backtest(s_found, args.universe, cash=args.cash)
        card = res.score
        if args.json:
            print(json.dumps({"symbols": list(res.symbols), "final_equity": float(res.final_equity),
                              "metrics": res.metrics, "score": card}, default=str, allow_nan=False))
            return 0
        m = res.metrics
        print(f"{len(res.symbols)} symbols, {m['trades']} trades, final equity {float(res.final_equity):,.2f}, "
              f"total return {float(m['total_return'] or 0):.2%}, max drawdown {float(m['max_drawdown'] or 0):.2%}")
        ins, oos = card.get("in_sample") or {}, card.get("out_of_sample") or {}
        print(f"score: in-sample {ins.get('total', 0):.1f}, out-of-sample {oos.get('total', 0):.1f}"
              + ("" if card["ranked"] else f" (not ranked: {card['reason']})"))
        return 0
    except (StrategyError, ResearchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()


FEATURE = Feature(
    id="strategies",
    title="Strategies and leaderboard",
    services=(ServiceSpec("sync.strategies:CommunityService", _service),),
    docks=(
        DockSpec(MY_DOCK, "My strategies", _my_dock, Area.BOTTOM, visible=False, size=520, tabify_with="positions"),
        DockSpec(BOARD_DOCK, "Leaderboard", _board_dock, Area.BOTTOM, visible=False, size=520, tabify_with=MY_DOCK),
    ),
    cli_verbs=(
        CliVerb("strategy", "list, save and backtest strategies (rules, sizing, stops, category)", _add, _run,
                description="Strategies in the formula language with a category; `backtest` runs one on a universe "
                            "(demo, imported, sp500, nasdaq100, watchlist:NAME, symbol:TICKER) and prints its "
                            "in-sample and out-of-sample composite scores (docs: README, Strategies)."),
    ),
)
