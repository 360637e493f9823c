"""Generated headlines for the demo symbols, so the news dock is never empty offline.

Deterministic (same headlines on every machine and run) and always labelled: origin
``"demo"``, source ``DEMO_SOURCE``, links under the reserved ``.invalid`` domain (the dock
says there is no article instead of opening them). Headlines follow the demo prices: the
largest up days of the last ``WINDOW`` sessions get good news, the largest down days bad
news, a few quiet days neutral news, so the daily sentiment pane lines up with the chart.
"""
from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np

from engine.news.model import Headline

DEMO_SOURCE = "Demo newswire (generated)"
DEMO_HOST = "https://news.demo.invalid"
WINDOW = 90  # sessions
PER_SYMBOL = 8

_POSITIVE = (
    "{name} beats quarterly estimates and raises full-year guidance",
    "{name} profit rose {p}% as demand stayed strong",
    "Analysts upgrade {name} to buy on margin recovery",
    "{name} wins record multi-year contract",
    "{name} shares jump after upbeat outlook",
    "{name} loss narrowed sharply in the quarter",
)
_NEGATIVE = (
    "{name} cuts guidance as costs widen",
    "{name} profit fell {p}% on weaker demand",
    "Downgrade weighs on {name} after disappointing quarter",
    "{name} announces layoffs amid falling sales",
    "{name} misses estimates, shares slump",
    "{name} debt rose as cash flow weakened",
)
_NEUTRAL = (
    "{name} to present at industry conference next week",
    "{name} schedules quarterly results call",
    "{name} names new chief operating officer",
)


@lru_cache(maxsize=1)
def demo_headlines() -> tuple[Headline, ...]:
    """Every generated headline, for every demo symbol, oldest first within a symbol."""
    from engine.data import demo as bars_demo

    days = bars_demo.business_days()[-(WINDOW + 1):]
    start = int(days[0].astype("datetime64[s]").astype(np.int64))
    provider = bars_demo.DemoProvider()
    out: list[Headline] = []
    for info in bars_demo.UNIVERSE:
        b = provider.fetch(info.symbol, "1d", start=start)
        t = b.time
        sel = (t >= start)
        close = b.close[sel]
        times = t[sel]
        ret = np.diff(close) / close[:-1]
        times = times[1:]
        rng = np.random.default_rng(zlib.crc32(f"news:{info.symbol}".encode()))
        order = np.argsort(ret, kind="stable")
        picks: list[tuple[int, tuple[str, ...]]] = [(int(i), _NEGATIVE) for i in order[:3]]
        picks += [(int(i), _POSITIVE) for i in order[::-1][:3]]
        quiet = order[len(order) // 2 - 1: len(order) // 2 + 1]
        picks += [(int(i), _NEUTRAL) for i in quiet]
        # each pool's templates in a shuffled order, so a symbol never repeats a headline
        deck = {id(pool): list(rng.permutation(len(pool))) for pool in (_POSITIVE, _NEGATIVE, _NEUTRAL)}
        for n, (i, pool) in sorted(enumerate(picks[:PER_SYMBOL]), key=lambda p: p[1][0]):
            template = pool[int(deck[id(pool)].pop())]
            title = template.format(name=info.name, p=int(rng.integers(4, 31)))
            published = int(times[i]) + 13 * 3600 + int(rng.integers(0, 3 * 3600))  # New York morning
            out.append(Headline.make(title, f"{DEMO_HOST}/{info.symbol.lower()}/{n + 1}", DEMO_SOURCE,
                                     published, "demo", [info.symbol]))
    return tuple(out)
