"""Link groups (after TWS Mosaic): docks of one colour share the symbol.

Every linkable dock instance (chart, watchlist, scanner, order ticket) is in one group:
Red, Green, Blue, Yellow or Unlinked, chosen with the small colour button in its title bar
and saved with the dock's state.

Rules (``Links.targets`` / ``Links.follows``):

* A **source** (a watchlist or scanner click) in a colour group drives the charts of that
  group, and the tickets of that group follow those charts. Nothing else changes.
* An **unlinked source**, and the toolbar's symbol search (no dock at all), drive the
  *active chart* (the one last focused) -- and, if that chart is in a colour group, the
  rest of its group with it.
* An **unlinked target** (chart or ticket) is driven only as, or by, the active chart: an
  unlinked chart changes only when it is the active chart and the source is unlinked; an
  unlinked ticket follows whichever chart is active.

On first start every dock is in Red, so a watchlist click opens the symbol in the chart and
the ticket, as before link groups existed. A "New chart" starts Unlinked (it shows what is
opened while it is the active chart) until the user gives it a colour.
"""
from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QObject, Signal


class LinkGroup(str, Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"
    YELLOW = "yellow"
    UNLINKED = "unlinked"

    @property
    def label(self) -> str:
        return self.value.title()

    @classmethod
    def parse(cls, value: object, default: LinkGroup) -> LinkGroup:
        try:
            return cls(str(value))
        except ValueError:
            return default


#: title-bar button colours (readable on both themes)
COLORS: dict[LinkGroup, str] = {
    LinkGroup.RED: "#e53935",
    LinkGroup.GREEN: "#43a047",
    LinkGroup.BLUE: "#1e88e5",
    LinkGroup.YELLOW: "#fdd835",
    LinkGroup.UNLINKED: "#9e9e9e",
}
DEFAULT_GROUP = LinkGroup.RED
NEW_INSTANCE_GROUP = LinkGroup.UNLINKED


class Links(QObject):
    """The group of every linkable dock instance (by instance id)."""

    group_changed = Signal(str, object)  # instance id, LinkGroup

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._groups: dict[str, LinkGroup] = {}

    def group(self, instance_id: str | None) -> LinkGroup:
        if instance_id is None:
            return LinkGroup.UNLINKED
        return self._groups.get(instance_id, DEFAULT_GROUP)

    def set_group(self, instance_id: str, group: LinkGroup) -> None:
        if self._groups.get(instance_id) is group:
            return
        self._groups[instance_id] = group
        self.group_changed.emit(instance_id, group)

    def forget(self, instance_id: str) -> None:
        self._groups.pop(instance_id, None)

    def targets(self, source: str | None, charts: list[str], active: str | None) -> list[str]:
        """The chart instances a symbol from ``source`` (None: the symbol search) opens in."""
        group = self.group(source)
        if group is LinkGroup.UNLINKED:
            if active is None:
                return []
            group = self.group(active)
            if group is LinkGroup.UNLINKED:
                return [active]
            # the active chart drives its own group
        return [c for c in charts if self.group(c) is group]

    def follows(self, target: str, chart: str, active: str | None) -> bool:
        """Whether ``target`` (e.g. a ticket) follows a symbol or price from chart ``chart``."""
        group = self.group(target)
        if group is LinkGroup.UNLINKED:
            return chart == active
        return self.group(chart) is group
