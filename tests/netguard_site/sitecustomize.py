"""Loaded at start-up by the child Pythons the tests start (``PYTHONPATH`` includes this
folder, see ``tests/netguard.py``): the child refuses non-loopback connections too."""
import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "netguard.py")
if os.environ.get("STOCKSCANNER_NETGUARD_LOG") and os.path.exists(_path):
    _spec = importlib.util.spec_from_file_location("_stockscanner_netguard", _path)
    if _spec is not None and _spec.loader is not None:
        _mod = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(_mod)
        _mod.install()
