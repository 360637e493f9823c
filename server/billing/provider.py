"""The billing-provider interface: what the service asks of PayPal (or of the sandbox).

The flow is PayPal Subscriptions': the service creates a subscription for a provider plan,
the user approves it in the system browser (``approval_url``), and the provider tells the
service what happened through webhooks (``BILLING.SUBSCRIPTION.*``, ``PAYMENT.SALE.*``), which
``verify`` authenticates before anything is applied (``server/billing/webhooks.py``)."""
from __future__ import annotations

import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.plans import PERIODS, TIERS


class ProviderError(Exception):
    """The provider refused or failed a call; ``str()`` is one sentence."""


class WebhookRefused(Exception):
    """A webhook whose signature (or its headers) does not check out: nothing is applied."""


@dataclass(frozen=True, slots=True)
class Created:
    provider_id: str
    status: str
    approval_url: str


def plan_key(tier: str, period: str) -> str:
    """``"basic-monthly"``: our name of a paid plan (tier and period)."""
    if tier not in TIERS or tier == "free" or period not in PERIODS:
        raise ValueError(f"no paid plan {tier}-{period}")
    return f"{tier}-{period}"


def split_key(key: str) -> tuple[str, str] | None:
    tier, _, period = key.partition("-")
    return (tier, period) if tier in TIERS and tier != "free" and period in PERIODS else None


def signed_message(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    """What PayPal signs: ``transmission id | time | webhook id | CRC32 of the raw body``
    (the CRC32 as an unsigned decimal)."""
    crc = binascii.crc32(body) & 0xFFFFFFFF
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()


def header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ("" when missing)."""
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return ""


class BillingProvider(Protocol):
    name: str

    def provider_plan(self, tier: str, period: str) -> str:
        """The provider's plan id of ``tier``/``period`` (ProviderError when none is configured)."""
        ...

    def plan_of(self, provider_plan: str) -> tuple[str, str] | None:
        """(tier, period) of a provider plan id, None when it is not one of ours."""
        ...

    def create_subscription(self, tier: str, period: str, custom_id: str, price_cents: int,
                            return_url: str, cancel_url: str) -> Created:
        ...

    def revise(self, provider_id: str, tier: str, period: str, price_cents: int) -> str:
        """Ask for a plan change; the URL where the user approves it. The provider prorates
        (PayPal: the new price applies from the next billing cycle)."""
        ...

    def cancel(self, provider_id: str, reason: str) -> None:
        ...

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The event of a webhook delivery whose signature checks out (``WebhookRefused``
        otherwise, before anything else looks at it)."""
        ...
