"""Shared machinery of the indicator library: input checking, the panel/leading-NaN
wrapper, and the exact vectorised primitives (first-order IIR, rolling sums, rolling
max/min) every indicator is built from.

Layout: kernels always see a 2-D float64 array ``(rows, time)`` of finite values and work
along axis 1. :func:`apply` turns 1-D input into one row, left-justifies rows that start
with NaN (so every kernel sees each series from its first valid bar, exactly as the
trimmed 1-D series would be seen), runs the kernel, then shifts results back and applies
the gap rule (see ``engine/indicators/__init__.py``).

Precision: the recursive filters are solved in blocks of ``_IIR_BLOCK`` bars by a matrix
product (each block's response to its own inputs) plus a short first-order recursion
over the block ends (the carry), which is algebraically the same recurrence as a loop;
rolling sums come from prefix sums that restart every block, so the rounding error is
bounded by the block size, not by the series length (relative error ~1e-14 on 1M bars).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar, cast, overload

import numpy as np

Array = np.ndarray
T = TypeVar("T")

# TA-Lib 0.8 treats two prices as equal when they differ by rounding noise: probing it
# (talib 0.8.1) shows STOCHF/WILLR give 0 for a range below ~1e-14 * (|high| + |low|),
# and CCI/MFI likewise ignore a typical-price difference of that size.
TA_REL_EQ = 1e-14


def ta_equal(a: Array, b: Array) -> Array:
    """Elementwise: a and b equal up to TA-Lib's relative rounding tolerance."""
    return cast(Array, np.abs(a - b) <= TA_REL_EQ * (np.abs(a) + np.abs(b)))


# --------------------------------------------------------------------------- input checks

def check_period(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int period; raises ValueError when it is not an integer
    >= ``minimum`` (the message names the parameter)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float; raises ValueError when it is not a finite number > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return v


def as_series(name: str, x: Any) -> Array:
    """``x`` as a float64 array of 1 or 2 dimensions; raises ValueError otherwise."""
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot be read as float64 numbers ({exc})") from None
    if a.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (time) or 2-D (symbols, time), got shape {a.shape}")
    return a


def as_inputs(**named: Any) -> tuple[list[Array], tuple[int, ...]]:
    """Convert the named inputs, check they share one shape; return them and the shape."""
    arrays = [as_series(k, v) for k, v in named.items()]
    shape = arrays[0].shape
    for (k, _), a in zip(named.items(), arrays):
        if a.shape != shape:
            first = next(iter(named))
            raise ValueError(f"{k} has shape {a.shape} but {first} has shape {shape}; "
                             "all inputs must have the same shape")
    return arrays, shape


# --------------------------------------------------------------------------- panel wrapper

def apply(kernel: Callable[..., T], inputs: Sequence[Array], shape: tuple[int, ...],
          n_out: int = 1) -> T:
    """Run ``kernel`` (2-D finite arrays in, 2-D array or tuple out) on ``inputs``.

    Handles 1-D input, rows with leading NaN (each row is computed as its trimmed series and
    shifted back) and gaps (from the first non-finite value after a row's first valid bar,
    every output of that row is NaN). Returns arrays of ``shape`` (a tuple when n_out > 1).
    """
    xs = [a.reshape(1, -1) if a.ndim == 1 else a for a in inputs]
    rows, n = xs[0].shape
    out: Any
    # Fast path: every value finite (one cheap reduction per input).
    if rows and n and all(np.isfinite(np.add.reduce(a, axis=None)) for a in xs):
        out = kernel(*xs)
    elif rows == 0 or n == 0:
        out = tuple(np.full((rows, n), np.nan) for _ in range(n_out)) if n_out > 1 \
            else np.full((rows, n), np.nan)
    else:
        out = _apply_ragged(kernel, xs, rows, n, n_out)
    if n_out == 1:
        return cast(T, out.reshape(shape))
    return cast(T, tuple(o.reshape(shape) for o in out))


# A compiled kernel (engine/indicators/_nb.py): writes its outputs in place, returns None.
Kernel = Callable[..., None]
# Its parameters after the arrays: periods, factors, or a per-bar array (session starts).
Param = int | float | Array


@overload
def run(kernel: Kernel, inputs: Sequence[Array], shape: tuple[int, ...],
        n_out: Literal[1], n_scratch: int, *params: Param) -> Array: ...


@overload
def run(kernel: Kernel, inputs: Sequence[Array], shape: tuple[int, ...],
        n_out: Literal[2], n_scratch: int, *params: Param) -> tuple[Array, Array]: ...


@overload
def run(kernel: Kernel, inputs: Sequence[Array], shape: tuple[int, ...],
        n_out: Literal[3], n_scratch: int, *params: Param) -> tuple[Array, Array, Array]: ...


@overload
def run(kernel: Kernel, inputs: Sequence[Array], shape: tuple[int, ...],
        n_out: Literal[4], n_scratch: int,
        *params: Param) -> tuple[Array, Array, Array, Array]: ...


def run(kernel: Kernel, inputs: Sequence[Array], shape: tuple[int, ...],
        n_out: int, n_scratch: int, *params: Param) -> Array | tuple[Array, ...]:
    """Run a compiled kernel (``engine/indicators/_nb.py``) as
    ``kernel(*inputs, *outputs, *scratch, *params)``: inputs as 2-D C-contiguous float64,
    ``n_out`` outputs of that shape and ``n_scratch`` scratch rows allocated here. The
    kernel applies the leading-NaN and gap rules itself. Returns the output (a tuple of
    ``n_out`` arrays when n_out > 1) reshaped to ``shape``; the overloads give each
    ``n_out`` its exact type, so no ``Any`` leaks from the untyped numba dispatch."""
    xs = [np.ascontiguousarray(a.reshape(1, -1) if a.ndim == 1 else a) for a in inputs]
    rows, n = xs[0].shape
    outs = [np.empty((rows, n)) for _ in range(n_out)]
    scratch = [np.empty(n) for _ in range(n_scratch)]
    kernel(*xs, *outs, *scratch, *params)
    if n_out == 1:
        return outs[0].reshape(shape)
    return tuple(o.reshape(shape) for o in outs)


def _apply_ragged(kernel: Callable[..., Any], xs: list[Array], rows: int, n: int,
                  n_out: int) -> Any:
    valid = np.isfinite(xs[0])
    for a in xs[1:]:
        valid &= np.isfinite(a)
    any_valid = valid.any(axis=1)
    first = np.where(any_valid, valid.argmax(axis=1), n)
    t = np.arange(n)
    idx = t[None, :] + first[:, None]
    inb = idx < n
    idxc = np.minimum(idx, n - 1)
    vj = np.take_along_axis(valid, idxc, axis=1) & inb
    # m = length of the run of valid values starting at the row's first valid bar.
    m = np.where(vj.all(axis=1), n, vj.argmin(axis=1))
    m = np.where(any_valid, m, 0)
    tail = t[None, :] >= m[:, None]
    last = np.maximum(m - 1, 0)[:, None]
    justified = []
    for a in xs:
        aj = np.take_along_axis(a, idxc, axis=1)
        fill = np.take_along_axis(aj, last, axis=1)
        fill = np.where(np.isfinite(fill), fill, 0.0)
        justified.append(np.where(tail, fill, aj))
    res = kernel(*justified)
    outs = (res,) if n_out == 1 else tuple(res)
    back = t[None, :] - first[:, None]
    before = back < 0
    backc = np.maximum(back, 0)
    shifted = []
    for o in outs:
        o = np.array(o, dtype=np.float64, copy=True)
        o[tail] = np.nan
        o = np.take_along_axis(o, backc, axis=1)
        o[before] = np.nan
        shifted.append(o)
    return shifted[0] if n_out == 1 else tuple(shifted)


def nan_like(x: Array) -> Array:
    return np.full(x.shape, np.nan)


# --------------------------------------------------------------------------- IIR filter

_IIR_BLOCK = 16


def iir(x: Array, alpha: float, y0: Array, gain: float | None = None,
        out: Array | None = None) -> Array:
    """Exact first-order recursion along axis 1: ``y[t] = (1 - alpha) * y[t-1] + g * x[t]``
    with ``y[-1] = y0`` (one per row) and ``g = alpha`` unless ``gain`` is given.

    Solved by blocks of L bars: the state at each block end comes from a short recursion
    over the blocks (factor (1-alpha)^L), and each block's values are its response to its
    own inputs (a lower-triangular Toeplitz matrix product) plus the decayed carried state.
    Written into ``out`` (shape of x) when given.
    """
    # scipy.signal costs ~0.7 s to import; only the numpy fallback needs it, so it is
    # imported here rather than with the package (start-up time).
    from scipy.signal import lfilter  # type: ignore[import-untyped, unused-ignore]

    rows, m = x.shape
    if out is None:
        out = np.empty((rows, m))
    if m == 0:
        return out
    a = 1.0 - alpha
    g = alpha if gain is None else gain
    L = _IIR_BLOCK
    i = np.arange(L)
    expo = i[:, None] - i[None, :]
    mt = np.ascontiguousarray(np.where(expo >= 0, a ** np.maximum(expo, 0), 0.0).T * g)
    p = (a ** (i + 1))[None, :]
    y0 = np.asarray(y0, dtype=np.float64).reshape(rows)
    step = _chunk_rows(L)
    if rows == 1 and x[0].flags.c_contiguous and out[0].flags.c_contiguous:
        m0 = m - m % L
        last = y0
        if m0:
            xb = x[0, :m0].reshape(-1, L)
            ob = out[0, :m0].reshape(-1, L)
            ends = small_matmul(xb, np.ascontiguousarray(mt[:, -1:]))[:, 0]
            carry, _ = lfilter([1.0], [1.0, -(a ** L)], ends, zi=a ** L * y0)
            cprev = np.empty(carry.size)
            cprev[0] = y0[0]
            cprev[1:] = carry[:-1]
            for s in range(0, xb.shape[0], step):
                blk = ob[s:s + step]
                np.matmul(xb[s:s + step], mt, out=blk)
                blk += cprev[s:s + step, None] * p
            last = ob[-1, -1:]
        if m0 < m:
            out[0, m0:] = lfilter([g], [1.0, -a], x[0, m0:], zi=a * last)[0]
        return out
    nb = -(-m // L)
    buf = np.zeros((rows, nb * L))
    buf[:, :m] = x
    xb = buf.reshape(rows * nb, L)
    ends = small_matmul(xb, np.ascontiguousarray(mt[:, -1:])).reshape(rows, nb)
    carry, _ = lfilter([1.0], [1.0, -(a ** L)], ends, axis=1, zi=(a ** L * y0)[:, None])
    cprev = np.empty((rows, nb))
    cprev[:, 0] = y0
    cprev[:, 1:] = carry[:, :-1]
    cflat = cprev.reshape(-1, 1)
    y = np.empty_like(xb)
    for s in range(0, xb.shape[0], step):
        blk = y[s:s + step]
        np.matmul(xb[s:s + step], mt, out=blk)
        blk += cflat[s:s + step] * p
    out[:] = y.reshape(rows, nb * L)[:, :m]
    return out


def _chunk_rows(L: int) -> int:
    # OpenBLAS hands a GEMM to its thread pool above m*n*k = 262,144; on a busy machine
    # its spinning workers slow everything else down, and these products are memory bound
    # anyway. Chunks below that size run single-threaded (and stay in cache).
    return max(1, 262_143 // (L * L))


def small_matmul(xb: Array, mt: Array, out: Array | None = None) -> Array:
    """``xb @ mt`` for a tall ``xb`` and a small ``mt``, in single-threaded chunks."""
    if out is None:
        out = np.empty((xb.shape[0], mt.shape[1]))
    step = _chunk_rows(mt.shape[0])
    for s in range(0, xb.shape[0], step):
        np.matmul(xb[s:s + step], mt, out=out[s:s + step])
    return out


def ema_seeded(x: Array, n: int, start: Array | int = 0, alpha: float | None = None) -> Array:
    """TA-Lib's EMA of rows of ``x`` whose valid part begins at ``start`` (scalar index):
    seeded with the mean of the first ``n`` valid values (placed at start + n - 1), then
    ``y = y_prev + alpha * (x - y_prev)``, alpha = 2/(n+1) unless given. NaN before the seed.
    """
    rows, N = x.shape
    s = int(start)
    seed_at = s + n - 1
    if seed_at >= N:
        return np.full((rows, N), np.nan)
    out = np.empty((rows, N))
    out[:, :seed_at] = np.nan
    k = 2.0 / (n + 1) if alpha is None else alpha
    seed = x[:, s:seed_at + 1].sum(axis=1) / n
    out[:, seed_at] = seed
    if seed_at + 1 < N:
        iir(x[:, seed_at + 1:], k, seed, out=out[:, seed_at + 1:])
    return out


# --------------------------------------------------------------------------- rolling sums

def _prefix_blocks(x: Array, L: int) -> tuple[Array, int]:
    """Prefix sums restarting every L bars: returns (C of shape (rows, nb*L), nb)."""
    rows, N = x.shape
    nb = -(-N // L)
    if rows == 1 and N % L == 0:
        xb = x.reshape(nb, L)
    else:
        buf = np.zeros((rows, nb * L))
        buf[:, :N] = x
        xb = buf.reshape(rows * nb, L)
    if L <= 64:
        c = small_matmul(xb, np.triu(np.ones((L, L))))
    else:
        c = np.cumsum(xb, axis=1)
    return c.reshape(rows, nb * L), nb


def _block_len(n: int) -> int:
    for L in (16, 32, 64):
        if n <= L:
            return L
    return max(1024, n)


# Long series are processed in column chunks of about this many values: temporaries then
# stay in cache and are recycled by the allocator instead of page-faulting fresh memory.
CHUNK = 65_536


def chunk_len(rows: int) -> int:
    """Columns per chunk for a panel of ``rows`` rows."""
    return max(4_096, CHUNK // max(rows, 1))


def by_chunks(fn: Callable[[Array], Array], x: Array, n: int) -> Array:
    """Apply a window function with an (n-1)-bar warm-up chunk by chunk along axis 1;
    each chunk is given the n-1 bars before it, so results are those of ``fn(x)``."""
    rows, N = x.shape
    step = chunk_len(rows)
    if N <= 2 * step:
        return fn(x)
    out = np.empty((rows, N))
    out[:, :n - 1] = np.nan
    for s in range(n - 1, N, step):
        e = min(N, s + step)
        out[:, s:e] = fn(x[:, s - n + 1:e])[:, n - 1:]
    return out


def windowed(kernel: Callable[..., T], lookback: int, n_out: int = 1) -> Callable[..., T]:
    """Wrap a non-recursive kernel whose output at bar t depends only on bars
    t-lookback..t so that long inputs are computed chunk by chunk (same results)."""
    def run(*xs: Array) -> T:
        rows, N = xs[0].shape
        step = chunk_len(rows)
        if N <= 2 * step or lookback >= step:
            return kernel(*xs)
        outs = [np.empty((rows, N)) for _ in range(n_out)]
        for s in range(0, N, step):
            e = min(N, s + step)
            b = max(0, s - lookback)
            res: Any = kernel(*(a[:, b:e] for a in xs))
            for o, r in zip(outs, res if n_out > 1 else (res,)):
                o[:, s:e] = r[:, s - b:]
        return cast(T, tuple(outs) if n_out > 1 else outs[0])
    return run


def rolling_sum(x: Array, n: int, _parts: bool = False, scale: float = 1.0) -> Any:
    """Sum of the last ``n`` values along axis 1 times ``scale`` (NaN for the first n-1
    bars)."""
    if not _parts:
        return by_chunks(lambda seg: _rolling_sum(seg, n, False, scale), x, n)
    return _rolling_sum(x, n, True, scale)


def _rolling_sum(x: Array, n: int, _parts: bool, scale: float) -> Any:
    rows, N = x.shape
    out = np.full((rows, N), np.nan)
    if N < n:
        return (out, None, 0) if _parts else out
    L = _block_len(n)
    if rows == 1 and L <= 64 and x[0].flags.c_contiguous:
        return _rolling_sum_row(x, n, L, _parts, scale)
    c, nb = _prefix_blocks(x, L)
    s = np.empty_like(c)
    s[:, n:] = c[:, n:] - c[:, :-n]
    s[:, :n] = c[:, :n]
    if nb > 1:
        s3 = s.reshape(rows, nb, L)
        totals = c.reshape(rows, nb, L)[:, :-1, -1]
        s3[:, 1:, :n] += totals[:, :, None]
    out[:, n - 1:] = s[:, n - 1:N]
    if scale != 1.0:
        out *= scale
    if _parts:
        return out, c[:, :N] * scale, L
    return out


def _rolling_sum_row(x: Array, n: int, L: int, parts: bool, scale: float) -> Any:
    """rolling_sum for one contiguous row, without padding copies."""
    N = x.shape[1]
    x1 = x[0]
    m0 = N - N % L
    c = np.empty(N)
    if m0:
        small_matmul(x1[:m0].reshape(-1, L), np.triu(np.full((L, L), scale)),
                     out=c[:m0].reshape(-1, L))
    if m0 < N:
        np.cumsum(x1[m0:] * scale, out=c[m0:])
    out = np.empty((1, N))
    s = out[0]
    np.subtract(c[n:], c[:-n], out=s[n:])
    s[:n] = c[:n]
    nbf = m0 // L
    if nbf > 1:
        s[:m0].reshape(nbf, L)[1:, :n] += c[L - 1:m0 - L:L, None]
    if m0 and m0 < N:
        s[m0:m0 + n] += c[m0 - 1]
    s[:n - 1] = np.nan
    if parts:
        return out, c[None, :], L
    return out


def rolling_mean(x: Array, n: int) -> Array:
    """Mean of the last ``n`` values (TA-Lib SMA alignment)."""
    return cast(Array, rolling_sum(x, n, scale=1.0 / n))


def rolling_var(x: Array, n: int, mean: Array) -> Array:
    """Population variance of the last ``n`` values around ``mean`` (their rolling mean):
    sum((x - mean)^2) / n computed directly per window (two-pass), not as
    E[x^2] - mean^2, which loses all precision when the spread is small next to the price
    (TA-Lib 0.8's BBANDS/STDDEV are accurate there too). Worked in column chunks so the
    temporaries stay in cache."""
    rows, N = x.shape
    out = np.full((rows, N), np.nan)
    if N < n:
        return out
    M = N - n + 1
    chunk = max(1024, 16_384 // max(rows, 1))
    for c0 in range(0, M, chunk):
        c1 = min(M, c0 + chunk)
        m = mean[:, n - 1 + c0:n - 1 + c1]
        acc = np.zeros((rows, c1 - c0))
        tmp = np.empty_like(acc)
        for k in range(n):
            np.subtract(x[:, c0 + k:c1 + k], m, out=tmp)
            np.multiply(tmp, tmp, out=tmp)
            acc += tmp
        acc /= n
        out[:, n - 1 + c0:n - 1 + c1] = acc
    return out


def rolling_wsum(x: Array, n: int) -> Array:
    """Linearly weighted sum of the last ``n`` values, weight n on the newest, 1 on the
    oldest (TA-Lib WMA numerator)."""
    rows, N = x.shape
    if N < n:
        return np.full((rows, N), np.nan)
    s, c, L = rolling_sum(x, n, _parts=True)
    j = np.arange(N) % L
    g = rolling_sum(x * j, n)
    # Window elements in the previous block carry local index j' but true offset j' - L.
    prev = np.where(j < n - 1, s - c, 0.0)
    return cast(Array, g - L * prev - (j - n) * s)


def rolling_max(x: Array, n: int) -> Array:
    """Highest of the last ``n`` values, current included (exact, O(N log n))."""
    return by_chunks(lambda seg: _rolling_ext(seg, n, np.maximum, -np.inf), x, n)


def rolling_min(x: Array, n: int) -> Array:
    """Lowest of the last ``n`` values, current included."""
    return by_chunks(lambda seg: _rolling_ext(seg, n, np.minimum, np.inf), x, n)


def _rolling_ext(x: Array, n: int, op: Any, pad: float) -> Array:
    # Doubling (sparse table): after k passes w[t] is the extreme of the 2^k values ending
    # at t (valid for t >= 2^k - 1, the only ones read later); a window of n is the
    # extreme of two overlapping 2^k windows. Exact (comparisons only), O(N log n),
    # contiguous passes only.
    rows, N = x.shape
    out = np.empty((rows, N))
    out[:, :min(n - 1, N)] = np.nan
    if N < n:
        return out
    if n == 1:
        out[:] = x
        return out
    w = x
    other = np.empty((rows, N))
    span = 1
    while span * 2 <= n:
        op(w[:, span:], w[:, :-span], out=other[:, span:])
        other[:, :span] = w[:, :span]
        w, other = other, (np.empty((rows, N)) if w is x else w)
        span *= 2
    rest = n - span  # [t-n+1, t] = [t-n+1, t-n+span] U [t-span+1, t]
    if rest:
        op(w[:, n - 1:], w[:, n - 1 - rest:N - rest], out=out[:, n - 1:])
    else:
        out[:, n - 1:] = w[:, n - 1:]
    return out


def shift_cols(x: Array, k: int) -> Array:
    """``y[:, t] = x[:, t-k]`` (k may be negative), NaN where undefined."""
    rows, N = x.shape
    out = np.full((rows, N), np.nan)
    if k == 0:
        out[:] = x
    elif 0 < k < N:
        out[:, k:] = x[:, :N - k]
    elif -N < k < 0:
        out[:, :N + k] = x[:, -k:]
    return out


def true_range(h: Array, l: Array, c: Array) -> Array:
    """TA-Lib TRANGE (NaN at bar 0): max(h-l, |h-prev close|, |l-prev close|)."""
    tr = np.empty(h.shape)
    tr[:, 0] = np.nan
    yc = c[:, :-1]
    hh, ll = h[:, 1:], l[:, 1:]
    out = tr[:, 1:]
    np.subtract(hh, ll, out=out)
    tmp = np.subtract(hh, yc)
    np.abs(tmp, out=tmp)
    np.maximum(out, tmp, out=out)
    np.subtract(ll, yc, out=tmp)
    np.abs(tmp, out=tmp)
    np.maximum(out, tmp, out=out)
    return tr


def wilder_mean(v: Array, n: int, first: int) -> Array:
    """Wilder average as TA-Lib seeds it: mean of v[first:first+n] at first+n-1, then
    ``y = (y_prev*(n-1) + v)/n``."""
    return ema_seeded(v, n, first, alpha=1.0 / n)
