from engine.indicators import _backend
from engine.indicators.registry import REGISTRY
from engine.indicators.warmup import warm_up
from engine.progress import Progress


def test_warm_up_prepares_every_registered_indicator_with_progress():
    gen = warm_up(bars=40)
    seen = []
    while True:
        try:
            seen.append(next(gen))
        except StopIteration as stop:
            count = stop.value
            break
    if _backend.backend() == "numba":
        assert count == len(REGISTRY) == len(seen)
        assert all(isinstance(p, Progress) for p in seen) and seen[-1].done == seen[-1].total
    else:
        assert count == 0 and seen == []


def test_warm_up_is_a_no_op_on_the_numpy_fallback():
    previous = _backend.set_backend("numpy")
    try:
        assert list(warm_up()) == []
    finally:
        _backend.set_backend(previous)
