"""Stock Scanner domain layer. Never imports Qt or pyqtgraph (checked by tests/test_layering.py)."""

__version__ = "0.1.0"
