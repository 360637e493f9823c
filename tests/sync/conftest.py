"""A real service on loopback (uvicorn in a thread, SQLite in the test's folder) that can be
stopped and started again on the same port, and helpers for signed-in clients."""
from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

PASSWORD = "correct horse battery staple 42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopbackService:
    """The service app on 127.0.0.1:``port``; ``stop()`` and ``start()`` cut and restore it."""

    def __init__(self, tmp_path: Any) -> None:
        from server.app import create_app
        from server.config import Settings
        from server.db import migrate
        from server.mailer import ConsoleMailer

        self.settings = Settings(database_url=f"sqlite:///{tmp_path / 'service.sqlite3'}",
                                 secret_key=secrets.token_urlsafe(32))
        self.mailer = ConsoleMailer()
        self.app = create_app(self.settings, mailer=self.mailer)
        migrate(self.app.state.engine)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn

        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the loopback service did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            assert self._thread is not None
            self._thread.join(10)
            self._server = None

    def db(self) -> Any:
        return self.app.state.service.sessions()

    def items(self, email: str) -> list[Any]:
        from sqlalchemy import select

        from server.models import SyncItem, User

        with self.db() as db:
            return list(db.execute(select(SyncItem).join(User, User.id == SyncItem.user_id)
                                   .where(User.email == email).order_by(SyncItem.id)).scalars())


@pytest.fixture
def loopback(tmp_path: Any) -> Iterator[LoopbackService]:
    svc = LoopbackService(tmp_path)
    svc.start()
    yield svc
    svc.stop()
    svc.app.state.engine.dispose()
