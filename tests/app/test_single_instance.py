from app.single_instance import SingleInstance


def test_second_instance_is_refused_and_activates_the_first(tmp_path, qtbot):
    first = SingleInstance(tmp_path)
    assert first.acquire()
    try:
        second = SingleInstance(tmp_path)
        assert not second.acquire()
        with qtbot.waitSignal(first.activation_requested, timeout=3000):
            assert second.signal_running_instance()
    finally:
        first.release()
    third = SingleInstance(tmp_path)
    assert third.acquire()  # released lock can be taken again
    third.release()


def test_other_folders_are_independent(tmp_path):
    a = SingleInstance(tmp_path / "a")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    b = SingleInstance(tmp_path / "b")
    assert a.acquire() and b.acquire()
    a.release()
    b.release()
