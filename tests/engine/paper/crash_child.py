"""Child process of the crash-safety test: trades in a loop until it is killed.

``python -m tests.engine.paper.crash_child DB SEED`` opens a paper broker on DB, submits
orders and feeds quotes, and prints ``O <order id>`` / ``F <fill id>`` only after the call
that produced them has returned (= acknowledged), flushing each line.
"""
from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

from engine.events import EventBus
from engine.market.calendar import get_calendar
from engine.paper.broker import PaperBroker
from engine.paper.orders import OrderRequest, OrderType, Side, TimeInForce


def main() -> None:
    db, seed = Path(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    broker = PaperBroker.open(db, bus=EventBus())
    if "crash" not in broker.accounts():
        broker.create_account("crash", 1_000_000, "margin")
    # a running workstation has built the market calendar long before: do not let its
    # first build (~1 s, on the first margin or DAY order) eat the time before the kill
    get_calendar("XNYS")
    print("READY", flush=True)
    px = 100.0
    while True:
        px = max(1.0, px * (1 + rng.gauss(0, 0.002)))
        fills = broker.on_quote("SIM", round(px - 0.01, 2), round(px + 0.01, 2), round(px, 2))
        for f in fills:
            print("F", f.fill_id, flush=True)
        kind = rng.random()
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        qty = rng.randint(1, 50)
        if kind < 0.4:
            r = OrderRequest("SIM", side, qty, tif=TimeInForce.GTC)
        elif kind < 0.8:
            off = rng.uniform(-0.3, 0.3)
            r = OrderRequest("SIM", side, qty, OrderType.LIMIT,
                             limit_price=Decimal(str(round(px + off, 2))), tif=TimeInForce.GTC)
        else:
            working = broker.orders("crash", working_only=True)
            if working:
                o = broker.cancel(rng.choice(working).order_id)
                print("O", o.order_id, flush=True)
            continue
        o = broker.submit("crash", r)
        print("O", o.order_id, flush=True)


if __name__ == "__main__":
    main()
