"""Throttling whose state lives in the database (table ``rate_limits``), so every worker
process sees the same counts. Two shapes:

* ``hit(key, limit, window_s)`` -- at most ``limit`` requests per fixed window;
* ``check`` / ``failure`` / ``success`` -- failures back off exponentially after
  ``free`` of them (2 s, 4 s, ... up to a cap); a success clears the key.

A blocked key raises ``ApiError(429)`` with ``Retry-After`` in whole seconds."""
from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.errors import ApiError
from server.models import RateLimit, aware, utcnow


def _row(db: Session, key: str) -> RateLimit:
    for _ in range(3):
        row = db.execute(select(RateLimit).where(RateLimit.key == key).with_for_update()).scalar_one_or_none()
        if row is not None:
            return row
        try:
            with db.begin_nested():
                row = RateLimit(key=key, window_start=utcnow(), count=0, failures=0)
                db.add(row)
            return row
        except IntegrityError:
            continue  # another worker inserted it first
    raise ApiError(429, "rate_limited", "Too many requests; try again shortly.", {"Retry-After": "1"})


def _refuse(until: dt.datetime, now: dt.datetime) -> ApiError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return ApiError(429, "rate_limited", f"Too many attempts; try again in {seconds} seconds.",
                    {"Retry-After": str(seconds)})


def hit(db: Session, key: str, limit: int, window_s: int) -> None:
    """Count one request for ``key``; raises 429 past ``limit`` in the current window."""
    now = utcnow()
    row = _row(db, key)
    if now - aware(row.window_start) >= dt.timedelta(seconds=window_s):
        row.window_start, row.count = now, 0
    row.count += 1
    if row.count > limit:
        until = aware(row.window_start) + dt.timedelta(seconds=window_s)
        db.commit()
        raise _refuse(until, now)
    db.commit()


def check(db: Session, key: str) -> None:
    """Raise 429 while ``key`` is backing off."""
    row = db.get(RateLimit, key)
    now = utcnow()
    if row is not None and row.blocked_until is not None and aware(row.blocked_until) > now:
        raise _refuse(aware(row.blocked_until), now)


def failure(db: Session, key: str, free: int, base_s: int, cap_s: int) -> None:
    """Record a failure for ``key``; past ``free`` failures the key is blocked for
    ``base_s * 2**(n - free - 1)`` seconds, at most ``cap_s``."""
    row = _row(db, key)
    row.failures += 1
    if row.failures > free:
        delay = min(cap_s, base_s * 2 ** min(30, row.failures - free - 1))
        row.blocked_until = utcnow() + dt.timedelta(seconds=delay)
    db.commit()


def window_failure(db: Session, key: str, limit: int, window_s: int) -> None:
    """Record a failure from one address; past ``limit`` in ``window_s`` it is blocked until
    the window ends."""
    now = utcnow()
    row = _row(db, key)
    if now - aware(row.window_start) >= dt.timedelta(seconds=window_s):
        row.window_start, row.failures = now, 0
    row.failures += 1
    if row.failures >= limit:
        row.blocked_until = aware(row.window_start) + dt.timedelta(seconds=window_s)
    db.commit()


def success(db: Session, key: str) -> None:
    row = db.get(RateLimit, key)
    if row is not None:
        db.delete(row)
        db.commit()
