"""Glossary search (``engine.fuzzy``: typed letters in order, word starts first) over each
term's name, aliases and id; an exact name or alias match comes first."""
from __future__ import annotations

from engine import fuzzy
from engine.education.content import Glossary, Term

#: names shown in the app (lower case, without a trailing colon or unit) -> glossary id
METRIC_TERMS: dict[str, str] = {
    # account and positions
    "equity": "equity", "cash": "cash", "buying power": "buying-power", "buying power used": "buying-power",
    "margin": "margin", "maintenance margin": "maintenance-margin", "realized p&l": "realized-pnl",
    "realized": "realized-pnl", "unrealized p&l": "unrealized-pnl", "unrealized": "unrealized-pnl",
    "day p&l": "day-pnl", "fees": "commission", "commission": "commission", "day fees": "commission",
    "slippage": "slippage", "spread": "spread", "bid": "bid", "ask": "ask", "last": "last-price",
    "volume": "volume", "total return": "total-return", "return": "total-return",
    # performance (journal, review, research, leaderboard)
    "sharpe": "sharpe-ratio", "sharpe ratio": "sharpe-ratio", "sortino": "sortino-ratio",
    "sortino ratio": "sortino-ratio", "calmar": "calmar-ratio", "calmar ratio": "calmar-ratio", "cagr": "cagr",
    "volatility": "volatility", "max drawdown": "max-drawdown", "max dd": "max-drawdown", "drawdown": "drawdown",
    "profit factor": "profit-factor", "win rate": "win-rate", "expectancy": "expectancy",
    "average win": "average-win", "avg win": "average-win", "average loss": "average-loss", "avg loss": "average-loss",
    "r": "r-multiple", "r multiple": "r-multiple", "avg r": "r-multiple", "payoff ratio": "payoff-ratio",
    "payoff": "payoff-ratio", "beta": "beta", "alpha": "alpha", "correlation": "correlation",
    "pf": "profit-factor", "win": "win-rate", "win %": "win-rate", "dd": "max-drawdown",
    # orders
    "market": "market-order", "limit": "limit-order", "stop": "stop-order", "stop limit": "stop-limit-order",
    "stop-limit": "stop-limit-order", "trailing stop": "trailing-stop", "bracket": "bracket-order", "oco": "oco-order",
    "tif": "time-in-force", "time in force": "time-in-force", "day": "day-order", "gtc": "gtc", "ioc": "ioc",
    "fok": "fok", "risk": "position-sizing", "stop loss": "stop-order",
    # indicators and studies
    "sma": "sma", "ema": "ema", "wma": "wma", "rsi": "rsi", "macd": "macd", "bollinger bands": "bollinger-bands",
    "bb": "bollinger-bands", "bbands": "bollinger-bands", "stochastic": "stochastic-oscillator", "atr": "atr",
    "adx": "adx", "obv": "obv", "vwap": "vwap", "ichimoku": "ichimoku-cloud", "ichimoku cloud": "ichimoku-cloud",
    "parabolic sar": "parabolic-sar", "cci": "cci", "williams %r": "williams-r", "mfi": "mfi",
    "momentum": "momentum", "roc": "rate-of-change", "keltner channel": "keltner-channel",
    "donchian channel": "donchian-channel",
    # options
    "delta": "delta", "gamma": "gamma", "theta": "theta", "vega": "vega", "rho": "rho", "iv": "implied-volatility",
    "implied volatility": "implied-volatility", "strike": "strike-price", "expiry": "expiration",
    "expiration": "expiration", "open interest": "open-interest", "oi": "open-interest", "premium": "premium",
    # chart types
    "candles": "candlestick", "candlestick": "candlestick", "heikin-ashi": "heikin-ashi", "heikin ashi": "heikin-ashi",
    "renko": "renko",
}


def _best(query: str, t: Term) -> int | None:
    scores = [s for s in (fuzzy.score(query, name) for name in (t.term, *t.aliases, t.id)) if s is not None]
    return max(scores) if scores else None


def search(glossary: Glossary, query: str, limit: int = 50) -> list[Term]:
    """Terms matching ``query``, best first (all terms by name for an empty query)."""
    q = query.strip()
    if not q:
        return sorted(glossary.terms, key=lambda t: t.term.lower())[:limit]
    low = q.lower()
    exact = [t for t in glossary.terms if t.term.lower() == low or low in (a.lower() for a in t.aliases) or t.id == low]
    scored = [(s, t) for t in glossary.terms if t not in exact and (s := _best(q, t)) is not None]
    scored.sort(key=lambda st: (-st[0], len(st[1].term), st[1].term.lower()))
    return (exact + [t for _s, t in scored])[:limit]


def lookup(glossary: Glossary, name: str) -> Term | None:
    """The term whose id, name or alias is ``name`` (case-insensitive), else None."""
    low = name.strip().lower()
    hit = glossary.get(low)
    if hit is not None:
        return hit
    return next((t for t in glossary.terms if t.term.lower() == low or low in (a.lower() for a in t.aliases)), None)
