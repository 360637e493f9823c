"""Bus events of the formula language (published by ``engine.formula.service.FormulaService``)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.events import Event


@dataclass(frozen=True, slots=True)
class CustomIndicatorsChanged(Event):
    """Custom indicator ``name`` was saved (created or edited) or deleted; charts recompute
    overlays that use it and the scanner re-validates its filter. Published after the write
    committed."""

    name: str
