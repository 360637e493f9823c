"""Health checks, backups and diagnostics of the local workstation (Qt-free).

* ``checks`` -- each check returns a ``Check(name, status, value, unit)`` graded against the
  thresholds stated next to it (``THRESHOLDS``);
* ``backups`` -- verified online backups with a daily + weekly rotation, and restore with
  the current store kept aside;
* ``diagnostics`` -- the redacted diagnostics zip.
"""
from __future__ import annotations

from engine.health.checks import THRESHOLDS, Check, Status, grade, run_checks, worst

__all__ = ["THRESHOLDS", "Check", "Status", "grade", "run_checks", "worst"]
