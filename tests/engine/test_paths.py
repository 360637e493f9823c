"""engine.paths: the data-folder write probe."""
import threading

import pytest

from engine.paths import DataDirError, ensure_writable


def test_concurrent_write_probes_on_one_folder_all_succeed_and_leave_nothing(tmp_path):
    # Two imports at once used to race on one shared ".write-test" file: one thread's
    # unlink removed the other's probe and that import said the folder cannot be written.
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def probe() -> None:
        start.wait()
        for _ in range(300):
            try:
                ensure_writable(tmp_path)
            except DataDirError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=probe) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert list(tmp_path.iterdir()) == []  # every probe was removed


def test_a_folder_that_cannot_be_created_gives_one_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DataDirError, match="cannot be written"):
        ensure_writable(blocker / "sub")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
