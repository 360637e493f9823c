"""SIGKILL during first-start migrations, and concurrent first starts, in child processes."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.store.db import APPLICATION_ID, head_revision, open_database
from tests.engine.store.stubs import sql
from tests.faults import integrity

REPO = Path(__file__).resolve().parents[3]

# The child imports everything first, says "ready", waits for "go" on stdin (so that
# several start at once), then opens a fresh store and exits 0.
CHILD = """
import sys
from pathlib import Path
import alembic.command, sqlalchemy.orm  # noqa: F401  (imports outside the timed part)
from engine.store.db import open_database
print("ready", flush=True)
sys.stdin.readline()
open_database(Path(sys.argv[1])).dispose()
"""


def _spawn_many(paths: list[Path]) -> list[subprocess.Popen]:
    """Start one child per path (they import in parallel) and wait until all are ready."""
    kids = [subprocess.Popen([sys.executable, "-c", CHILD, str(p)], cwd=REPO, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for p in paths]
    for k in kids:
        assert k.stdout.readline().strip() == "ready", k.stderr.read()
    return kids


def _close(p: subprocess.Popen) -> None:
    for f in (p.stdin, p.stdout, p.stderr):
        f.close()


def _go(p: subprocess.Popen) -> None:
    p.stdin.write("go\n")
    p.stdin.flush()


@pytest.mark.slow  # ~10 s on an idle 2-core machine, more when it is busy
def test_sigkill_during_first_start_never_leaves_a_store_that_will_not_open(tmp_path):
    rounds = 12
    paths = [tmp_path / f"k{i}.sqlite3" for i in range(rounds)]
    probe, *children = _spawn_many([tmp_path / "timing.sqlite3", *paths])
    t0 = time.perf_counter()
    _go(probe)
    assert probe.wait(60) == 0, probe.stderr.read()
    _close(probe)
    took = time.perf_counter() - t0  # how long a first start takes here, to kill inside it
    rng = random.Random(7)
    killed_mid_way = 0
    for path, child in zip(paths, children):
        _go(child)
        time.sleep(rng.uniform(0.0, took))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
        _close(child)
        if path.exists() and path.stat().st_size:
            killed_mid_way += 1
            assert integrity(path) == "ok"
        open_database(path).dispose()  # the next start always succeeds
        assert sql(path, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
        assert sql(path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert killed_mid_way >= 2  # the kills did land while the file was being made


@pytest.mark.slow
def test_concurrent_first_starts_all_succeed(tmp_path):
    rounds, per_round = 3, 5
    paths = [tmp_path / f"c{r}.sqlite3" for r in range(rounds)]
    kids = _spawn_many([p for p in paths for _ in range(per_round)])
    for r, path in enumerate(paths):
        batch = kids[r * per_round:(r + 1) * per_round]
        for c in batch:
            _go(c)
        for c in batch:
            rc = c.wait(60)
            err = c.stderr.read()
            _close(c)
            assert rc == 0, err[-2000:]
        assert sql(path, "SELECT version_num FROM alembic_version") == [(head_revision(),)]
