"""The scanner engine: universes, the filter model and presets, ``Scanner.run``, the app's
scan job and new/dropped diff (``job``), and scheduling.

    scanner = Scanner(bar_source, store=ScanStore(db), custom=formulas.custom_map)
    result = run_to_end(scanner.run(definition, bundled_universe("sp500")))
"""
from engine.scanner.filters import (
    BUILTIN_PRESETS,
    OPERATORS,
    Condition,
    Group,
    ScanDefinition,
    compile_filter,
)
from engine.scanner.scanner import BarSource, Scanner, ScanResult, ScanRow
from engine.scanner.job import ResultDiff, ScanSession, diff_results, scan_job, summarize
from engine.scanner.schedule import SCHEDULES, next_run_time
from engine.scanner.store import PresetError, ScanRun, ScanStore
from engine.scanner.universe import (
    BUNDLED,
    Constituent,
    Universe,
    UniverseError,
    bundled_constituents,
    bundled_universe,
    demo_universe,
    imported_universe,
    symbols_universe,
    watchlist_universe,
)

__all__ = [
    "BUILTIN_PRESETS",
    "BUNDLED",
    "OPERATORS",
    "SCHEDULES",
    "BarSource",
    "Condition",
    "Constituent",
    "Group",
    "PresetError",
    "ResultDiff",
    "ScanDefinition",
    "ScanResult",
    "ScanRow",
    "ScanRun",
    "ScanSession",
    "ScanStore",
    "Scanner",
    "Universe",
    "UniverseError",
    "bundled_constituents",
    "bundled_universe",
    "compile_filter",
    "diff_results",
    "demo_universe",
    "imported_universe",
    "next_run_time",
    "scan_job",
    "summarize",
    "symbols_universe",
    "watchlist_universe",
]
