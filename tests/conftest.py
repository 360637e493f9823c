"""Test-wide setup. QT_QPA_PLATFORM must be set before anything imports Qt."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STOCKSCANNER_WARMUP", "0")  # no background JIT warm-up in app tests

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The reference data folder (../shared/data); skips if this checkout has none."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty data dir; everything the app writes goes there."""
    from engine import paths

    d = tmp_path / "home"
    monkeypatch.setenv("STOCKSCANNER_HOME", str(d))
    paths.set_data_dir(None)
    yield d
    paths.set_data_dir(None)


@pytest.fixture
def db(home):
    """A migrated local store in the temp data dir."""
    from engine.store import open_database

    database = open_database()
    yield database
    database.dispose()


class _MemoryKeyring:
    """In-memory keyring backend: the CI machine has no OS keyring."""

    priority = 1

    def __init__(self):
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)

    def get_credential(self, service, username):
        return None


@pytest.fixture
def memory_keyring(monkeypatch):
    import keyring
    from keyring.backend import KeyringBackend

    cls = type("MemoryKeyring", (KeyringBackend,), dict(_MemoryKeyring.__dict__))
    backend = cls()
    backend.store = {}
    keyring.set_keyring(backend)
    yield backend
