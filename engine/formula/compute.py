"""Evaluation of parsed formulas on a ``Panel`` (symbols × time), with a sub-expression cache.

``Evaluator(panel)`` evaluates nodes once each: parsing interns equal sub-expressions into
one ``Node`` object, and the evaluator memoises results per node, so ``sma(close, 50)``
written twice is computed once — also across several formulas evaluated with the same
evaluator (a scan's filter and its columns).

Two modes:

* ``full(node)`` – every column (S × T);
* ``tail(node, k)`` – only the last ``k`` columns (S × k). Windowed functions read only the
  window they need (``sma(x, n)`` of the last bar is the mean of the last ``n`` values),
  and ``rsi`` uses the closed form of Wilder's recursion (a weighted sum of the gains and
  losses), so a scan that needs only the last bar's truth value costs a fraction of a full
  evaluation. Anything without a tail rule is computed in full and sliced, so
  ``tail(node, k)`` always equals ``full(node)[:, -k:]`` (to floating-point rounding).

Semantics: comparisons involving NaN are False (``!=`` too); ``and``/``or``/``not`` treat a
number as true when it is non-zero and not NaN; booleans used as numbers are 1/0;
division by zero gives NaN.
"""
from __future__ import annotations

from typing import Union

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.formula.functions import Context
from engine.formula.panel import Panel
from engine.formula.parser import Node

Value = Union[np.ndarray, float, bool]

_RSI_WEIGHTS: dict[tuple[int, int, int], np.ndarray] = {}
_CHUNK_VALUES = 1 << 16  # values per block of rows in the RSI tail (512 KiB: fits a CPU cache)


def _as_float(v: Value) -> Value:
    if isinstance(v, np.ndarray):
        return v.astype(np.float64) if v.dtype == bool else v
    return float(v)


def _truth(v: Value) -> Value:
    if isinstance(v, np.ndarray):
        if v.dtype == bool:
            return v
        out: np.ndarray = (v != 0) & ~np.isnan(v)
        return out
    return bool(v) and bool(v == v)


def _compare(op: str, a: Value, b: Value) -> Value:
    a, b = _as_float(a), _as_float(b)
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "==":
        return a == b
    # NaN != x is True in IEEE arithmetic; in formulas every comparison with NaN is False.
    return (a != b) & ~np.isnan(a) & ~np.isnan(b)


def _arith(op: str, a: Value, b: Value) -> Value:
    a, b = _as_float(a), _as_float(b)
    with np.errstate(all="ignore"):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if isinstance(a, float) and isinstance(b, float):
                return a / b if b != 0 else float("nan")
            return np.where(np.asarray(b) == 0, np.nan, np.true_divide(a, b))
        # "**": numpy float power (never Python's unbounded integer power)
        out = np.power(np.float64(a) if isinstance(a, float) else a, b)
        return float(out) if np.ndim(out) == 0 else out


def _apply(node: Node, vals: list[Value]) -> Value:
    k = node.kind
    if k == "neg":
        return -_as_float(vals[0])
    if k == "not":
        t = _truth(vals[0])
        return ~t if isinstance(t, np.ndarray) else not t
    op = node.op
    if op == "and":
        return _truth(vals[0]) & _truth(vals[1])  # type: ignore[operator]
    if op == "or":
        return _truth(vals[0]) | _truth(vals[1])  # type: ignore[operator]
    if op in ("<", "<=", ">", ">=", "==", "!="):
        return _compare(op, vals[0], vals[1])
    return _arith(op, vals[0], vals[1])


def _finite_preserving(node: Node, memo: dict[Node, bool] | None = None) -> bool:
    """True when ``node`` is finite wherever the bar fields are (fields, numbers, + - *).

    Memoised per node: a shared sub-expression (a custom indicator used twice) is checked
    once, so a chain of ``previous + previous`` costs linear, not exponential, time.
    """
    if node.kind in ("field", "num"):
        return True
    if node.kind == "neg" or (node.kind == "bin" and node.op in ("+", "-", "*")):
        memo = {} if memo is None else memo
        hit = memo.get(node)
        if hit is None:
            hit = all(_finite_preserving(a, memo) for a in node.args)
            memo[node] = hit
        return hit
    return False


_BANDS: dict[tuple[int, int], np.ndarray] = {}


def _band(n: int, k: int) -> np.ndarray:
    """(n+k-1) × k matrix of ones on a band: column i sums window i of n values."""
    b = _BANDS.get((n, k))
    if b is None:
        i = np.arange(n + k - 1)[:, None]
        c = np.arange(k)[None, :]
        b = ((i >= c) & (i < c + n)).astype(np.float64)
        if len(_BANDS) > 64:
            _BANDS.clear()
        _BANDS[(n, k)] = b
    return b


class Evaluator:
    """Evaluates nodes of parsed formulas on one ``Panel``, each node at most once per mode."""

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self.shape = panel.shape
        self.ctx = Context(panel.open, panel.high, panel.low, panel.close, panel.volume,
                           panel.time if panel.is_intraday else None)
        self._full: dict[Node, Value] = {}
        self._tail: dict[tuple[Node, int], Value] = {}

    # ------------------------------------------------------------------ public
    def array(self, node: Node) -> np.ndarray:
        """``full(node)`` broadcast to (S, T): bool for boolean nodes, else float64."""
        return self._broadcast(node, self.full(node), self.shape)

    def last(self, node: Node, k: int = 1) -> np.ndarray:
        """The last ``k`` columns of ``node`` (S × k), computing only what they need."""
        s, t = self.shape
        k = max(1, min(int(k), t)) if t else 0
        if t == 0:
            return self._broadcast(node, np.zeros((s, 0)), (s, 0))
        return self._broadcast(node, self.tail(node, k), (s, k))

    # ------------------------------------------------------------------ full
    def full(self, node: Node) -> Value:
        hit = self._full.get(node)
        if hit is not None:
            return hit
        if node.kind == "num":
            out: Value = bool(node.value) if node.is_bool else node.value
        elif node.kind == "field":
            out = getattr(self.panel, node.op)
        elif node.kind == "call":
            out = self._call_full(node)
        else:
            out = _apply(node, [self.full(a) for a in node.args])
        self._full[node] = out
        return out

    def _series(self, v: Value) -> np.ndarray:
        if isinstance(v, np.ndarray):
            return v.astype(np.float64) if v.dtype == bool else v
        return np.full(self.shape, float(v))

    def _call_full(self, node: Node) -> Value:
        assert node.spec is not None
        args = [self._series(self.full(a)) for a in node.args]
        with np.errstate(all="ignore"):  # inf/NaN inputs are the formula's business, not a warning
            out = node.spec.impl(self.ctx, args, node.params)
        return np.asarray(out, dtype=bool if node.is_bool else np.float64)

    # ------------------------------------------------------------------ tail
    def tail(self, node: Node, k: int) -> Value:
        """Last ``k`` columns of ``node`` (scalar for constants); 1 ≤ k ≤ T."""
        if node.kind == "num":
            return bool(node.value) if node.is_bool else node.value
        if node.kind == "field":
            col: np.ndarray = getattr(self.panel, node.op)[:, -k:]
            return col
        full = self._full.get(node)
        if full is not None:
            return full[:, -k:] if isinstance(full, np.ndarray) else full
        key = (node, k)
        hit = self._tail.get(key)
        if hit is not None:
            return hit
        if node.kind == "call":
            out = self._call_tail(node, k)
        else:
            out = _apply(node, [self.tail(a, k) for a in node.args])
        self._tail[key] = out
        return out

    def _call_tail(self, node: Node, k: int) -> Value:
        t = self.shape[1]
        op = node.op
        if op in ("sma", "highest", "lowest"):
            n = int(node.params[0])
            if k + n - 1 <= t:
                return self._window_tail(node, k, n)
        elif op == "shift":
            n = int(node.params[0])  # a pure shift: no gap rule, exact on any window
            if k + n <= t:
                return self._series_tail(node.args[0], k + n)[:, :k]
        elif op == "change_pct":
            n = int(node.params[0])
            if k + n <= t:
                x = self._series_tail(node.args[0], k + n)
                prev, cur = x[:, :k], x[:, n:]
                with np.errstate(divide="ignore", invalid="ignore"):
                    return np.where(prev != 0, (cur / prev - 1.0) * 100.0, np.nan)
        elif op in ("crosses_above", "crosses_below"):
            if k + 1 <= t:
                a = _as_float(self.tail(node.args[0], k + 1))
                b = _as_float(self.tail(node.args[1], k + 1))
                a, b = np.broadcast_arrays(a, b) if isinstance(a, np.ndarray) or isinstance(b, np.ndarray) \
                    else (np.full((self.shape[0], k + 1), a), np.full((self.shape[0], k + 1), b))
                from engine.indicators import helpers

                return helpers._crossed(helpers.cross_diff(a, b), up=op == "crosses_above")[:, 1:]
        elif op == "rsi":
            return self._rsi_tail(node, k)
        v = self.full(node)
        return v[:, -k:] if isinstance(v, np.ndarray) else v

    def _bad_rows(self, node: Node, x: np.ndarray) -> np.ndarray:
        """Rows where ``node`` (full values ``x``) may hold NaN/inf: the indicators' leading-NaN
        and gap rules depend on the whole row there, so those rows are computed by the
        indicator itself. Sums, differences and products of bar fields are finite wherever
        the panel row is ``clean``; anything else is checked (a finite row sum proves every
        value finite)."""
        key = (node, -1)
        hit = self._tail.get(key)
        if hit is None:
            if _finite_preserving(node) and self.panel.clean is not None:
                hit = ~self.panel.clean
            else:
                with np.errstate(all="ignore"):
                    hit = ~np.isfinite(np.add.reduce(x, axis=1))
            self._tail[key] = hit
        return hit  # type: ignore[return-value]

    def _rows_by_indicator(self, node: Node, x: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
        assert node.spec is not None
        sub = x[rows]
        c = self.ctx
        ctx = Context(c.open[rows], c.high[rows], c.low[rows], c.close[rows], c.volume[rows], c.time)
        with np.errstate(all="ignore"):
            out = node.spec.impl(ctx, [sub], node.params)
        return np.asarray(out, dtype=np.float64)[:, -k:]

    def _window_tail(self, node: Node, k: int, n: int) -> np.ndarray:
        x = self._series(self.full(node.args[0]))
        bad = self._bad_rows(node.args[0], x)
        w = x[:, -(k + n - 1):]
        if node.op == "sma":
            # window sums as one matrix product (a band of ones), then / n like TA-Lib's SMA
            out = (w @ _band(n, k)) / n
        else:
            win = sliding_window_view(w, n, axis=1)
            out = win.max(axis=-1) if node.op == "highest" else win.min(axis=-1)
        if bad.any():
            out = np.array(out, dtype=np.float64, copy=True)
            out[bad] = self._rows_by_indicator(node, x, bad, k)
        return out  # type: ignore[no-any-return]

    def _series_tail(self, node: Node, m: int) -> np.ndarray:
        v = self.tail(node, m)
        if isinstance(v, np.ndarray):
            return v.astype(np.float64) if v.dtype == bool else v
        return np.full((self.shape[0], m), float(v))

    def _rsi_tail(self, node: Node, k: int) -> np.ndarray:
        """Wilder RSI of the last k bars as a weighted sum of gains and losses.

        avg(t) = a**(t-n) · mean(g[0:n]) + Σ_{n ≤ j < t} a**(t-1-j) · g[j] / n with a = (n-1)/n
        (g[j] is the gain from bar j to j+1): TA-Lib's recursion unrolled; 0 where gains + losses
        are exactly 0 (as engine.indicators.rsi). Rows with NaN
        (a symbol with fewer bars than the panel) go through the full indicator instead.
        """
        n = int(node.params[0])
        s, t = self.shape
        x = self._series(self.full(node.args[0]))
        out = np.full((s, k), np.nan)
        if t - 1 < n:
            return out
        bad = self._bad_rows(node.args[0], x)
        if not bad.all():
            # Changes of the flattened panel: contiguous, so one fast pass; the value that
            # straddles two rows lands in the last column, which gets weight 0 (and is zeroed
            # so a NaN in a neighbouring row cannot leak in). Done in blocks of rows that stay
            # in the CPU cache, so the panel is read from memory once.
            flat = np.ascontiguousarray(x).reshape(-1)
            w = self._rsi_weights(n, t, k)
            out = np.empty((s, k))
            step = max(1, _CHUNK_VALUES // max(t, 1))
            buf = np.empty(step * t)
            for r0 in range(0, s, step):
                r1 = min(s, r0 + step)
                m = (r1 - r0) * t
                d = buf[:m]
                p0 = r0 * t
                span = min(r1 * t, flat.shape[0] - 1) - p0  # the very last value has no successor
                np.subtract(flat[p0 + 1: p0 + 1 + span], flat[p0: p0 + span], out=d[:span])
                d[span:] = 0.0
                d2 = d.reshape(r1 - r0, t)
                d2[:, -1] = 0.0
                net = d2 @ w  # weighted gains - losses
                np.abs(d2, out=d2)
                tot = d2 @ w  # weighted gains + losses
                with np.errstate(all="ignore"):
                    out[r0:r1] = np.where(tot == 0.0, 0.0, 100.0 * ((tot + net) * 0.5 / tot))
            out[:, np.arange(t - k, t) < n] = np.nan
        if bad.any():
            out[bad] = self._rows_by_indicator(node, x, bad, k)
        return out

    @staticmethod
    def _rsi_weights(n: int, t: int, k: int) -> np.ndarray:
        """t × k weights turning the t-1 changes (plus a zero-weight pad) into Wilder
        averages at the last k bars."""
        key = (n, t, k)
        w = _RSI_WEIGHTS.get(key)
        if w is None:
            a = (n - 1) / n
            j = np.arange(t)[:, None]  # change j: from bar j to j+1 (row t-1 is padding)
            ts = np.arange(t - k, t)[None, :]
            with np.errstate(under="ignore"):
                w = np.where(j < n, a ** np.maximum(ts - n, 0), a ** np.maximum(ts - 1 - j, 0)) / n
            w[j >= ts] = 0.0  # no changes after the output bar
            w = np.ascontiguousarray(w)
            if len(_RSI_WEIGHTS) > 64:
                _RSI_WEIGHTS.clear()
            _RSI_WEIGHTS[key] = w
        return w

    # ------------------------------------------------------------------ shape
    @staticmethod
    def _broadcast(node: Node, v: Value, shape: tuple[int, int]) -> np.ndarray:
        dtype = bool if node.is_bool else np.float64
        if isinstance(v, np.ndarray):
            if v.dtype != dtype:
                v = v.astype(dtype)
            return v if v.shape == shape else np.broadcast_to(v, shape).copy()
        return np.full(shape, v, dtype=dtype)
