"""Fixtures of the widget tests: ``loopback``, the real service on 127.0.0.1 (the one of
``tests/sync/conftest.py``), for the docks that talk to it."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.sync.conftest import LoopbackService


@pytest.fixture
def loopback(tmp_path: Any) -> Iterator[LoopbackService]:
    svc = LoopbackService(tmp_path)
    svc.start()
    yield svc
    svc.stop()
    svc.app.state.engine.dispose()
