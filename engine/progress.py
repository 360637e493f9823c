"""Progress reports that generator-based engine functions yield to workers.

An engine function that can take long is written as a generator: it yields ``Progress``
now and then and returns its result. The worker pattern (``app/workers.py``) forwards each
``Progress`` to the status bar and cancels by closing the generator at the next yield.
Headless callers use ``run_to_end`` to drive one.
"""
from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Progress:
    done: int
    total: int
    text: str = ""

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


def run_to_end(gen: Generator[Progress, None, T]) -> T:
    """Drive a progress generator to completion and return its result."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
