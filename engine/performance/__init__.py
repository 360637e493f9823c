"""Performance analytics: pure functions over numpy arrays, shared by the journal, backtests,
strategy scoring and the service.

* ``returns``: validation, returns from prices or equity.
* ``metrics``: Sharpe, Sortino, Calmar, CAGR, volatility, drawdown, exposure — empyrical's
  definitions (written out in that module's docstring).
* ``trades``: trade statistics of round trips and their breakdowns.
"""
from engine.performance.metrics import (
    PERIODS_PER_YEAR,
    Drawdown,
    ReturnMetrics,
    analyze_returns,
    annual_return,
    annual_volatility,
    cagr,
    calmar_ratio,
    downside_risk,
    drawdown_details,
    drawdown_series,
    exposure,
    json_safe,
    max_drawdown,
    sharpe_ratio,
    sortino_ratio,
    time_in_market,
)
from engine.performance.returns import (
    check_returns,
    returns_from_equity,
    returns_from_prices,
    to_returns,
)
from engine.performance.trades import (
    TradeStats,
    breakdown,
    group_stats,
    r_histogram,
    trade_stats,
)

__all__ = [
    "PERIODS_PER_YEAR", "Drawdown", "ReturnMetrics", "TradeStats", "analyze_returns",
    "annual_return", "annual_volatility", "breakdown", "cagr", "calmar_ratio", "check_returns",
    "downside_risk", "drawdown_details", "drawdown_series", "exposure", "group_stats",
    "json_safe", "max_drawdown", "r_histogram", "returns_from_equity", "returns_from_prices",
    "sharpe_ratio", "sortino_ratio", "time_in_market", "to_returns", "trade_stats",
]
