"""The sandbox provider: PayPal Subscriptions' behaviour without PayPal, for development and
tests. Subscriptions start ``APPROVAL_PENDING`` with an approval URL (a page of this service,
``/billing/sandbox/approve``); approving, revising and cancelling produce the same webhook
events PayPal sends, in PayPal's shape, *signed* (HMAC-SHA256 over PayPal's message
``transmission id|time|webhook id|CRC32(body)`` with a key derived from the service's secret) and
delivered to ``/billing/webhooks/sandbox``, which verifies them like PayPal's. Refused in
production (``server/config.py``)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from server.billing.provider import Created, WebhookRefused, header, plan_key, signed_message, split_key

WEBHOOK_ID = "SANDBOXWEBHOOK"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery: the headers and the raw body, as PayPal would POST them."""

    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


class SandboxProvider:
    name = "sandbox"

    def __init__(self, secret_key: str, public_url: str) -> None:
        self._key = hashlib.sha256(b"stockscanner-billing-sandbox:" + secret_key.encode()).digest()
        self.public_url = public_url.rstrip("/")

    def provider_plan(self, tier: str, period: str) -> str:
        return "SANDBOX-" + plan_key(tier, period)

    def plan_of(self, provider_plan: str) -> tuple[str, str] | None:
        return split_key(provider_plan.removeprefix("SANDBOX-")) if provider_plan.startswith("SANDBOX-") else None

    # --- approval tokens (the link the browser opens) ------------------------------------

    def approval_token(self, provider_id: str, plan: str) -> str:
        payload = f"{provider_id}:{plan}"
        mac = hmac.new(self._key, b"approve:" + payload.encode(), "sha256").hexdigest()[:32]
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + "." + mac

    def read_approval(self, token: str) -> tuple[str, str] | None:
        """(provider id, plan key) of a genuine approval token, None otherwise."""
        raw, _, mac = token.partition(".")
        try:
            payload = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        good = hmac.new(self._key, b"approve:" + payload.encode(), "sha256").hexdigest()[:32]
        if not hmac.compare_digest(good, mac):
            return None
        provider_id, _, plan = payload.partition(":")
        return (provider_id, plan) if split_key(plan) else None

    def _approval_url(self, provider_id: str, plan: str) -> str:
        return f"{self.public_url}/billing/sandbox/approve?token={self.approval_token(provider_id, plan)}"

    # --- the provider interface ----------------------------------------------------------

    def create_subscription(self, tier: str, period: str, custom_id: str, price_cents: int,
                            return_url: str, cancel_url: str) -> Created:
        provider_id = "I-SANDBOX" + secrets.token_hex(6).upper()
        return Created(provider_id, "APPROVAL_PENDING", self._approval_url(provider_id, plan_key(tier, period)))

    def revise(self, provider_id: str, tier: str, period: str, price_cents: int) -> str:
        return self._approval_url(provider_id, plan_key(tier, period))

    def cancel(self, provider_id: str, reason: str) -> None:
        """Accepted; the CANCELLED event follows (``deliveries_for_cancel``), as with PayPal."""

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        tid, when, sig = (header(headers, n) for n in ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
                                                         "PAYPAL-TRANSMISSION-SIG"))
        if not (tid and when and sig) or header(headers, "PAYPAL-AUTH-ALGO") != "HMACSHA256":
            raise WebhookRefused("the sandbox transmission headers are missing")
        good = base64.b64encode(hmac.new(self._key, signed_message(tid, when, WEBHOOK_ID, body),
                                         "sha256").digest()).decode()
        if not hmac.compare_digest(good, sig):
            raise WebhookRefused("the signature does not match")
        try:
            event = json.loads(body)
        except ValueError:
            raise WebhookRefused("the body is not JSON") from None
        if not isinstance(event, dict):
            raise WebhookRefused("the body is not an event")
        return event

    # --- events, signed as PayPal's --------------------------------------------------------

    def sign(self, event: dict[str, Any], at: dt.datetime | None = None) -> Delivery:
        body = json.dumps(event, separators=(",", ":")).encode()
        tid = secrets.token_hex(8)
        when = _iso(at or dt.datetime.now(dt.timezone.utc))
        sig = base64.b64encode(hmac.new(self._key, signed_message(tid, when, WEBHOOK_ID, body),
                                        "sha256").digest()).decode()
        return Delivery({"PAYPAL-TRANSMISSION-ID": tid, "PAYPAL-TRANSMISSION-TIME": when,
                         "PAYPAL-TRANSMISSION-SIG": sig, "PAYPAL-AUTH-ALGO": "HMACSHA256",
                         "PAYPAL-CERT-URL": f"{self.public_url}/billing/sandbox", "Content-Type": "application/json"},
                        body)

    @staticmethod
    def event(event_type: str, resource: dict[str, Any], at: dt.datetime | None = None,
              event_id: str | None = None) -> dict[str, Any]:
        when = _iso(at or dt.datetime.now(dt.timezone.utc))
        kind = "subscription" if event_type.startswith("BILLING.SUBSCRIPTION") else "sale"
        return {"id": event_id or "WH-" + secrets.token_hex(10).upper(), "event_version": "1.0",
                "create_time": when, "resource_type": kind, "event_type": event_type,
                "summary": event_type, "resource": resource}

    def subscription_event(self, event_type: str, provider_id: str, plan: str, status: str,
                           at: dt.datetime, next_billing: dt.datetime | None = None,
                           custom_id: str = "") -> Delivery:
        resource: dict[str, Any] = {"id": provider_id, "plan_id": "SANDBOX-" + plan, "status": status,
                                    "status_update_time": _iso(at), "custom_id": custom_id}
        if next_billing is not None:
            resource["billing_info"] = {"next_billing_time": _iso(next_billing)}
        return self.sign(self.event(event_type, resource, at))

    def sale_completed(self, provider_id: str, sale_id: str, cents: int, at: dt.datetime) -> Delivery:
        return self.sign(self.event("PAYMENT.SALE.COMPLETED", {
            "id": sale_id, "state": "completed", "billing_agreement_id": provider_id,
            "amount": {"total": money(cents), "currency": "USD"}, "create_time": _iso(at),
            "update_time": _iso(at)}, at))

    def sale_refunded(self, sale_id: str, refund_id: str, cents: int, at: dt.datetime) -> Delivery:
        return self.sign(self.event("PAYMENT.SALE.REFUNDED", {
            "id": refund_id, "state": "completed", "sale_id": sale_id,
            "amount": {"total": money(cents), "currency": "USD"}, "create_time": _iso(at),
            "update_time": _iso(at)}, at))
