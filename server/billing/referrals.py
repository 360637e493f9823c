"""Referral codes: one per user (made on first use), applied at sign-up or within
``APPLY_WITHIN`` of the account's creation, never to oneself, once per account."""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.billing.models import Referral, ReferralCode
from server.models import User, aware, utcnow

APPLY_WITHIN = dt.timedelta(days=30)
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8


class ReferralProblem(ValueError):
    """Why a code cannot be applied (one sentence)."""


def code_of(db: Session, user_id: int) -> str:
    """The user's code, made (and committed) on first use."""
    row = db.get(ReferralCode, user_id)
    if row is not None:
        return row.code
    for _ in range(8):
        code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
        db.add(ReferralCode(user_id=user_id, code=code))
        try:
            db.commit()
            return code
        except IntegrityError:  # a collision (or a concurrent first use)
            db.rollback()
            row = db.get(ReferralCode, user_id)
            if row is not None:
                return row.code
    raise RuntimeError("could not make a unique referral code")


def apply(db: Session, user: User, code: str, now: dt.datetime | None = None) -> Referral:
    """Record that ``user`` was referred by the owner of ``code`` (not committed)."""
    now = now or utcnow()
    if now - aware(user.created_at) > APPLY_WITHIN:
        raise ReferralProblem("A referral code can only be applied within 30 days of signing up.")
    owner = db.execute(select(ReferralCode).where(ReferralCode.code == code.strip().upper())).scalar_one_or_none()
    if owner is None:
        raise ReferralProblem("There is no such referral code.")
    if owner.user_id == user.id:
        raise ReferralProblem("You cannot apply your own referral code.")
    if db.execute(select(Referral.id).where(Referral.referred_id == user.id)).first() is not None:
        raise ReferralProblem("Your account already has a referral code applied.")
    referral = Referral(referrer_id=owner.user_id, referred_id=user.id)
    db.add(referral)
    return referral


def apply_at_signup(db: Session, user: User, code: str) -> None:
    """At registration: apply ``code`` when it is valid; a bad code is ignored, so sign-up
    neither fails nor says anything about codes."""
    if not code:
        return
    try:
        apply(db, user, code)
    except ReferralProblem:
        pass
