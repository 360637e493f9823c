"""The Journal dock (declared by ``app/features/journal.py``)."""
from widgets.journal.dock import JournalWidget

__all__ = ["JournalWidget"]
