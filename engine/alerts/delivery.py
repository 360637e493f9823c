"""Delivering triggered alerts: the app (tray / notification centre), a webhook, e-mail and
SMS, each try recorded, failures retried with backoff and, after the last try, stored as
failed and announced (``AlertDeliveryFailed``) — never silently dropped.

Webhook (HTTP POST, JSON body)
------------------------------
Headers::

    Content-Type: application/json
    X-StockScanner-Timestamp: 1719590400          (UTC epoch seconds of this try)
    X-StockScanner-Signature: sha256=<hex>        (HMAC-SHA256 of "<timestamp>.<body>")
    X-StockScanner-Delivery: 42                   (the same on every retry of one delivery)

The HMAC key is the webhook secret kept in the keyring. A receiver verifies with
``verify_signature`` (or the same few lines): recompute ``HMAC-SHA256(secret,
timestamp + "." + raw_body_bytes)``, compare the hex digests in constant time
(``hmac.compare_digest``), and refuse a timestamp more than 5 minutes from its clock
(a replayed request). Use ``X-StockScanner-Delivery`` to ignore a retry it already has.
Any 2xx answer counts as delivered; anything else, a timeout or a refused connection is
retried. Redirects are not followed (the signature is for the configured URL).

E-mail: SMTP with STARTTLS (``smtplib``; "ssl" for port 465, "none" only for a local relay),
login when a user is set. SMS: a TextBelt-compatible API (``POST url`` with ``phone``,
``message``, ``key``; answer ``{"success": true}`` or ``{"success": false, "error": ...}``;
self-hosted TextBelt has the same endpoint).

Credentials (webhook secret, SMTP password, SMS key) live in the keyring, service
``stockscanner.alerts``; the rest of the configuration is plain (``DeliveryConfig``).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from engine.alerts.model import AlertError, HistoryEntry

KEYRING_SERVICE = "stockscanner.alerts"
SECRETS = ("webhook_secret", "smtp_password", "sms_key")
SIGNATURE_HEADER = "X-StockScanner-Signature"
TIMESTAMP_HEADER = "X-StockScanner-Timestamp"
DELIVERY_HEADER = "X-StockScanner-Delivery"
TOLERANCE_S = 300
TEXTBELT_URL = "https://textbelt.com/text"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$|^[^@\s]+@localhost$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")


class DeliveryError(RuntimeError):
    """One try of one delivery failed (the message says why, in one sentence)."""


# ---------------------------------------------------------------------- credentials
def get_secret(name: str) -> str | None:
    """A delivery credential from the keyring (None when unset). Raises ``DeliveryError``
    when there is no usable keyring."""
    if name not in SECRETS:
        raise ValueError(f"unknown credential {name!r}")
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(KEYRING_SERVICE, name)
    except KeyringError as exc:
        raise DeliveryError(f"The keyring cannot be read ({type(exc).__name__}): this system has no usable "
                            "keyring, so the delivery credentials cannot be kept.") from None


def set_secret(name: str, value: str) -> None:
    """Store (or, with an empty value, delete) a delivery credential in the keyring."""
    if name not in SECRETS:
        raise ValueError(f"unknown credential {name!r}")
    if not isinstance(value, str):
        raise TypeError("a credential must be text")
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        if value:
            keyring.set_password(KEYRING_SERVICE, name, value)
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, name)
            except PasswordDeleteError:
                pass
    except KeyringError as exc:
        raise DeliveryError(f"The keyring cannot be written ({exc}).") from None


# ---------------------------------------------------------------------- configuration
@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """Where deliveries go (no secrets here; they are in the keyring).

    ``email_security``: "starttls" (default), "ssl" or "none". ``email_ca_file``: a PEM file
    of the CA that signed a self-hosted SMTP server's certificate (empty: the system's).
    ``max_attempts`` tries per delivery; try n+1 waits ``backoff_s * 2**(n-1)`` seconds.
    """

    webhook_url: str = ""
    email_host: str = ""
    email_port: int = 587
    email_security: str = "starttls"
    email_user: str = ""
    email_from: str = ""
    email_to: tuple[str, ...] = ()
    email_ca_file: str = ""
    sms_url: str = TEXTBELT_URL
    sms_phone: str = ""
    max_attempts: int = 4
    backoff_s: float = 30.0
    timeout_s: float = 15.0

    def checked(self) -> DeliveryConfig:
        """Normalised; raises ``AlertError`` naming the first bad field."""
        url = self.webhook_url.strip()
        if url and not _http_url(url):
            raise AlertError("The webhook URL must be an http(s) URL such as https://example.com/hook.")
        sms = self.sms_url.strip()
        if sms and not _http_url(sms):
            raise AlertError("The SMS API URL must be an http(s) URL such as https://textbelt.com/text.")
        if self.email_security not in ("starttls", "ssl", "none"):
            raise AlertError("E-mail security must be starttls, ssl or none.")
        port = self.email_port
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise AlertError("The SMTP port must be a whole number from 1 to 65535.")
        host = self.email_host.strip()
        if host and not re.match(r"^[A-Za-z0-9.\-:\[\]]{1,253}$", host):
            raise AlertError(f"'{host}' is not a host name.")
        to = tuple(t.strip() for t in self.email_to if t.strip())
        for addr in (*to, *([self.email_from.strip()] if self.email_from.strip() else [])):
            if not _EMAIL_RE.match(addr):
                raise AlertError(f"'{addr}' is not an e-mail address.")
        phone = self.sms_phone.strip()
        if phone and not _PHONE_RE.match(phone):
            raise AlertError(f"'{phone}' is not a phone number (digits, an optional leading +).")
        n = self.max_attempts
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 20:
            raise AlertError("Tries per delivery must be a whole number from 1 to 20.")
        for v, what in ((self.backoff_s, "backoff"), (self.timeout_s, "timeout")):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v <= 86400:
                raise AlertError(f"The {what} must be a number of seconds from 0 to 86400.")
        return replace(self, webhook_url=url, sms_url=sms, email_host=host, email_to=to,
                       email_from=self.email_from.strip(), email_user=self.email_user.strip(), sms_phone=phone,
                       backoff_s=float(self.backoff_s), timeout_s=float(self.timeout_s))

    def delay_after(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed tries before the next one."""
        return float(self.backoff_s * 2 ** max(attempts - 1, 0))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["email_to"] = list(self.email_to)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> DeliveryConfig:
        """From ``to_dict`` output (unknown keys ignored). Raises ``AlertError``."""
        if not isinstance(d, dict):
            return cls()
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "email_to" in known:
            v = known["email_to"]
            known["email_to"] = tuple(v) if isinstance(v, (list, tuple)) else tuple(str(v).split(","))
        try:
            return cls(**known).checked()
        except TypeError as exc:
            raise AlertError(f"The delivery settings are malformed ({exc}).") from None


def _http_url(url: str) -> bool:
    try:
        p = urlsplit(url)
    except ValueError:
        return False
    return p.scheme in ("http", "https") and bool(p.hostname)


# ---------------------------------------------------------------------- payload
def payload(entry: HistoryEntry) -> dict[str, Any]:
    """The JSON object every channel describes: alert, symbol, times (ISO-8601 UTC and epoch
    seconds), the message and the values that triggered it (NaN as null)."""
    import datetime as dt

    def iso(t: int) -> str:
        return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat().replace("+00:00", "Z")

    return {
        "alert": entry.alert_name, "alert_id": entry.alert_id, "symbol": entry.symbol,
        "fired_at": iso(entry.at), "fired_at_epoch": entry.at, "bar_time": iso(entry.bar_time),
        "message": entry.message, "history_id": entry.id,
        "values": {k: (v if math.isfinite(v) else None) for k, v in entry.values.items()},
    }


def short_text(entry: HistoryEntry) -> str:
    """One line for SMS and the e-mail subject."""
    close = entry.values.get("close")
    price = f" at {close:.2f}" if close is not None and math.isfinite(close) else ""
    return f"{entry.symbol}{price}: {entry.message}"[:300]


# ---------------------------------------------------------------------- signatures
def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-StockScanner-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of
    ``b"<timestamp>." + body`` keyed with ``secret`` (UTF-8)."""
    mac = hmac.new(secret.encode("utf-8"), str(int(timestamp)).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, body: bytes, timestamp: str, signature: str, now: float | None = None,
                     tolerance_s: int = TOLERANCE_S) -> bool:
    """What a webhook receiver runs: True when ``signature`` is ``sign(secret, body,
    timestamp)`` and ``timestamp`` is within ``tolerance_s`` of ``now``. Never raises."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    t = time.time() if now is None else now
    if abs(t - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, ts), str(signature))


# ---------------------------------------------------------------------- channels
def send_webhook(url: str, secret: str, data: dict[str, Any], delivery_id: int, now: int,
                 timeout_s: float = 15.0) -> None:
    """POST ``data`` as JSON to ``url``, signed (see the module docstring). Raises
    ``DeliveryError`` for anything but a 2xx answer."""
    import requests

    body = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(int(now)),
               SIGNATURE_HEADER: sign(secret, body, now), DELIVERY_HEADER: str(int(delivery_id)),
               "User-Agent": "StockScanner-alerts/1"}
    try:
        r = requests.post(url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"The webhook {_host(url)} cannot be reached ({type(exc).__name__}).") from None
    if not 200 <= r.status_code < 300:
        raise DeliveryError(f"The webhook {_host(url)} answered HTTP {r.status_code}.")


def send_email(cfg: DeliveryConfig, password: str | None, entry: HistoryEntry) -> None:
    """Send ``entry`` by SMTP (STARTTLS, SSL or plain per ``cfg.email_security``). Raises
    ``DeliveryError`` for a refused login, a server that lacks STARTTLS, or a network error."""
    if not cfg.email_host or not cfg.email_to or not cfg.email_from:
        raise DeliveryError("E-mail is not set up: give the SMTP server, the sender and a recipient.")
    msg = EmailMessage()
    msg["Subject"] = f"Alert {entry.alert_name}: {short_text(entry)}"[:200]
    msg["From"] = cfg.email_from
    msg["To"] = ", ".join(cfg.email_to)
    data = payload(entry)
    lines = [short_text(entry), "", f"Alert: {entry.alert_name}", f"Symbol: {entry.symbol}",
             f"Triggered: {data['fired_at']} (bar {data['bar_time']})", "", "Values:"]
    lines += [f"  {k} = {v}" for k, v in data["values"].items()]
    msg.set_content("\n".join(lines) + "\n")
    context = ssl.create_default_context(cafile=cfg.email_ca_file or None)
    # EHLO with the plain host name: smtplib's default (socket.getfqdn) is a DNS lookup
    # that can stall for seconds on a machine without reverse DNS
    local = socket.gethostname() or "localhost"
    try:
        smtp: smtplib.SMTP
        if cfg.email_security == "ssl":
            smtp = smtplib.SMTP_SSL(cfg.email_host, cfg.email_port, local_hostname=local, timeout=cfg.timeout_s,
                                    context=context)
        else:
            smtp = smtplib.SMTP(cfg.email_host, cfg.email_port, local_hostname=local, timeout=cfg.timeout_s)
        with smtp:
            smtp.ehlo()
            if cfg.email_security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"The SMTP server {cfg.email_host} does not offer STARTTLS; "
                                        "nothing was sent in the clear.")
                smtp.starttls(context=context)
                smtp.ehlo()
            if cfg.email_user:
                smtp.login(cfg.email_user, password or "")
            smtp.send_message(msg)
    except DeliveryError:
        raise
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(f"The SMTP server {cfg.email_host} refused the login of {cfg.email_user}.") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryError(f"E-mail through {cfg.email_host}:{cfg.email_port} failed "
                            f"({type(exc).__name__}: {exc}).") from None


def send_sms(url: str, phone: str, key: str | None, text: str, timeout_s: float = 15.0) -> None:
    """Send ``text`` through a TextBelt-compatible API. Raises ``DeliveryError``."""
    import requests

    if not phone:
        raise DeliveryError("SMS is not set up: give a phone number.")
    try:
        r = requests.post(url, data={"phone": phone, "message": text, "key": key or "textbelt"},
                          timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryError(f"The SMS service {_host(url)} cannot be reached ({type(exc).__name__}).") from None
    try:
        answer = r.json()
    except ValueError:
        answer = {}
    if not 200 <= r.status_code < 300 or not isinstance(answer, dict) or answer.get("success") is not True:
        why = answer.get("error") if isinstance(answer, dict) else None
        raise DeliveryError(f"The SMS service {_host(url)} refused the message"
                            f"{': ' + str(why)[:200] if why else f' (HTTP {r.status_code})'}.")


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


@dataclass
class Senders:
    """The functions that do one try per channel (replaceable in tests)."""

    webhook: Callable[..., None] = send_webhook
    email: Callable[..., None] = send_email
    sms: Callable[..., None] = send_sms
    secrets: Callable[[str], str | None] = get_secret
    extra: dict[str, Any] = field(default_factory=dict)


def deliver_once(channel: str, entry: HistoryEntry, cfg: DeliveryConfig, delivery_id: int, now: int,
                 senders: Senders | None = None) -> None:
    """One try of ``channel`` ("webhook", "email", "sms") for ``entry``. Raises
    ``DeliveryError`` (not set up, no credential, or the try failed)."""
    s = senders or Senders()
    if channel == "webhook":
        if not cfg.webhook_url:
            raise DeliveryError("The webhook is not set up: give its URL in the alerts dock's Delivery tab.")
        secret = s.secrets("webhook_secret")
        if not secret:
            raise DeliveryError("There is no webhook secret in the keyring; nothing is sent unsigned.")
        s.webhook(cfg.webhook_url, secret, payload(entry), delivery_id, now, cfg.timeout_s)
    elif channel == "email":
        s.email(cfg, s.secrets("smtp_password"), entry)
    elif channel == "sms":
        s.sms(cfg.sms_url or TEXTBELT_URL, cfg.sms_phone, s.secrets("sms_key"), short_text(entry), cfg.timeout_s)
    else:
        raise DeliveryError(f"Unknown delivery channel {channel!r}.")
