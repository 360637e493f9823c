"""Events of the connection to the service (published on the workstation's bus)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.events import Event


@dataclass(frozen=True, slots=True)
class ServiceAvailable(Event):
    """The service answers at ``base_url``; ``embedded`` when it is this workstation's own
    child process (no service URL configured)."""

    base_url: str
    embedded: bool


@dataclass(frozen=True, slots=True)
class ServiceUnavailable(Event):
    """The service cannot be used; ``reason`` is one sentence for the user."""

    reason: str
    embedded: bool
