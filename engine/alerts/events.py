"""Bus events of alerts (published by ``engine.alerts.service.AlertService``)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.alerts.model import HistoryEntry
from engine.events import Event


@dataclass(frozen=True, slots=True)
class AlertTriggered(Event):
    """An alert fired and its "app" delivery is due: show it (tray or notification centre),
    with a sound when ``sound``. Published on the evaluating thread (often a worker)."""

    entry: HistoryEntry
    sound: bool = False


@dataclass(frozen=True, slots=True)
class AlertsChanged(Event):
    """Alerts, their history or their deliveries changed (a dock should reload)."""


@dataclass(frozen=True, slots=True)
class AlertDeliveryFailed(Event):
    """A delivery failed its last try: it is stored as failed and must be shown."""

    delivery_id: int
    channel: str
    alert_name: str
    symbol: str
    error: str
    attempts: int
