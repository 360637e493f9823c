"""Alerts: multi-condition templates in the formula language, evaluated vectorised over a
panel of symbols (``evaluate``), stored with their state and history (``store``), delivered
to the app, a webhook, e-mail and SMS with retries (``delivery``); ``AlertService`` ties
them together for the app and the CLI. Qt-free.
"""
from engine.alerts.model import (
    ACTIVE_HOURS,
    CHANNELS,
    MODES,
    AlertError,
    AlertTemplate,
    Fire,
    HistoryEntry,
    InstanceState,
    Scope,
)

__all__ = ["ACTIVE_HOURS", "CHANNELS", "MODES", "AlertError", "AlertTemplate", "Fire", "HistoryEntry",
           "InstanceState", "Scope"]
