"""A short-lived, per-process cache of "this access token's session is live and its user is
enabled", so an authenticated read costs no database round trip.

Every request still verifies the access token (signature, ``exp``, ``iss``, ``aud``, type);
what is cached is the result of the database check that follows it (the session family not
revoked, the user not disabled, and the user's profile for ``GET /me``).

Staleness is bounded in two ways:

* **In this process: none.** Any commit that changes a user row or revokes/deletes a session
  family (ORM flushes and bulk ``UPDATE``/``DELETE`` through a ``Session`` of the service's
  ``sessionmaker``) clears the cache when it commits (``watch(sessions, cache)``). A lookup that
  read the database before such a commit cannot store its (old) answer afterwards: every entry
  is stored under the generation it started in, and a clear moves the generation on.
* **In other worker processes: at most ``ttl_s``** (``STOCKSCANNER_AUTH_CACHE_S``, default 1 s;
  0 turns the cache off). A logout answered by worker A is refused by A at once and by worker B
  at most ``ttl_s`` later.
"""
from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Delete, Update, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

#: Tables whose changes can end a session or change what a cached identity says.
WATCHED_TABLES = frozenset({"users", "session_families"})
MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class Identity:
    """The signed-in caller as the database said at ``checked_at``: what ``GET /me`` shows and
    what read endpoints need to scope their queries (never used to write the user row)."""

    user_id: int
    family_id: int
    email: str
    display_name: str
    role: str
    email_verified: bool
    two_factor: bool
    created_at: dt.datetime


class AuthCache:
    """(session family, user) -> ``Identity`` for at most ``ttl_s`` seconds."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic,
                 max_entries: int = MAX_ENTRIES) -> None:
        if ttl_s < 0:
            raise ValueError(f"ttl_s must be 0 or more, not {ttl_s}")
        self.ttl_s, self.clock, self.max_entries = ttl_s, clock, max_entries
        #: (family, user) -> (expires at, identity)
        self._entries: dict[tuple[int, int], tuple[float, Identity]] = {}
        self._lock = threading.Lock()
        self.generation = 0

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, family_id: int, user_id: int) -> Identity | None:
        """The cached identity, or ``None`` when absent or older than ``ttl_s``."""
        hit = self._entries.get((family_id, user_id))
        if hit is None:
            return None
        expires_at, identity = hit
        if self.clock() >= expires_at:
            self._entries.pop((family_id, user_id), None)
            return None
        return identity

    def put(self, identity: Identity, generation: int, stored_at: float) -> None:
        """Store ``identity`` read from the database at ``stored_at`` (taken *before* the read)
        unless the cache was cleared since ``generation`` was read. It expires between 0.75 and
        1 ``ttl_s`` after ``stored_at`` (spread, so entries filled together do not all go back to
        the database in the same millisecond; never later than ``ttl_s``)."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            expires_at = stored_at + self.ttl_s * (1.0 - 0.25 * random.random())
            self._entries[(identity.family_id, identity.user_id)] = (expires_at, identity)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_DIRTY = "stockscanner.auth_dirty"


def _touches_auth(session: Session) -> bool:
    from sqlalchemy import inspect

    from server.models import SessionFamily, User

    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, User) and obj not in session.new:
            return True
        if isinstance(obj, SessionFamily):
            if obj in session.deleted:
                return True
            if obj not in session.new and inspect(obj).attrs.revoked_at.history.has_changes():
                return True
    return False


def watch(sessions: sessionmaker[Session], cache: AuthCache) -> None:
    """Clear ``cache`` after every commit (through ``sessions``) that changed a user or
    revoked or deleted a session family; see the module docstring."""

    @event.listens_for(sessions, "before_flush")
    def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
        if _touches_auth(session):
            session.info[_DIRTY] = True

    @event.listens_for(sessions, "do_orm_execute")
    def _bulk(state: ORMExecuteState) -> None:
        stmt = state.statement
        if isinstance(stmt, (Update, Delete)) and getattr(stmt.table, "name", "") in WATCHED_TABLES:
            state.session.info[_DIRTY] = True

    @event.listens_for(sessions, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.pop(_DIRTY, False):
            cache.clear()
