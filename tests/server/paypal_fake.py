"""A local fake of PayPal's REST API on loopback over HTTPS (a throwaway CA-less self-signed
certificate for 127.0.0.1): OAuth client credentials, Subscriptions create / revise / cancel,
the signing certificate download (``/certs/CERT-1``) and verify-webhook-signature.

It signs webhook deliveries as PayPal does -- RSA-SHA256 over ``transmission id|time|webhook
id|CRC32(body)`` with a real X.509 certificate -- and its verify API answers SUCCESS only for a
transmission it sent, with the signature and the event it sent."""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from server.billing.provider import signed_message
from server.billing.sandbox import Delivery

CLIENT_ID, SECRET, WEBHOOK_ID = "fake-client", "fake-secret", "WH1FAKE2HOOK3"


def make_cert(common_name: str, ip: str | None = None, days: int = 30) -> tuple[Any, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(now + dt.timedelta(days=days)))
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
                                        critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return key, cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class FakePayPal:
    folder: Path
    sent: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def start(self) -> "FakePayPal":
        tls_key, tls_pem = make_cert("127.0.0.1", "127.0.0.1")
        self.ca_file = self.folder / "fake-paypal-ca.pem"
        self.ca_file.write_bytes(tls_pem)
        key_file = self.folder / "fake-paypal-key.pem"
        key_file.write_bytes(tls_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))
        self.sign_key, self.sign_pem = make_cert("messageverificationcerts.paypal.example")
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None, ctype: str = "application/json") -> None:
                raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                fake.calls.append("GET " + self.path)
                if self.path == "/certs/CERT-1":
                    self._answer(200, fake.sign_pem, "application/x-pem-file")
                else:
                    self._answer(404, {"name": "RESOURCE_NOT_FOUND"})

            def do_POST(self) -> None:  # noqa: N802
                fake.calls.append("POST " + self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                if self.path == "/v1/oauth2/token":
                    good = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
                    if auth != good:
                        self._answer(401, {"error": "invalid_client"})
                    else:
                        self._answer(200, {"access_token": "A21AAFAKE", "token_type": "Bearer", "expires_in": 32400})
                    return
                if auth != "Bearer A21AAFAKE":
                    self._answer(401, {"name": "AUTHENTICATION_FAILURE"})
                    return
                body = json.loads(raw or b"{}")
                if self.path == "/v1/billing/subscriptions":
                    sid = "I-" + secrets.token_hex(6).upper()
                    fake.subscriptions[sid] = {"plan_id": body["plan_id"], "custom_id": body.get("custom_id")}
                    self._answer(201, {"id": sid, "status": "APPROVAL_PENDING", "links": [
                        {"href": f"https://www.sandbox.paypal.com/webapps/billing/subscriptions?ba_token=BA-{sid}",
                         "rel": "approve", "method": "GET"}]})
                elif self.path.endswith("/cancel"):
                    self._answer(204)
                elif self.path.endswith("/revise"):
                    self._answer(200, {"plan_id": body["plan_id"], "links": [
                        {"href": "https://www.sandbox.paypal.com/webapps/billing/subscriptions/update?ba_token=BA-R",
                         "rel": "approve", "method": "GET"}]})
                elif self.path == "/v1/notifications/verify-webhook-signature":
                    sent = fake.sent.get(body.get("transmission_id", ""))
                    ok = (sent is not None and sent[0] == body.get("transmission_sig")
                          and sent[1] == body.get("webhook_event") and body.get("webhook_id") == WEBHOOK_ID)
                    self._answer(200, {"verification_status": "SUCCESS" if ok else "FAILURE"})
                else:
                    self._answer(404, {"name": "RESOURCE_NOT_FOUND"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.ca_file, key_file)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def deliver(self, event: dict[str, Any], sign_key: Any = None) -> Delivery:
        """A webhook delivery of ``event`` as PayPal POSTs it (signed; remembered for the verify API)."""
        body = json.dumps(event).encode()
        tid = "a" + secrets.token_hex(8)
        when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        sig = base64.b64encode((sign_key or self.sign_key).sign(
            signed_message(tid, when, WEBHOOK_ID, body), padding.PKCS1v15(), hashes.SHA256())).decode()
        self.sent[tid] = (sig, event)
        return Delivery({"PAYPAL-TRANSMISSION-ID": tid, "PAYPAL-TRANSMISSION-TIME": when,
                         "PAYPAL-TRANSMISSION-SIG": sig, "PAYPAL-AUTH-ALGO": "SHA256withRSA",
                         "PAYPAL-CERT-URL": f"{self.url}/certs/CERT-1", "Content-Type": "application/json"}, body)
