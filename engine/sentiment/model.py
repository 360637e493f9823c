"""The small linear model: multinomial logistic regression over dense finance features and
hashed word/bigram features, evaluated with numpy (weights in a JSON file)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.sentiment.features import DENSE_NAMES, N_DENSE

CLASSES: tuple[str, str, str] = ("negative", "neutral", "positive")
FORMAT = 1
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class ModelFileError(ValueError):
    """The weights file is missing, unreadable or does not fit this code."""


@dataclass(frozen=True)
class LinearModel:
    """Weights: ``dense`` (N_DENSE × 3) and ``hashed`` (n_buckets × 3); columns follow ``CLASSES``."""

    dense: FloatArray
    hashed: FloatArray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_buckets(self) -> int:
        return int(self.hashed.shape[0])

    def logits(self, dense_x: FloatArray, rows: IntArray, ids: IntArray) -> FloatArray:
        """Class scores of ``len(dense_x)`` texts; ``rows[k]`` is the text of hashed id ``ids[k]``."""
        out: FloatArray = dense_x @ self.dense
        if len(ids):
            w = self.hashed[ids]
            m = len(dense_x)
            for c in range(3):
                out[:, c] += np.bincount(rows, weights=w[:, c], minlength=m)
        return out

    def probabilities(self, dense_x: FloatArray, rows: IntArray, ids: IntArray) -> FloatArray:
        """Softmax of ``logits``: one row of (negative, neutral, positive) per text."""
        z = self.logits(dense_x, rows, ids)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p: FloatArray = e / e.sum(axis=1, keepdims=True)
        return p

    def to_json(self) -> dict[str, Any]:
        nz = np.flatnonzero(np.any(self.hashed != 0.0, axis=1))
        return {
            "format": FORMAT,
            "classes": list(CLASSES),
            "dense_names": list(DENSE_NAMES),
            "n_buckets": self.n_buckets,
            "dense": [[round(float(v), 6) for v in row] for row in self.dense],
            "hashed_ids": [int(i) for i in nz],
            "hashed": [[round(float(v), 5) for v in self.hashed[i]] for i in nz],
            "meta": self.meta,
        }

    def save(self, path: Path) -> None:
        """Write the weights as JSON (``path`` is replaced)."""
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read weights written by ``save``.

        Raises ModelFileError when the file is missing, not JSON, or made for other features.
        """
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelFileError(f"cannot read sentiment weights {path}: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ModelFileError(f"{path} is not a format-{FORMAT} sentiment weights file")
        if doc.get("dense_names") != list(DENSE_NAMES) or doc.get("classes") != list(CLASSES):
            raise ModelFileError(f"{path} was trained for other features; retrain with "
                                 "python -m engine.sentiment.train")
        n_buckets = doc.get("n_buckets")
        if not isinstance(n_buckets, int) or n_buckets <= 0 or n_buckets & (n_buckets - 1):
            raise ModelFileError(f"{path}: n_buckets must be a positive power of two")
        try:
            dense = np.asarray(doc["dense"], dtype=np.float64)
            ids = np.asarray(doc["hashed_ids"], dtype=np.int64)
            hw = np.asarray(doc["hashed"], dtype=np.float64).reshape(len(ids), 3)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: malformed weights ({exc})") from exc
        if dense.shape != (N_DENSE, 3) or (len(ids) and (ids.min() < 0 or ids.max() >= n_buckets)):
            raise ModelFileError(f"{path}: weight shapes do not match the features")
        if not (np.all(np.isfinite(dense)) and np.all(np.isfinite(hw))):
            raise ModelFileError(f"{path}: weights must be finite numbers")
        hashed = np.zeros((n_buckets, 3))
        hashed[ids] = hw
        meta = doc.get("meta", {})
        return cls(dense, hashed, meta if isinstance(meta, dict) else {})


def compound_from_probabilities(p: FloatArray) -> FloatArray:
    """Map class probabilities to a compound score in −1…1 whose VADER reading (≥ 0.05
    positive, ≤ −0.05 negative) is the most probable class.

    The expected polarity d = P(positive) − P(negative) is placed in the band of the
    chosen class: positive → 0.05 + 0.95·d, negative → −0.05 + 0.95·d, neutral → 0.0499·d.
    """
    d = p[:, 2] - p[:, 0]
    k = np.argmax(p, axis=1)
    out = 0.0499 * d
    pos = k == 2
    neg = k == 0
    out[pos] = 0.05 + 0.95 * np.maximum(d[pos], 0.0)
    out[neg] = -0.05 + 0.95 * np.minimum(d[neg], 0.0)
    res: FloatArray = np.clip(out, -1.0, 1.0)
    return res


