"""Input checks shared by the pricing, American and implied-volatility entry points.

Every public function in ``engine.options`` validates its arguments here before computing
anything: the arguments are broadcast to one shape, must be finite, spot and strike > 0,
years >= 0, vol >= 0. A bad value raises ``ValueError`` with one sentence naming the
argument and the first offending element.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ArrayLike = npt.ArrayLike
# An option type: "call"/"put" (or "c"/"p", any case), a bool (True = call), or an
# array of either, broadcast against the numeric arguments.
KindLike = Any

_CALL = {"call", "c", "calls"}
_PUT = {"put", "p", "puts"}


def _as_float(name: str, value: ArrayLike) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r:.60}") from None
    return arr


def _first_bad(name: str, arr: FloatArray, bad: BoolArray, rule: str) -> None:
    if bad.any():
        idx = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
        pos = ", ".join(str(int(i)) for i in idx)
        where = f" (element [{pos}] is {float(arr[idx])!r})" if arr.ndim else f" (got {float(arr)!r})"
        raise ValueError(f"{name} must be {rule}{where}")


def option_sign(kind: KindLike) -> FloatArray:
    """+1.0 for calls and -1.0 for puts, as an array of the shape of ``kind``.

    Raises ``ValueError`` for anything other than "call"/"put"/"c"/"p" (any case) or booleans.
    """
    arr = np.asarray(kind)
    if arr.dtype == np.bool_:
        return np.where(arr, 1.0, -1.0)
    if arr.dtype.kind == "S":
        arr = arr.astype(str)
    if arr.dtype.kind == "U":
        return _sign_of_text(arr)
    if arr.dtype == object:
        return option_sign(np.asarray([str(k) if not isinstance(k, (bool, np.bool_)) else ("c" if k else "p")
                                       for k in arr.ravel()]).reshape(arr.shape))
    raise ValueError(f"option type must be 'call' or 'put', got {kind!r:.60}")


def _sign_of_text(arr: npt.NDArray[np.str_]) -> FloatArray:
    # Compare code points (a uint32 view) rather than Python strings: 100,000 types in ~1 ms.
    width = max(arr.dtype.itemsize // 4, 1)
    if arr.dtype.itemsize == 0:
        raise ValueError("option type must be 'call' or 'put', got ''")
    codes = np.ascontiguousarray(arr).view(np.uint32).reshape(arr.shape + (width,))
    low = np.where((codes >= 65) & (codes <= 90), codes | 0x20, codes)
    is_call = np.zeros(arr.shape, dtype=bool)
    is_put = np.zeros(arr.shape, dtype=bool)
    for word in _CALL | _PUT:
        if len(word) > width:
            continue
        pattern = np.zeros(width, dtype=np.uint32)
        pattern[:len(word)] = [ord(ch) for ch in word]
        hit = (low == pattern).all(axis=-1)
        (is_call if word in _CALL else is_put)[...] |= hit
    bad = ~(is_call | is_put)
    if bad.any():
        raise ValueError(f"option type must be 'call' or 'put', got {str(arr[bad].ravel()[0])!r}")
    return np.where(is_call, 1.0, -1.0)


def check_market(spot: ArrayLike, strike: ArrayLike, years: ArrayLike, rate: ArrayLike,
                 dividend: ArrayLike, vol: ArrayLike | None = None,
                 ) -> tuple[FloatArray, ...]:
    """Broadcast and validate the market arguments; returns float arrays (vol last when given)."""
    names = ["spot", "strike", "years", "rate", "dividend"] + (["vol"] if vol is not None else [])
    values = [spot, strike, years, rate, dividend] + ([vol] if vol is not None else [])
    arrs = [_as_float(n, v) for n, v in zip(names, values)]
    try:
        arrs = list(np.broadcast_arrays(*arrs))
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrs))
        raise ValueError(f"the arguments cannot be broadcast to one shape ({shapes})") from None
    for n, a in zip(names, arrs):
        _first_bad(n, a, ~np.isfinite(a), "finite")
    s, k, t = arrs[0], arrs[1], arrs[2]
    _first_bad("spot", s, s <= 0, "positive")
    _first_bad("strike", k, k <= 0, "positive")
    _first_bad("years", t, t < 0, "zero or positive")
    if vol is not None:
        _first_bad("vol", arrs[5], arrs[5] < 0, "zero or positive")
    return tuple(arrs)


def broadcast_sign(sign: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """``sign`` broadcast to ``shape``; ValueError when it does not fit."""
    try:
        return np.broadcast_to(sign, np.broadcast_shapes(sign.shape, shape))
    except ValueError:
        raise ValueError(f"the option types {sign.shape} cannot be broadcast to the "
                         f"arguments' shape {shape}") from None


def out(arr: FloatArray, scalar: bool) -> Any:
    """A Python float when every input was a scalar, else the array."""
    return float(arr) if scalar else arr


def all_scalar(*values: Any) -> bool:
    return all(np.ndim(v) == 0 for v in values)
