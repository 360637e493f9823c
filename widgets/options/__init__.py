"""The options dock (issue 12): chain, smile, surface and strategy builder."""
from widgets.options.dock import OptionsWidget

__all__ = ["OptionsWidget"]
