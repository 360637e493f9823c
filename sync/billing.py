"""The app's side of subscriptions, referrals, partners and the billing admin (Qt-free; every
call blocks, so the widgets run them in workers).

``BillingService`` wraps the service client of ``sync.hub.SyncHub`` and keeps the last
entitlements and flags for offline use (``sync.entitlements``). Starting or changing a
subscription answers the provider's approval URL, which ``open_url`` opens in the system
browser (the feature passes ``QDesktopServices.openUrl``)."""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from sync.client import Offline, ServiceClient, SignedOut
from sync.entitlements import EntitlementCache, Snapshot

log = logging.getLogger("stockscanner.sync.billing")

CSV_COLUMNS = ("date", "kind", "customer", "share_percent", "amount", "status")


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection): a leading
    ``= + - @`` tab or CR gets a ``'``."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def ledger_csv(entries: list[dict[str, Any]]) -> str:
    """The referral / commission ledger as CSV (the columns of ``/partners/me/commissions.csv``)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in entries:
        cents = int(e["amount_cents"])
        sign = "-" if cents < 0 else ""
        w.writerow([str(e["created_at"])[:10], e["kind"], safe_cell(str(e["referred"])), f"{int(e['bps']) / 100:g}",
                    f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}", "paid" if e["paid"] else "unpaid"])
    return out.getvalue()


class BillingService:
    def __init__(self, client: Callable[[], ServiceClient | None], kv: Any,
                 open_url: Callable[[str], object]) -> None:
        self._client = client
        self.cache = EntitlementCache(kv)
        self.open_url = open_url
        self.last: Snapshot | None = None

    def client(self) -> ServiceClient:
        c = self._client()
        if c is None:
            raise Offline("No service is configured: set Settings → Service URL.")
        return c

    def _email(self) -> str | None:
        c = self._client()
        return c.signed_in_email if c is not None else None

    def _identity(self) -> str:
        c = self._client()
        return c.identity if c is not None else ""

    # --- entitlements ---------------------------------------------------------------------

    def entitlements(self) -> Snapshot:
        """Fresh from the service when it answers; else the cached answer within the 7-day
        grace period; else Free (blocking)."""
        c = self._client()
        email = self._email()
        if c is None or not email:
            self.last = self.cache.current(self._identity(), email)
            return self.last
        try:
            answer = c.call("GET", "/entitlements/me").body
        except (Offline, SignedOut) as exc:
            log.info("entitlements from the cache (%s)", exc)
            self.last = self.cache.current(self._identity(), self._email())
            return self.last
        self.last = self.cache.store(self._identity(), email, answer)
        return self.last

    def cached(self) -> Snapshot:
        """The last known entitlements without a network call."""
        return self.last or self.cache.current(self._identity(), self._email())

    def flag(self, name: str, default: bool = False) -> bool:
        return self.cached().flag(name, default)

    # --- plans and the subscription -------------------------------------------------------

    def plans(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.client().call("GET", "/billing/plans", auth=False).body
        return answer

    def overview(self) -> dict[str, Any]:
        """Everything the Plan page shows: entitlements, the subscription, invoices, the role."""
        snap = self.entitlements()
        out: dict[str, Any] = {"snapshot": snap, "subscription": None, "invoices": [], "role": "user",
                               "offline": snap.source != "service", "email": self._email()}
        if snap.source == "service":
            c = self.client()
            out["subscription"] = c.call("GET", "/billing/subscription").body
            out["invoices"] = c.call("GET", "/billing/invoices").body
            out["role"] = c.me().get("role", "user")
        return out

    def subscribe(self, tier: str, period: str) -> str:
        """Start a subscription; the provider's approval URL (blocking: open it with
        ``open_approval`` on the GUI thread)."""
        return str(self.client().call("POST", "/billing/subscription",
                                      {"tier": tier, "period": period}).body["approval_url"])

    def change(self, tier: str, period: str) -> str:
        """Ask for a plan change (prorated by the provider); its approval URL."""
        return str(self.client().call("POST", "/billing/subscription/change",
                                      {"tier": tier, "period": period}).body["approval_url"])

    def open_approval(self, url: str) -> None:
        """Open the approval page in the system browser (only http(s) URLs)."""
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"not a web address: {url!r}")
        self.open_url(url)

    def cancel(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.client().call("POST", "/billing/subscription/cancel").body
        return answer

    # --- referrals and partners -----------------------------------------------------------

    def referrals(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.client().call("GET", "/referrals/me").body
        return answer

    def apply_referral(self, code: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.client().call("POST", "/referrals/apply", {"code": code.strip()}).body
        return answer

    def partner(self) -> dict[str, Any]:
        c = self.client()
        return {"dashboard": c.call("GET", "/partners/me").body, "referrals": c.call("GET", "/referrals/me").body}

    def export_csv(self, path: str) -> str:
        ledger = self.referrals()["ledger"]
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(ledger_csv(ledger))
        return path

    # --- admin ----------------------------------------------------------------------------

    def admin(self) -> dict[str, Any]:
        c = self.client()
        return {"flags": c.call("GET", "/admin/flags").body, "plans": c.call("GET", "/admin/plans").body}

    def set_flag(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.client().call("PUT", f"/admin/flags/{quote(name, safe='')}", body).body
        return answer

    def delete_flag(self, name: str) -> None:
        self.client().call("DELETE", f"/admin/flags/{quote(name, safe='')}")

    def set_plan(self, tier: str, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self.client().call("PUT", f"/admin/plans/{quote(tier, safe='')}", body).body
        return answer
