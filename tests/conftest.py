"""Test-wide setup. QT_QPA_PLATFORM must be set before anything imports Qt."""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STOCKSCANNER_WARMUP", "0")  # no background JIT warm-up in app tests
os.environ.setdefault("STOCKSCANNER_FIRST_RUN_WIZARD", "0")  # no first-run wizard over the window (app/wizard.py)

import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from tests import netguard  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
#: Bar files the tests read (public Yahoo/backtrader price history, see tests/data/README.md).
TEST_DATA = Path(__file__).resolve().parent / "data"
#: Reference data kept outside the repository; only what may not be redistributed is read there.
SHARED_DATA = REPO.parent / "shared" / "data"
PHRASEBANK = SHARED_DATA / "financial-phrasebank-dev.csv"

# No test touches the network (tests/netguard.py): this process and its child Pythons refuse
# non-loopback connections; the autouse fixture below fails the test that tried one.
_fd, _NETGUARD_LOG = tempfile.mkstemp(prefix="stockscanner-netguard-", suffix=".log")
os.close(_fd)
netguard.install()
netguard.install_in_children(_NETGUARD_LOG)


def pytest_unconfigure(config: pytest.Config) -> None:
    try:
        os.unlink(_NETGUARD_LOG)
    except OSError:
        pass


def _fail_if_refused(when: str) -> None:
    refused = netguard.take_violations()
    if refused:
        pytest.fail(f"this test tried to reach the network{when} (tests/netguard.py):\n"
                    + "\n".join(refused), pytrace=False)


@pytest.fixture(autouse=True)
def _no_network():
    netguard.take_violations()  # anything left from outside a test is not this test's
    yield
    _fail_if_refused(" in its teardown")


@pytest.fixture(autouse=True)
def _no_period_review_timer(monkeypatch):
    """A workstation a test leaves behind must not run the journal's period-end check a minute
    later inside another test (tests/app/test_journal_auto_reviews.py calls ``run`` itself)."""
    monkeypatch.setattr("app.features.journal.FIRST_CHECK_MS", 24 * 3600 * 1000)


@pytest.fixture(autouse=True)
def _no_embedded_service(monkeypatch):
    """The workstations tests build do not each start the built-in service child process
    (tests/sync/test_embedded_service.py and tests/app/test_service_feature.py turn it on)."""
    monkeypatch.setattr("app.features.service.AUTOSTART", False)


@pytest.fixture
def ws(home, qtbot):
    """A workstation at 1280×800 on a fresh data folder with the first-run demo workspace open;
    closed after the test (also when the test ended in an accepted close and Qt has already
    deleted the window). Test modules that need another set-up define their own ``ws``."""
    from shiboken6 import isValid

    from app.main import build_workstation, open_workspace

    w = build_workstation()
    qtbot.addWidget(w.window)
    w.window.resize(1280, 800)
    w.window.show()
    open_workspace(w)
    yield w
    qtbot.waitUntil(lambda: not w.ctx.tasks.active, timeout=20000)
    if isValid(w.window):
        w.window._really_quit = True
        w.close()
    else:
        w.ctx.tasks.wait_all(10000)
        w.ctx.close()


def _uncaptured_stderr(config: pytest.Config) -> int:
    """The real stderr's descriptor while pytest captures fd 2: pytest's faulthandler plugin
    keeps a copy of it (private, so 2 when it is not there)."""
    try:
        from _pytest.faulthandler import fault_handler_stderr_fd_key
        return int(config.stash[fault_handler_stderr_fd_key])
    except (ImportError, KeyError):
        return 2


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Qt's fatal and critical messages reach the real stderr at once. pytest-qt's capture keeps
    every Qt message for the report, but Qt aborts right after a fatal one, so the worker
    died with only "Fatal Python error: Aborted" to show (seen in QWidget constructors
    under xdist). Chained after pytest-qt's handler is installed (the setup hooks have
    run), and only where Qt is already imported."""
    result = yield
    if "PySide6.QtCore" in sys.modules:
        from PySide6 import QtCore

        previous = QtCore.qInstallMessageHandler(None)
        loud = (QtCore.QtMsgType.QtFatalMsg, QtCore.QtMsgType.QtCriticalMsg)
        # pytest captures fd 2 during the test, and a worker that aborts loses what it
        # captured: write where faulthandler writes (its copy of the real stderr)
        out_fd = _uncaptured_stderr(item.config)

        def handler(mode, context, message):  # type: ignore[no-untyped-def]
            if mode in loud:
                where = f"{context.file}:{context.line}" if context.file else "?"
                os.write(out_fd, f"\n[Qt {mode.name} in {item.nodeid} at {where}] {message}\n"
                         .encode("utf-8", "replace"))
            if previous is not None:
                previous(mode, context, message)

        QtCore.qInstallMessageHandler(handler)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Only a crashed worker's test is ever run again (pyproject's --reruns, through
    xdist's crash hook). pytest-rerunfailures decides whether a failure is final before
    pytest-qt turns a test with Qt warnings into a failure, so such a test ran twice and
    a flaky warning could pass the second time. Outermost wrapper: every failure seen
    here is made final for the in-worker rerun loop (its per-phase flags)."""
    report = yield
    terminal = getattr(item, "_terminal_errors", None)
    if report.failed and isinstance(terminal, dict):
        terminal[report.when] = True
    return report


@pytest.fixture(autouse=True)
def _no_application_without_widgets():
    """A test must not leave a QCoreApplication/QGuiApplication behind: pytest-qt's qapp
    then takes it for the QApplication, and the next QWidget in that worker aborts the
    process ("QWidget: Cannot create a QWidget without QApplication"; the crash that hit
    test_account under xdist after the installer's icon test). Fails the test that did it."""
    yield
    if "PySide6.QtCore" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication

    app = QCoreApplication.instance()
    if app is not None and type(app).__name__ != "QApplication":
        pytest.fail(f"this test left a {type(app).__name__} running; use the qapp fixture "
                    "so code that needs Qt finds the QApplication")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    # The test fails even if the code under test caught the refusal (an OSError).
    result = yield
    _fail_if_refused("")
    return result


@pytest.fixture
def shared_data() -> Path:
    """The folder of bar files tests read (tests/data: ORCL, NVDA daily, FUT 1-minute)."""
    return TEST_DATA


@pytest.fixture
def phrasebank() -> Path:
    """../shared/data/financial-phrasebank-dev.csv, which is not in the repository (its
    licence, CC BY-NC-SA 3.0, is non-commercial); skips when this checkout has none."""
    if not PHRASEBANK.is_file():
        pytest.skip("needs ../shared/data/financial-phrasebank-dev.csv (non-commercial licence, "
                    "not kept in the repository)")
    return PHRASEBANK


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
