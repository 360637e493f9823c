"""Start, watch and stop the embedded service (``server/embedded.py``) for one workstation.

With no service URL configured the workstation runs the service itself, in a child process,
so every shared feature works for a single user with no setup (issue 16). The child:

* runs ``python -m server.embedded --data-dir DIR`` with the workstation's data folder (its
  SQLite file and 0600 key file live there, next to the local store);
* announces its ephemeral loopback port on stdout; :meth:`EmbeddedService.wait_ready` reads
  that line, then waits for ``/ready`` (database migrated);
* stops when its stdin closes: :meth:`EmbeddedService.stop` closes it (then terminates, then
  kills, each after a grace period), and when the workstation dies the OS closes it.

Its stderr goes to ``DIR/logs/service.log`` (kept to the last run), so a start failure can be
explained with the log's tail. Nothing here imports Qt (``sync/`` is Qt-free).
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import requests

#: how long the child may take to announce its port and become ready (a cold start imports
#: FastAPI and SQLAlchemy and migrates the database: about 1-3 s on a loaded 2-core machine)
READY_TIMEOUT_S = 60.0


class EmbeddedServiceError(RuntimeError):
    """The embedded service could not start; the message says why (with the log's last lines)."""


class EmbeddedService:
    """One child service process. Not thread-safe: one owner calls ``start``/``stop``;
    ``wait_ready`` may run in a worker thread."""

    def __init__(self, data_dir: Path, python: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.python = python or sys.executable
        self.log_path = self.data_dir / "logs" / "service.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._port: int | None = None
        self._announced = threading.Event()
        self._ready = threading.Event()
        self._error: str | None = None
        self._stopping = False

    # ------------------------------------------------------------------ state
    @property
    def base_url(self) -> str | None:
        """``http://127.0.0.1:PORT`` once the child announced its port, else ``None``."""
        return f"http://127.0.0.1:{self._port}" if self._port is not None else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.running

    @property
    def error(self) -> str | None:
        """Why the service is not available (``None`` while starting or running)."""
        if self._error is None and self._proc is not None and self._proc.poll() is not None \
                and not self._stopping:
            self._error = self._exit_reason()
        return self._error

    # ------------------------------------------------------------------ start / stop
    def start(self) -> None:
        """Spawn the child (returns at once; ``wait_ready`` waits for it)."""
        if self.running:
            return
        self._stopping = False
        self._error = None
        self._port = None
        self._announced.clear()
        self._ready.clear()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        kwargs: dict[str, object] = {}
        if sys.platform == "win32":
            kwargs["creationflags"] = subprocess.CREATE_NO_WINDOW  # type: ignore[attr-defined]
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [self.python, "-m", "server.embedded", "--data-dir", str(self.data_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
            cwd=str(Path(__file__).resolve().parent.parent), **kwargs)  # type: ignore[call-overload]
        threading.Thread(target=self._read_announcement, args=(self._proc,),
                         name="embedded-service-stdout", daemon=True).start()

    def _read_announcement(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                msg = json.loads(raw)
                port = int(msg["port"])
            except (ValueError, KeyError, TypeError):
                continue  # not the announcement (a library printing); keep reading
            if proc is self._proc:
                self._port = port
                self._announced.set()
            break
        for _ in proc.stdout:  # keep the pipe drained until the child exits
            pass

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> str:
        """Block until the child serves ``/ready`` with 200; returns the base URL. Raises
        ``EmbeddedServiceError`` (with the reason) when it exits, or is not ready in time."""
        if self._proc is None:
            raise EmbeddedServiceError("the embedded service was not started")
        deadline = time.monotonic() + timeout
        while not self._announced.wait(0.05):
            if self._proc is None or self._proc.poll() is not None:
                raise self._failed(self._exit_reason())
            if time.monotonic() > deadline:
                raise self._failed(f"the embedded service did not start within {timeout:.0f} s")
        url = self.base_url
        assert url is not None
        with requests.Session() as http:
            http.trust_env = False  # loopback: never through a proxy from the environment
            while True:
                try:
                    r = http.get(f"{url}/ready", timeout=2)
                    if r.status_code == 200:
                        self._ready.set()
                        return url
                except requests.RequestException:
                    pass
                if self._proc is None or self._proc.poll() is not None:
                    raise self._failed(self._exit_reason())
                if time.monotonic() > deadline:
                    raise self._failed(f"the embedded service at {url} was not ready within {timeout:.0f} s")
                time.sleep(0.05)

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the child: close its stdin (it shuts down cleanly), then terminate, then kill."""
        proc, self._proc = self._proc, None
        self._stopping = True
        self._ready.clear()
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
            except OSError:
                pass
            for action in (None, proc.terminate, proc.kill):
                if action is not None:
                    try:
                        action()
                    except OSError:
                        pass
                try:
                    proc.wait(grace_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    close = stop  # AppContext.close releases Closeable services

    # ------------------------------------------------------------------ reasons
    def _exit_reason(self) -> str:
        code = self._proc.poll() if self._proc is not None else None
        tail = self.log_tail()
        where = f" (log: {self.log_path})"
        head = f"the embedded service stopped (exit status {code})" if code is not None \
            else "the embedded service is not running"
        return f"{head}: {tail}{where}" if tail else head + where

    def _failed(self, reason: str) -> EmbeddedServiceError:
        self._error = reason
        return EmbeddedServiceError(reason)

    def log_tail(self, lines: int = 3) -> str:
        """The last non-empty lines of the service log, joined with " | "."""
        try:
            if self._log is not None:
                self._log.flush()
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        kept = [ln.strip() for ln in text.splitlines() if ln.strip()]
        return " | ".join(kept[-lines:])
