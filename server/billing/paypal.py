"""PayPal Subscriptions over its REST API (``requests``, already a dependency of the app's
client), against a configurable base URL (``PAYPAL_API_BASE``: the sandbox
``https://api-m.sandbox.paypal.com`` by default, ``https://api-m.paypal.com`` live; tests point
it at a fake PayPal on loopback).

Webhooks are verified in one of the two ways PayPal documents (``PAYPAL_VERIFY``):

* ``api``: POST ``/v1/notifications/verify-webhook-signature`` with the transmission headers,
  our webhook id and the event; only ``verification_status == "SUCCESS"`` passes.
* ``cert``: the check done here: ``PAYPAL-CERT-URL`` must be https on one of
  ``PAYPAL_CERT_HOSTS`` (PayPal's API hosts by default), the certificate from it must be
  within its validity dates, and ``PAYPAL-TRANSMISSION-SIG`` must be its RSA-SHA256
  (SHA256withRSA, PKCS#1 v1.5) signature of ``transmission id|time|webhook id|CRC32(body)``.
  The certificate's chain to a CA is not walked: the host allow-list is what ties it to PayPal
  (as PayPal's SDKs do)."""
from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from server.billing.provider import (
    Created, ProviderError, WebhookRefused, header, plan_key, signed_message, split_key,
)

TIMEOUT = (3.05, 15.0)
MAX_CERT_BYTES = 16 * 1024


class PayPalProvider:
    name = "paypal"

    def __init__(self, client_id: str, secret: str, webhook_id: str, base_url: str,
                 plans: tuple[str, ...], verify_mode: str = "api",
                 cert_hosts: tuple[str, ...] = (), session: requests.Session | None = None) -> None:
        self.client_id, self.secret, self.webhook_id = client_id, secret, webhook_id
        self.base_url = base_url.rstrip("/")
        self.verify_mode = verify_mode
        self.cert_hosts = frozenset(h.lower() for h in cert_hosts)
        #: its ``verify`` is passed on every call (requests lets REQUESTS_CA_BUNDLE override a
        #: session's own ``verify`` otherwise)
        self.session = session or requests.Session()
        self._plans: dict[str, str] = {}
        for pair in plans:
            key, _, pid = pair.partition("=")
            if split_key(key.strip()) is None or not pid.strip():
                raise ValueError(f"PAYPAL_PLANS entry {pair!r} is not tier-period=PLAN_ID")
            self._plans[key.strip()] = pid.strip()
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()
        self._certs: dict[str, x509.Certificate] = {}

    # --- plans ----------------------------------------------------------------------------

    def provider_plan(self, tier: str, period: str) -> str:
        pid = self._plans.get(plan_key(tier, period))
        if not pid:
            raise ProviderError(f"No PayPal plan is configured for {tier} {period} (PAYPAL_PLANS).")
        return pid

    def plan_of(self, provider_plan: str) -> tuple[str, str] | None:
        for key, pid in self._plans.items():
            if pid == provider_plan:
                return split_key(key)
        return None

    # --- REST -----------------------------------------------------------------------------

    def _access_token(self) -> str:
        with self._lock:
            if self._token and self._token[1] > time.monotonic() + 60:
                return self._token[0]
            try:
                r = self.session.post(f"{self.base_url}/v1/oauth2/token", auth=(self.client_id, self.secret),
                                      data={"grant_type": "client_credentials"}, timeout=TIMEOUT,
                                      verify=self.session.verify)
            except requests.RequestException as exc:
                raise ProviderError(f"PayPal cannot be reached ({type(exc).__name__}).") from None
            if r.status_code != 200:
                raise ProviderError(f"PayPal refused the API credentials (HTTP {r.status_code}).")
            body = r.json()
            self._token = (str(body["access_token"]), time.monotonic() + float(body.get("expires_in", 300)))
            return self._token[0]

    def _call(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> Any:
        token = self._access_token()
        try:
            r = self.session.request(method, self.base_url + path, timeout=TIMEOUT, verify=self.session.verify,
                                     **({"data": raw} if raw is not None else {"json": body}),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        except requests.RequestException as exc:
            raise ProviderError(f"PayPal cannot be reached ({type(exc).__name__}).") from None
        if r.status_code >= 400:
            try:
                message = str(r.json().get("message") or r.json().get("name"))
            except ValueError:
                message = f"HTTP {r.status_code}"
            raise ProviderError(f"PayPal refused the request: {message}")
        return r.json() if r.content else None

    @staticmethod
    def _approve_link(body: Any) -> str:
        for link in (body or {}).get("links", []):
            if link.get("rel") == "approve":
                return str(link["href"])
        raise ProviderError("PayPal's answer has no approval link.")

    def create_subscription(self, tier: str, period: str, custom_id: str, price_cents: int,
                            return_url: str, cancel_url: str) -> Created:
        body = self._call("POST", "/v1/billing/subscriptions", {
            "plan_id": self.provider_plan(tier, period), "custom_id": custom_id,
            "application_context": {"return_url": return_url, "cancel_url": cancel_url,
                                    "user_action": "SUBSCRIBE_NOW", "shipping_preference": "NO_SHIPPING"}})
        return Created(str(body["id"]), str(body.get("status", "APPROVAL_PENDING")), self._approve_link(body))

    def revise(self, provider_id: str, tier: str, period: str, price_cents: int) -> str:
        body = self._call("POST", f"/v1/billing/subscriptions/{provider_id}/revise",
                          {"plan_id": self.provider_plan(tier, period)})
        return self._approve_link(body)

    def cancel(self, provider_id: str, reason: str) -> None:
        self._call("POST", f"/v1/billing/subscriptions/{provider_id}/cancel", {"reason": reason[:127]})

    # --- webhooks -------------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        names = ("PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG",
                 "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO")
        values = {n: header(headers, n) for n in names}
        if not all(values.values()):
            raise WebhookRefused("the PayPal transmission headers are missing")
        try:
            event = json.loads(body)
        except ValueError:
            raise WebhookRefused("the body is not JSON") from None
        if not isinstance(event, dict):
            raise WebhookRefused("the body is not an event")
        if self.verify_mode == "cert":
            self._verify_cert(values, body)
        else:
            # the event goes as the raw bytes received: re-serialising it would change the
            # CRC32 PayPal checks (a known pitfall of this API)
            head = json.dumps({
                "auth_algo": values["PAYPAL-AUTH-ALGO"], "cert_url": values["PAYPAL-CERT-URL"],
                "transmission_id": values["PAYPAL-TRANSMISSION-ID"],
                "transmission_sig": values["PAYPAL-TRANSMISSION-SIG"],
                "transmission_time": values["PAYPAL-TRANSMISSION-TIME"],
                "webhook_id": self.webhook_id})
            answer = self._call("POST", "/v1/notifications/verify-webhook-signature",
                                raw=head[:-1].encode() + b', "webhook_event": ' + body + b"}")
            if not isinstance(answer, dict) or answer.get("verification_status") != "SUCCESS":
                raise WebhookRefused("PayPal did not verify the signature")
        return event

    def _verify_cert(self, values: Mapping[str, str], body: bytes) -> None:
        if values["PAYPAL-AUTH-ALGO"].upper() not in ("SHA256WITHRSA",):
            raise WebhookRefused(f"unsupported auth algorithm {values['PAYPAL-AUTH-ALGO']!r}")
        cert = self._cert(values["PAYPAL-CERT-URL"])
        now = dt.datetime.now(dt.timezone.utc)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise WebhookRefused("the signing certificate is not within its validity dates")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise WebhookRefused("the signing certificate has no RSA key")
        try:
            signature = base64.b64decode(values["PAYPAL-TRANSMISSION-SIG"], validate=True)
            key.verify(signature, signed_message(values["PAYPAL-TRANSMISSION-ID"],
                                                 values["PAYPAL-TRANSMISSION-TIME"], self.webhook_id, body),
                       padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise WebhookRefused("the signature does not match") from None

    def _cert(self, url: str) -> x509.Certificate:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or host not in self.cert_hosts:
            raise WebhookRefused(f"the certificate URL is not on PayPal's hosts ({host or url!r})")
        if url in self._certs:
            return self._certs[url]
        try:
            r = self.session.get(url, timeout=TIMEOUT, verify=self.session.verify)
        except requests.RequestException as exc:
            raise WebhookRefused(f"the certificate cannot be fetched ({type(exc).__name__})") from None
        if r.status_code != 200 or len(r.content) > MAX_CERT_BYTES:
            raise WebhookRefused(f"the certificate URL answered HTTP {r.status_code}")
        try:
            cert = x509.load_pem_x509_certificate(r.content)
        except ValueError:
            raise WebhookRefused("the certificate is not PEM") from None
        self._certs[url] = cert
        return cert
