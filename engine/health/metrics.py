"""App metrics and the device's security audit log, kept locally in the store's ``kv`` table.

``Metrics`` keeps the last ``KEPT`` samples of each named figure (worker durations in ms per
label, health refresh time, query latency, memory) under the kv key ``health.metrics``;
nothing leaves the machine. ``SecurityLog`` appends ``{time, kind, detail}`` entries (the
newest ``KEPT_EVENTS``) under ``health.security_log``; ``record_security_event`` is the call
for sign-ins, 2FA changes, token refreshes and update installs.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Any, Protocol

KEPT = 120
KEPT_EVENTS = 500
METRICS_KEY = "health.metrics"
SECURITY_KEY = "health.security_log"
SECURITY_KINDS = frozenset({"sign_in", "sign_out", "2fa_change", "token_refresh", "update_install",
                            "restore", "backup_failed"})


class Kv(Protocol):
    def get(self, key: str, default: object = None) -> object: ...
    def set(self, key: str, value: object) -> None: ...


class Metrics:
    """Named series of recent samples, loaded from and saved to ``kv`` (``save``)."""

    def __init__(self, kv: Kv | None = None) -> None:
        self.kv = kv
        self._lock = threading.Lock()
        raw = kv.get(METRICS_KEY, {}) if kv is not None else {}
        self.series: dict[str, list[float]] = {
            str(k): [float(x) for x in v][-KEPT:] for k, v in (raw.items() if isinstance(raw, dict) else ())
            if isinstance(v, list)}

    def record(self, name: str, value: float) -> None:
        """Add one sample (finite numbers only; raises ``ValueError`` otherwise)."""
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"metric {name!r}: {value!r} is not a finite number")
        with self._lock:
            s = self.series.setdefault(name, [])
            s.append(v)
            del s[:-KEPT]

    def save(self) -> None:
        if self.kv is not None:
            with self._lock:
                data = {k: list(v) for k, v in self.series.items()}
            self.kv.set(METRICS_KEY, data)


class SecurityLog:
    """This device's security events, newest last."""

    def __init__(self, kv: Kv) -> None:
        self.kv = kv

    def entries(self) -> list[dict[str, Any]]:
        raw = self.kv.get(SECURITY_KEY, [])
        return [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []

    def record(self, kind: str, detail: str = "", at: float | None = None) -> dict[str, Any]:
        """Append an event; ``kind`` one of ``SECURITY_KINDS`` (raises ``ValueError``)."""
        if kind not in SECURITY_KINDS:
            raise ValueError(f"unknown security event {kind!r}; one of {', '.join(sorted(SECURITY_KINDS))}")
        entry = {"time": float(time.time() if at is None else at), "kind": kind, "detail": str(detail)[:500]}
        self.kv.set(SECURITY_KEY, (self.entries() + [entry])[-KEPT_EVENTS:])
        return entry


def record_security_event(kv: Kv, kind: str, detail: str = "") -> dict[str, Any]:
    """Record a security event of this device (see ``SecurityLog.record``)."""
    return SecurityLog(kv).record(kind, detail)


USAGE_KEY = "health.usage"


class UsageLog:
    """Opt-in usage analytics: how often each action was used, with the last time, kept in
    the kv table (``health.usage``) and never sent anywhere; the user sees them in the Health
    dock and they leave the machine only inside a diagnostics zip the user exports."""

    def __init__(self, kv: Kv) -> None:
        self.kv = kv

    def counts(self) -> dict[str, dict[str, float]]:
        raw = self.kv.get(USAGE_KEY, {})
        return {str(k): v for k, v in raw.items() if isinstance(v, dict)} if isinstance(raw, dict) else {}

    def record(self, name: str, at: float | None = None) -> None:
        data = self.counts()
        entry = data.setdefault(str(name)[:80], {"count": 0, "last": 0.0})
        entry["count"] = int(entry.get("count", 0)) + 1
        entry["last"] = float(time.time() if at is None else at)
        self.kv.set(USAGE_KEY, data)

    def clear(self) -> None:
        self.kv.set(USAGE_KEY, {})
