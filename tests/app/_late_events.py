"""Events of a module the bridge tests import only after subscribing to them by name."""
from dataclasses import dataclass

from engine.events import Event


@dataclass(frozen=True, slots=True)
class Late(Event):
    n: int


@dataclass(frozen=True, slots=True)
class LateSub(Late):
    pass


NOT_AN_EVENT = 42
