"""Alert templates: what to watch (conditions in the formula language), where (a scope),
and how often to say so (a trigger mode), with expiry and active hours.

Every value is checked where it enters (``AlertTemplate.checked``): a template read from
JSON, typed in the editor or built in code is normalised and refused with one sentence
(``AlertError``) before anything is evaluated or written.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

MODES = ("once", "once_per_bar", "every")
MODE_TEXT = {"once": "Only once", "once_per_bar": "Once per bar", "every": "Every time (cooldown)"}
COMBINES = ("and", "or")
SCOPES = ("symbol", "watchlist", "universe")
ACTIVE_HOURS = ("always", "session")
CHANNELS = ("app", "webhook", "email", "sms")
MAX_CONDITIONS = 20
MAX_COOLDOWN_S = 366 * 86400
_SYMBOL_RE = re.compile(r"^[A-Z0-9^][A-Z0-9.\-^=_]{0,31}$")


class AlertError(ValueError):
    """An alert template, a scope or a delivery setting is not valid (one sentence)."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which symbols an alert watches: one ``symbol``, a ``watchlist`` by name, or a scanner
    ``universe`` by key ("demo", "imported", "sp500", "nasdaq100"). No cap on the count."""

    kind: str
    value: str

    def describe(self) -> str:
        return {"symbol": self.value, "watchlist": f"watchlist {self.value}",
                "universe": f"universe {self.value}"}.get(self.kind, self.value)


@dataclass(frozen=True, slots=True)
class AlertTemplate:
    """One alert. ``conditions`` are boolean formulas (``engine.formula``) joined by
    ``combine`` ("and" / "or"), evaluated on the last bar of each symbol of ``scope``.

    ``mode``: "once" (the first time it triggers — for every symbol true in that pass —
    then it is done), "once_per_bar" (at most once per bar and symbol), "every" (every
    evaluation it is true, then quiet for ``cooldown_s`` seconds per symbol).
    ``expires_at``: UTC epoch seconds after which it no longer triggers (None: never).
    ``active_hours``: "always", or "session" (only while the symbol's exchange is in a
    regular session, from ``engine.market.calendar``). ``channels``: "app" (tray or the
    notification centre), "webhook", "email", "sms". ``id`` is None until stored.
    """

    name: str
    conditions: tuple[str, ...]
    scope: Scope
    combine: str = "and"
    mode: str = "once_per_bar"
    cooldown_s: int = 0
    expires_at: int | None = None
    active_hours: str = "always"
    timeframe: str = "1d"
    enabled: bool = True
    message: str = ""
    channels: tuple[str, ...] = ("app",)
    sound: bool = False
    id: int | None = None
    done: bool = field(default=False, compare=False)  # a "once" alert that has triggered

    # ------------------------------------------------------------------ checks
    def checked(self) -> AlertTemplate:
        """This template normalised (stripped text, upper-case symbol, sorted unique channels).

        Raises ``AlertError`` for an empty name, no condition, an unknown mode, combine,
        scope kind, active-hours value or channel, a negative, non-whole or huge cooldown,
        or a non-finite expiry. The formulas themselves are checked by ``compile_conditions``.
        """
        name = _text(self.name, "name", 200)
        if not name:
            raise AlertError("An alert needs a name.")
        if isinstance(self.conditions, str) or not isinstance(self.conditions, (tuple, list)):
            raise AlertError("An alert's conditions must be a list of formulas.")
        conds = tuple(_text(c, "condition", 10_000) for c in self.conditions)
        conds = tuple(c for c in conds if c)
        if not conds:
            raise AlertError(f"Alert '{name}' needs at least one condition.")
        if len(conds) > MAX_CONDITIONS:
            raise AlertError(f"Alert '{name}' has {len(conds)} conditions; at most {MAX_CONDITIONS}.")
        combine = _choice(self.combine, COMBINES, "combine")
        mode = _choice(self.mode, MODES, "trigger mode")
        hours = _choice(self.active_hours, ACTIVE_HOURS, "active hours")
        if not isinstance(self.scope, Scope):
            raise AlertError("An alert's scope must be a Scope.")
        kind = _choice(self.scope.kind, SCOPES, "scope")
        value = _text(self.scope.value, "scope", 200)
        if kind == "symbol":
            value = value.upper()
            if not _SYMBOL_RE.match(value):
                raise AlertError(f"'{self.scope.value}' is not a symbol (letters, digits, . - ^ =).")
        elif not value:
            raise AlertError(f"A {kind} scope needs a name.")
        cooldown = _whole(self.cooldown_s, "cooldown", 0, MAX_COOLDOWN_S)
        expires = None if self.expires_at is None else _whole(self.expires_at, "expiry", 0, 2**40)
        if not isinstance(self.channels, (tuple, list)):
            raise AlertError("An alert's channels must be a list.")
        channels = tuple(sorted({_choice(c, CHANNELS, "channel") for c in self.channels}, key=CHANNELS.index))
        tf = _text(self.timeframe, "timeframe", 8) or "1d"
        message = _text(self.message, "message", 1000)
        if not isinstance(self.enabled, bool) or not isinstance(self.sound, bool):
            raise AlertError("'enabled' and 'sound' must be true or false.")
        return replace(self, name=name, conditions=conds, combine=combine, mode=mode, active_hours=hours,
                       scope=Scope(kind, value), cooldown_s=cooldown, expires_at=expires, channels=channels,
                       timeframe=tf, message=message)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def formula_text(self) -> str:
        """The conditions as one formula (for display): ``(a) and (b)``."""
        if len(self.conditions) == 1:
            return self.conditions[0]
        return f" {self.combine} ".join(f"({c})" for c in self.conditions)

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> str:
        d: dict[str, Any] = {
            "name": self.name, "conditions": list(self.conditions), "combine": self.combine,
            "scope": {"kind": self.scope.kind, "value": self.scope.value}, "mode": self.mode,
            "cooldown_s": self.cooldown_s, "expires_at": self.expires_at, "active_hours": self.active_hours,
            "timeframe": self.timeframe, "enabled": self.enabled, "message": self.message,
            "channels": list(self.channels), "sound": self.sound,
        }
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, id: int | None = None, done: bool = False) -> AlertTemplate:
        """Read ``to_json`` output (checked). Raises ``AlertError`` for anything malformed."""
        try:
            d = json.loads(text)
        except ValueError:
            raise AlertError("The stored alert is not valid JSON.") from None
        if not isinstance(d, Mapping) or not isinstance(d.get("scope"), Mapping):
            raise AlertError("The stored alert is not an object with a scope.")
        try:
            t = cls(
                name=d["name"], conditions=tuple(d["conditions"]), combine=d.get("combine", "and"),
                scope=Scope(d["scope"]["kind"], d["scope"]["value"]), mode=d.get("mode", "once_per_bar"),
                cooldown_s=d.get("cooldown_s", 0), expires_at=d.get("expires_at"),
                active_hours=d.get("active_hours", "always"), timeframe=d.get("timeframe", "1d"),
                enabled=d.get("enabled", True), message=d.get("message", ""),
                channels=tuple(d.get("channels", ("app",))), sound=d.get("sound", False), id=id, done=done,
            )
        except (KeyError, TypeError) as exc:
            raise AlertError(f"The stored alert lacks a field or has a wrong type ({exc}).") from None
        return t.checked()


def _text(v: object, what: str, limit: int) -> str:
    if not isinstance(v, str):
        raise AlertError(f"The {what} must be text, not {type(v).__name__}.")
    v = v.strip()
    if len(v) > limit:
        raise AlertError(f"The {what} is longer than {limit} characters.")
    return v


def _choice(v: object, allowed: tuple[str, ...], what: str) -> str:
    s = v.strip().lower() if isinstance(v, str) else v
    if s not in allowed:
        raise AlertError(f"Unknown {what} {v!r}: use one of {', '.join(allowed)}.")
    return str(s)


def _whole(v: object, what: str, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise AlertError(f"The {what} must be a number of seconds, not {type(v).__name__}.")
    if not math.isfinite(v) or v != int(v):
        raise AlertError(f"The {what} must be a whole, finite number of seconds.")
    if not lo <= int(v) <= hi:
        raise AlertError(f"The {what} must be between {lo} and {hi} seconds.")
    return int(v)


class Fire(NamedTuple):
    """One alert triggering for one symbol in one evaluation: the values that made it true.

    ``at`` is the evaluation time and ``bar_time`` the symbol's last bar (UTC epoch
    seconds); ``values`` maps each bar-dependent part of the conditions (``close``,
    ``rsi(close, 14)``, ...) to its value on that bar.

    Immutable like the frozen dataclasses, but a ``NamedTuple``: one evaluation may build
    thousands (4,500 in ``alerts.eval_10k_5k``), and a tuple is built about three times as
    fast as a frozen dataclass (whose ``__init__`` sets each field through
    ``object.__setattr__``).
    """

    alert_id: int
    alert_name: str
    symbol: str
    at: int
    bar_time: int
    values: dict[str, float]
    message: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A recorded trigger, as the history shows it (times UTC epoch seconds)."""

    id: int
    alert_id: int
    alert_name: str
    symbol: str
    at: int
    bar_time: int
    values: dict[str, float]
    message: str
    acknowledged_at: int | None = None
    snoozed_until: int | None = None


@dataclass(frozen=True, slots=True)
class InstanceState:
    """What an (alert, symbol) pair remembers between evaluations and restarts."""

    last_fired_at: int | None = None
    last_bar_time: int | None = None
    cooldown_until: int | None = None
    snoozed_until: int | None = None
