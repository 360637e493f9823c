"""Tests of deploy/: the container, compose, nginx, systemd and setup files, checked with the
tools that read them (check-jsonschema's compose-spec schema, ``nginx -t`` and a real nginx,
``systemd-analyze verify``, shellcheck, pg_dump/pg_restore). ``.ci/run`` installs the Debian
ones; without a tool here the test that needs it skips with the reason (under ``CI=true`` it
fails instead)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def need(tool: str) -> str:
    """The path of ``tool``; skip (fail under CI) when it is not installed."""
    path = shutil.which(tool) or next((p for p in (f"/usr/sbin/{tool}", f"/sbin/{tool}")
                                       if os.access(p, os.X_OK)), None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{tool} is required in CI (.ci/run installs it)")
        pytest.skip(f"{tool} is not installed (apt-get install it, or run .ci/run)")
    return path
