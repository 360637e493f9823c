"""Request and response models. Requests forbid unknown fields (``Strict``): a body with
``"role"`` or ``"user_id"`` is refused with 422, never silently applied."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints


def _no_control(value: str) -> str:
    """Control characters (NUL above all: PostgreSQL text refuses it) never enter."""
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in value):
        raise ValueError("must not contain control characters")
    return value


NoControl = AfterValidator(_no_control)
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"), NoControl]
Password = Annotated[str, StringConstraints(min_length=1, max_length=128), NoControl]
Otp = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=12), NoControl]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=2048), NoControl]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=80), NoControl]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(Strict):
    email: Email
    password: Password
    display_name: Text = ""
    #: a referral code (``/referrals/me``); an unknown code is ignored, sign-up goes on
    referral_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16,
                                                    pattern=r"^[A-Za-z0-9]*$")] = ""


class TokenIn(Strict):
    token: Secret


class EmailIn(Strict):
    email: Email


class ResetConfirmIn(Strict):
    token: Secret
    new_password: Password


class LoginIn(Strict):
    email: Email
    password: Password
    #: the second factor when 2FA is on: a TOTP code or a backup code
    otp: Otp | None = None
    backup_code: Annotated[str, StringConstraints(min_length=8, max_length=16), NoControl] | None = None
    #: a device token from an earlier login with ``remember_device``
    device_token: Secret | None = None
    remember_device: bool = False
    device_name: Annotated[str, StringConstraints(max_length=200), NoControl] = ""


class RefreshIn(Strict):
    refresh_token: Secret


class TwoFactorResetIn(Strict):
    email: Email
    password: Password
    backup_code: Annotated[str, StringConstraints(min_length=8, max_length=16), NoControl]


class PasswordChangeIn(Strict):
    current_password: Password
    new_password: Password


class DeleteAccountIn(Strict):
    password: Password


class ProfilePatch(Strict):
    display_name: Text | None = None


class OtpIn(Strict):
    code: Otp


class DisableTwoFactorIn(Strict):
    password: Password
    code: Otp


class RoleIn(Strict):
    role: Annotated[str, StringConstraints(pattern="^(user|admin)$")]


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    #: set when the login asked to remember this device: send it as ``device_token`` next time
    device_token: str | None = None


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role: str
    email_verified: bool
    two_factor: bool
    created_at: dt.datetime


class StatusOut(BaseModel):
    status: str


class SessionOut(BaseModel):
    id: int
    created_at: dt.datetime
    last_used_at: dt.datetime
    user_agent: str
    ip: str
    current: bool


class DeviceOut(BaseModel):
    id: int
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    user_id: int | None
    actor_id: int | None
    action: str
    ip: str
    detail: str


class TotpSetupOut(BaseModel):
    secret: str
    otpauth_uri: str
    #: the QR code of ``otpauth_uri`` as ``data:image/svg+xml`` (segno)
    qr_svg: str


class BackupCodesOut(BaseModel):
    backup_codes: list[str] = Field(description="Shown once; each works once.")


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    database: str
    revision: str | None
    head: str | None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    #: pass as ``before`` for the next page (older items); null on the last page
    next_before: int | None


# --- sync (server/routers/sync.py) ---------------------------------------------------------

Symbol = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[^\s]+$"), NoControl]


class WatchlistData(Strict):
    """The ``data`` of a ``watchlist`` item: its name and symbols in the user's order."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), NoControl]
    symbols: list[Symbol] = Field(default_factory=list, max_length=1000)


class SyncItemIn(Strict):
    """A write of one item: its whole ``data`` (checked against the kind's model)."""

    data: dict[str, object]


class SyncItemOut(BaseModel):
    id: int
    kind: str
    key: str
    data: dict[str, object]
    deleted: bool
    version: int
    #: the server's clock at the last write (last writer wins by it)
    updated_at: dt.datetime


class SyncCursor(BaseModel):
    updated_after: dt.datetime | None
    after_id: int


class SyncPage(BaseModel):
    items: list[SyncItemOut]
    #: where the next pull starts (pass both fields back); the same cursor when nothing changed
    cursor: SyncCursor
    #: more items are waiting after ``cursor`` (this page was full)
    more: bool


class GoogleStartOut(BaseModel):
    """What the client puts in its authorization request: the service's single-use ``nonce``
    and the OAuth ``client_id`` ID tokens must be issued to."""

    nonce: str
    client_id: str
    expires_in: int


class GoogleLoginIn(Strict):
    #: the ID token from Google's token endpoint (RS256 JWT)
    id_token: Annotated[str, StringConstraints(min_length=1, max_length=8192), NoControl]
    otp: Otp | None = None
    backup_code: Annotated[str, StringConstraints(min_length=8, max_length=16), NoControl] | None = None
    device_token: Secret | None = None
    remember_device: bool = False
    device_name: Annotated[str, StringConstraints(max_length=200), NoControl] = ""
