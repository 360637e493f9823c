"""The Optimizer dock (strategy research, issue 15)."""
from widgets.research.dock import OptimizerWidget

__all__ = ["OptimizerWidget"]
