"""The scanner's job as the app runs it: resolve the universe, run the scan (progress,
cancel), and compare the result with the previous one. Qt-free; the dock only shows it.

The diff rule: "new since last run" compares with the last run of the same universe and the
same filter -- the result shown before when it was one, else the stored run
(``ScanResult.new``/``dropped``, from the scan store). Changing the filter or the universe
never compares two different scans: a symbol is not "new" because the filter got looser.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Generator
from dataclasses import dataclass

from engine.progress import Progress
from engine.scanner.filters import ScanDefinition
from engine.scanner.scanner import Scanner, ScanResult
from engine.scanner.universe import Universe


def scan_job(scanner: Scanner, definition: ScanDefinition, resolve: Callable[[], Universe], *,
             refresh: bool = False, columns: tuple[str, ...] | None = None, now: _dt.datetime | None = None
             ) -> Generator[Progress, None, ScanResult]:
    """Resolve the universe (``resolve()`` may read the store, so it runs here, in the worker),
    then run ``definition`` over it: a generator for the worker pattern that yields
    ``Progress`` and returns the ``ScanResult``; closing it cancels (nothing is recorded).

    Raises what ``resolve`` raises (``UniverseError``) and ``FormulaError`` for a bad filter.
    """
    yield Progress(0, 1, "Resolving the universe…")
    universe = resolve()
    result = yield from scanner.run(definition, universe, refresh=refresh, columns=columns, now=now)
    return result


@dataclass(frozen=True, slots=True)
class ResultDiff:
    """What changed since the run compared with: ``new`` in the result's order, ``dropped``
    sorted; ``since`` is when that run was (None: nothing to compare with)."""

    new: tuple[str, ...]
    dropped: tuple[str, ...]
    since: _dt.datetime | None

    def describe(self) -> str:
        """One line for people: ``New since 14:05:00: AAA, BBB · Dropped: CCC`` (local time);
        ``""`` when there is nothing to compare with."""
        if self.since is None:
            return ""
        when = self.since.astimezone().strftime("%H:%M:%S")
        parts = []
        if self.new:
            parts.append(f"New since {when}: " + ", ".join(self.new))
        if self.dropped:
            parts.append("Dropped: " + ", ".join(self.dropped))
        return " · ".join(parts) or f"Same symbols as the run at {when}."


def diff_results(previous: ScanResult | None, result: ScanResult) -> ResultDiff:
    """``result`` against ``previous`` (the one shown before) when both ran the same filter on
    the same universe, else against the stored last run of that universe and filter (the
    engine's ``new``/``dropped``)."""
    if previous is not None and (previous.universe, previous.formula) == (result.universe, result.formula):
        before = set(previous.symbols)
        now = set(result.symbols)
        return ResultDiff(tuple(s for s in result.symbols if s not in before), tuple(sorted(before - now)),
                          previous.ran_at)
    since = _dt.datetime.fromisoformat(result.previous_run) if result.previous_run else None
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=_dt.timezone.utc)  # the store writes UTC
    return ResultDiff(result.new, result.dropped, since)


class ScanSession:
    """The results of one dock's runs, one after another: ``accept`` keeps the newest and
    returns its diff against the one before (``diff_results``)."""

    def __init__(self) -> None:
        self.result: ScanResult | None = None
        self.diff = ResultDiff((), (), None)

    def accept(self, result: ScanResult) -> ResultDiff:
        """Make ``result`` the current one; returns what changed (see the module docstring)."""
        self.diff = diff_results(self.result, result)
        self.result = result
        return self.diff


def summarize(result: ScanResult, seconds: float) -> tuple[str, str]:
    """The status line and its tooltip for a finished scan: ``8 of 12 match · Demo universe ·
    0.4 s`` (plus how many symbols could not be loaded; the tooltip says why, 30 at most)."""
    why = "\n".join(f"{s}: {reason}" for s, reason in result.errors[:30])
    if result.errors and not result.scanned:
        return (f"None of the {len(result.errors)} symbols of {result.universe} could be loaded: "
                f"{result.errors[0][1]}", why)
    text = f"{len(result.rows)} of {result.scanned} match · {result.universe} · {seconds:.1f} s"
    if result.errors:
        text += f" · {len(result.errors)} could not be loaded (hover for why)"
    return text, why
