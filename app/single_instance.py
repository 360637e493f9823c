"""One workstation per data folder.

The first instance holds a ``QLockFile`` in the data folder and listens on a local socket
named after the folder. A second instance connects, asks the first to come to the front,
and exits; if the lock is held but nobody answers (a hung process), it explains instead of
opening the same database twice.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket


def _server_name(folder: Path) -> str:
    return "stockscanner-" + hashlib.sha1(str(folder).encode()).hexdigest()[:16]


class SingleInstance(QObject):
    activation_requested = Signal()

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.name = _server_name(folder)
        self.lock = QLockFile(str(folder / ".instance.lock"))
        self.lock.setStaleLockTime(0)
        self.server: QLocalServer | None = None

    def acquire(self, listen: bool = True) -> bool:
        """True if this is the only instance (then, with ``listen``, it answers later ones).

        ``listen=False`` only takes the lock: a headless run (``screenshot``) keeps a window
        from opening the same folder meanwhile, without pretending to be one it can raise.
        """
        if not self.lock.tryLock(100):
            return False
        if not listen:
            return True
        QLocalServer.removeServer(self.name)
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._on_new_connection)
        self.server.listen(self.name)
        return True

    def signal_running_instance(self) -> bool:
        """Ask the running instance to show itself; True if it answered."""
        sock = QLocalSocket()
        sock.connectToServer(self.name)
        if not sock.waitForConnected(1000):
            return False
        sock.write(b"activate\n")
        sock.waitForBytesWritten(1000)
        sock.disconnectFromServer()
        return True

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
        self.lock.unlock()

    def _on_new_connection(self) -> None:
        assert self.server is not None
        conn = self.server.nextPendingConnection()
        if conn is not None:
            conn.readyRead.connect(lambda c=conn: self._on_ready(c))

    def _on_ready(self, conn: QLocalSocket) -> None:
        if bytes(conn.readAll().data()).startswith(b"activate"):
            self.activation_requested.emit()
        conn.disconnectFromServer()
