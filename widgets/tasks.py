"""What a widget may ask of the app's worker pattern (widgets must not import app/).

``app.workers.TaskRunner`` satisfies this protocol; widgets receive one in their
constructor and run anything slower than ~30 ms through it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class CancellableTask(Protocol):
    def cancel(self) -> None: ...


class TaskSubmitter(Protocol):
    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        label: str = "",
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> CancellableTask: ...
