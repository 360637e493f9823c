"""Feature flags: the one evaluation function, used by the service and by the app (pure,
Qt-free; after LaunchDarkly's and Unleash's deterministic rollouts).

A flag is on for a user when it is ``enabled`` (the kill switch) and either

* the user is on its ``users`` whitelist, or
* every targeting rule holds: the user's tier is in ``tiers`` (an empty set means every tier)
  AND the user's bucket is below ``percentage``.

"All" is ``percentage = 100`` with no tiers. The bucket is a number in [0, 10000) from SHA-256
of ``"<flag name>:<user id>"``: the same user always gets the same answer for a flag, buckets
of different flags are independent, and since a user is in when ``bucket < percentage * 100``,
raising the percentage only ever adds users. Signed-out callers (no user id) only see flags at
100 % with no tiers and no whitelist requirement."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

BUCKETS = 10_000
NAME_PATTERN = r"^[a-z][a-z0-9_.-]{0,63}$"


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    enabled: bool = True
    #: 0..100 with up to two decimals, kept as basis points (0..10000) so it is exact
    percentage_bps: int = BUCKETS
    tiers: frozenset[str] = frozenset()
    users: frozenset[int] = frozenset()
    description: str = ""

    def __post_init__(self) -> None:
        if not re.match(NAME_PATTERN, self.name):
            raise ValueError(f"flag name {self.name!r} must match {NAME_PATTERN}")
        if isinstance(self.percentage_bps, bool) or not 0 <= self.percentage_bps <= BUCKETS:
            raise ValueError("percentage_bps is 0..10000")

    @property
    def percentage(self) -> float:
        return self.percentage_bps / 100

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "enabled": self.enabled, "percentage_bps": self.percentage_bps,
                "tiers": sorted(self.tiers), "users": sorted(self.users), "description": self.description}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> "Flag":
        bps = d.get("percentage_bps", BUCKETS)
        tiers = d.get("tiers") or ()
        users = d.get("users") or ()
        if not isinstance(bps, int) or not isinstance(tiers, Iterable) or not isinstance(users, Iterable):
            raise ValueError("a flag has percentage_bps (int), tiers and users (lists)")
        return cls(name=str(d["name"]), enabled=bool(d.get("enabled", True)), percentage_bps=bps,
                   tiers=frozenset(str(t) for t in tiers), users=frozenset(int(u) for u in users),
                   description=str(d.get("description", "")))


def bucket(flag_name: str, user_id: int) -> int:
    """The user's bucket for this flag, 0..9999 (the first 8 bytes of SHA-256, mod 10000)."""
    digest = hashlib.sha256(f"{flag_name}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def evaluate(flag: Flag, user_id: int | None, tier: str = "free") -> bool:
    """Whether ``flag`` is on for ``user_id`` on ``tier`` (the one rule; see the module doc)."""
    if not flag.enabled:
        return False
    if user_id is not None and user_id in flag.users:
        return True
    if flag.tiers and tier not in flag.tiers:
        return False
    if flag.percentage_bps >= BUCKETS:
        return True
    if user_id is None or flag.percentage_bps <= 0:
        return False
    return bucket(flag.name, user_id) < flag.percentage_bps


def evaluate_all(flags: Iterable[Flag], user_id: int | None, tier: str = "free") -> dict[str, bool]:
    return {f.name: evaluate(f, user_id, tier) for f in flags}
