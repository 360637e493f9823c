"""Shared builders for the alert tests: constructed panels and templates."""
from __future__ import annotations

import numpy as np

from engine.alerts import AlertTemplate, Scope
from engine.formula import Panel

DAY = 86400
T0 = 1_704_067_200  # 2024-01-01 00:00 UTC


def panel(closes: dict[str, list[float]], volume: float = 1000.0, t0: int = T0, step: int = DAY) -> Panel:
    """A daily panel of the given close series (open = previous close, high/low ±1%)."""
    syms = list(closes)
    c = np.array([closes[s] for s in syms], dtype=float)
    o = np.concatenate([c[:, :1], c[:, :-1]], axis=1)
    t = t0 + step * np.arange(c.shape[1], dtype=np.int64)
    return Panel.from_arrays(syms, t, o, np.maximum(o, c) * 1.01, np.minimum(o, c) * 0.99, c,
                             np.full_like(c, volume))


def alert(conditions: tuple[str, ...] | str, symbol: str = "AAA", id: int = 1, **kw: object) -> AlertTemplate:
    conds = (conditions,) if isinstance(conditions, str) else conditions
    return AlertTemplate(kw.pop("name", f"alert {id}"), conds, Scope("symbol", symbol), id=id,  # type: ignore[arg-type]
                         **kw).checked()  # type: ignore[arg-type]
