"""Where the sign-in (access and refresh token, trusted-device token) is kept between runs.

The OS keyring first (Windows Credential Locker, macOS Keychain, the Secret Service on Linux,
through ``keyring``). When this machine has no keyring backend (a headless Linux box, say) the
tokens go to an encrypted file instead, and ``open_token_store`` says so in one sentence.

The file fallback (``FileTokenStore``): ``<data dir>/sync-tokens.bin``, encrypted with Fernet
(AES-128-CBC + HMAC-SHA256, ``cryptography``) under a key derived (HKDF-SHA256) from a random
32-byte secret in ``<data dir>/sync-tokens.key`` (mode 0600) together with this machine's id
(``/etc/machine-id`` where there is one) and the user's id.

What it protects against: the token file alone being read or copied (a backup, a synced or
shared folder, a support bundle, a stolen disk image without the key file), and a copy of both
files being used on another machine or by another account (the derived key differs).
What it does not protect against: malware or anyone running as this user (or root) on this
machine, who can read both files like the app does. A real keyring is better; the message
says so.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

KEYRING_SERVICE = "stockscanner-sync"


@dataclass(frozen=True, slots=True)
class Tokens:
    """A signed-in user's tokens for one service (``base_url``)."""

    email: str
    access_token: str
    refresh_token: str
    #: from a login with "remember this device": skips the second factor for 30 days
    device_token: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Tokens":
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("stored tokens are not an object")
        return cls(email=str(raw["email"]), access_token=str(raw["access_token"]),
                   refresh_token=str(raw["refresh_token"]), device_token=str(raw.get("device_token", "")))


class TokenStore(Protocol):
    """Keeps one ``Tokens`` per service URL."""

    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens) -> None: ...

    def clear(self) -> None: ...


class KeyringTokenStore:
    """Tokens in the OS keyring, one entry per service URL."""

    def __init__(self, base_url: str) -> None:
        self.account = base_url.rstrip("/") or "embedded"

    def load(self) -> Tokens | None:
        import keyring

        text = keyring.get_password(KEYRING_SERVICE, self.account)
        if not text:
            return None
        try:
            return Tokens.from_json(text)
        except (ValueError, KeyError):
            return None  # an unreadable entry is a signed-out state, not a crash

    def save(self, tokens: Tokens) -> None:
        import keyring

        keyring.set_password(KEYRING_SERVICE, self.account, tokens.to_json())

    def clear(self) -> None:
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(KEYRING_SERVICE, self.account)
        except PasswordDeleteError:
            pass


def _machine_secret() -> bytes:
    for candidate in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            return Path(candidate).read_bytes().strip()
        except OSError:
            continue
    return b""


def _user_id() -> bytes:
    getuid = getattr(os, "getuid", None)
    return str(getuid() if getuid else os.environ.get("USERNAME", "")).encode()


class FileTokenStore:
    """Tokens of every service URL in one Fernet-encrypted file (see the module docstring for
    what this protects against and what not)."""

    def __init__(self, folder: Path, base_url: str) -> None:
        self.path = Path(folder) / "sync-tokens.bin"
        self.key_path = Path(folder) / "sync-tokens.key"
        self.account = base_url.rstrip("/") or "embedded"

    def _fernet(self) -> Fernet:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        self.key_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            secret = self.key_path.read_bytes()
        except FileNotFoundError:
            secret = os.urandom(32)
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secret)
        if len(secret) != 32:
            raise ValueError(f"{self.key_path} is damaged; delete it and sign in again")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"stockscanner-sync-tokens",
                   info=_machine_secret() + b"|" + _user_id()).derive(secret)
        return Fernet(base64.urlsafe_b64encode(key))

    def _read_all(self) -> dict[str, str]:
        from cryptography.fernet import InvalidToken

        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        fernet = self._fernet()
        try:
            raw = json.loads(fernet.decrypt(blob))
        except (InvalidToken, ValueError):
            return {}  # another machine's or a damaged file: signed out, and overwritten on sign-in
        return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    def _write_all(self, entries: dict[str, str]) -> None:
        fernet = self._fernet()
        blob = fernet.encrypt(json.dumps(entries, sort_keys=True).encode())
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def load(self) -> Tokens | None:
        text = self._read_all().get(self.account)
        if not text:
            return None
        try:
            return Tokens.from_json(text)
        except (ValueError, KeyError):
            return None

    def save(self, tokens: Tokens) -> None:
        entries = self._read_all()
        entries[self.account] = tokens.to_json()
        self._write_all(entries)

    def clear(self) -> None:
        entries = self._read_all()
        if entries.pop(self.account, None) is not None:
            self._write_all(entries)


def keyring_available() -> bool:
    """Whether ``keyring`` has a real backend here (not the "fail" or "null" one)."""
    try:
        import keyring
        from keyring.backends import fail
    except Exception:  # noqa: BLE001 - keyring can fail to import its backends
        return False
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or type(backend).__module__.startswith("keyring.backends.null"):
        return False
    try:
        return float(getattr(backend, "priority", 1)) > 0
    except Exception:  # noqa: BLE001 - a backend's priority may probe the system and fail
        return False


def open_token_store(folder: Path, base_url: str) -> tuple[TokenStore, str]:
    """(``base_url`` may be a stable name of the service instead, e.g. "embedded".) The keyring store when this machine has a keyring, else the encrypted file in
    ``folder``; and a sentence for the user when it is the file ("" with a keyring)."""
    if keyring_available():
        return KeyringTokenStore(base_url), ""
    store = FileTokenStore(folder, base_url)
    return store, (f"No system keyring is available, so your sign-in is kept encrypted in {store.path} "
                   "(readable by programs running as you; install a Secret Service such as "
                   "GNOME Keyring or KWallet to use the keyring instead).")
