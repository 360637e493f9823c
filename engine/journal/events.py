"""Bus events of the journal (published after the write committed)."""
from __future__ import annotations

from dataclasses import dataclass

from engine.events import Event


@dataclass(frozen=True, slots=True)
class JournalChanged(Event):
    """Entries ``ids`` were ``kind``: "added", "edited" (fields, undo/redo, attachments) or
    "deleted"."""

    kind: str
    ids: tuple[int, ...]
