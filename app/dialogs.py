"""One dialog per window: a dialog kept on a window attribute is raised again (after its
``refresh``) instead of a second one being opened."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


def raise_open(holder: Any, attr: str, refresh: Callable[[Any], object]) -> Any | None:
    """The dialog stored as ``holder.<attr>``, refreshed, shown and raised; None when there is
    none or Qt has deleted it (then the caller builds a new one)."""
    existing = getattr(holder, attr, None)
    if existing is None:
        return None
    try:
        refresh(existing)
        existing.show()
        existing.raise_()
        return existing
    except RuntimeError:  # its C++ side is gone
        return None
