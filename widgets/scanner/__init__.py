"""The scanner dock and its parts (see ``widgets.scanner.dock``)."""
from widgets.scanner.conditions import OP_LABELS, ConditionRow
from widgets.scanner.dock import ScannerWidget
from widgets.scanner.results import NEW_TINT, ScanResultModel
from widgets.scanner.schedule import SCHEDULE_CHOICES, ScanScheduler

__all__ = ["NEW_TINT", "OP_LABELS", "SCHEDULE_CHOICES", "ConditionRow", "ScanResultModel", "ScanScheduler",
           "ScannerWidget"]
