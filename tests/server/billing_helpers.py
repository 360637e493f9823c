"""Shared steps of the billing tests: put a user on a tier through the sandbox provider."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def approve(service: Any, url: str) -> str:
    """Open a sandbox approval URL (as the system browser would); the page's text."""
    parts = urlsplit(url)
    r = service.client.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 200, r.text
    return str(r.text)


def subscribe(service: Any, headers: dict[str, str], tier: str, period: str = "monthly") -> dict[str, Any]:
    """Subscribe and approve: the user is on ``tier`` (ACTIVE, first invoice paid)."""
    r = service.client.post("/billing/subscription", headers=headers, json={"tier": tier, "period": period})
    assert r.status_code == 200, r.text
    assert "Your subscription is active." in approve(service, r.json()["approval_url"])
    sub: dict[str, Any] = service.client.get("/billing/subscription", headers=headers).json()
    assert sub["tier"] == tier and sub["status"] == "ACTIVE", sub
    return sub


def sandbox(service: Any) -> Any:
    from server.billing.sandbox import SandboxProvider

    provider = service.app.state.billing_provider
    assert isinstance(provider, SandboxProvider)
    return provider


def provider_id(service: Any, email: str) -> str:
    from sqlalchemy import select

    from server.billing.models import Subscription
    from server.models import User

    with service.db() as db:
        return str(db.execute(select(Subscription.provider_id).join(User, User.id == Subscription.user_id)
                              .where(User.email == email).order_by(Subscription.id.desc())).scalars().first())


def post_delivery(service: Any, delivery: Any, path: str = "/billing/webhooks/sandbox") -> Any:
    return service.client.post(path, content=delivery.body, headers=delivery.headers)
