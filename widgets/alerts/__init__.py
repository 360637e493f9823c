"""The alerts dock (``AlertsWidget``) and its editor (``AlertEditor``)."""
from widgets.alerts.dock import AlertsWidget
from widgets.alerts.editor import AlertEditor

__all__ = ["AlertEditor", "AlertsWidget"]
