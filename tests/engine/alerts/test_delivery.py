"""Deliveries against real local servers: a webhook (http.server on 127.0.0.1), e-mail
through aiosmtpd with STARTTLS (a self-signed certificate made here with cryptography) and
login, SMS through a TextBelt-compatible endpoint; a failing endpoint is retried with backoff
and recorded as failed, and the failure is announced."""
from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from engine.alerts import AlertError, AlertTemplate, Scope
from engine.alerts.delivery import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryConfig,
    set_secret,
    sign,
    verify_signature,
)
from engine.alerts.events import AlertDeliveryFailed
from engine.alerts.service import AlertService
from engine.events import EventBus
from tests.engine.alerts.stubs import T0, panel


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes]] = []  # popped per request; the last one repeats

    def next_answer(self) -> tuple[int, bytes]:
        return self.answers.pop(0) if len(self.answers) > 1 else (self.answers[0] if self.answers else (200, b"ok"))


@pytest.fixture
def http_server() -> Iterator[tuple[str, Recorder]]:
    rec = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            rec.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            code, answer = rec.next_answer()
            self.send_response(code)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", rec
    srv.shutdown()
    srv.server_close()


def make_service(db, cfg: DeliveryConfig, channels: tuple[str, ...], now: list[int]):
    bus = EventBus()
    failed: list[AlertDeliveryFailed] = []
    bus.subscribe(AlertDeliveryFailed, failed.append)
    svc = AlertService(db, bus, clock=lambda: now[0])
    svc.set_config(cfg)
    svc.save(AlertTemplate("breakout", ("close > 11",), Scope("symbol", "AAA"), channels=channels,
                           message="AAA broke out"))
    return svc, failed


def test_webhook_is_posted_signed(db, memory_keyring, http_server):
    url, rec = http_server
    set_secret("webhook_secret", "s3cret")
    now = [T0]
    svc, failed = make_service(db, DeliveryConfig(webhook_url=url + "/hook"), ("webhook",), now)
    (entry,) = svc.evaluate(panel({"AAA": [10, 11, 12]}))
    assert svc.deliver_due() == (1, 0)
    (req,) = rec.requests
    h = req["headers"]
    assert req["path"] == "/hook" and h["Content-Type"] == "application/json"
    assert verify_signature("s3cret", req["body"], h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=T0)
    assert not verify_signature("wrong", req["body"], h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=T0)
    assert not verify_signature("s3cret", req["body"] + b" ", h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=T0)
    assert not verify_signature("s3cret", req["body"], h[TIMESTAMP_HEADER], h[SIGNATURE_HEADER], now=T0 + 301)
    data = json.loads(req["body"])
    assert (data["symbol"], data["alert"], data["values"]["close"]) == ("AAA", "breakout", 12.0)
    assert data["history_id"] == entry.id and h[DELIVERY_HEADER] == str(svc.deliveries()[0].id)
    assert [(d.channel, d.status, d.attempts) for d in svc.deliveries()] == [("webhook", "sent", 1)]
    assert failed == []


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    want = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("k", b"{}", 1700000000) == "sha256=" + want


def test_failing_endpoint_is_retried_with_backoff_then_failed_and_announced(db, memory_keyring, http_server):
    url, rec = http_server
    rec.answers = [(500, b"down")]
    set_secret("webhook_secret", "s3cret")
    now = [T0]
    svc, failed = make_service(db, DeliveryConfig(webhook_url=url, max_attempts=3, backoff_s=10), ("webhook",), now)
    svc.evaluate(panel({"AAA": [10, 11, 12]}))
    assert svc.deliver_due() == (0, 0)  # try 1 fails; next in 10 s
    (d,) = svc.deliveries()
    assert (d.status, d.attempts, d.next_try_at, d.last_error) == \
        ("pending", 1, T0 + 10, f"The webhook {url[7:]} answered HTTP 500.")
    now[0] = T0 + 9
    assert svc.deliver_due() == (0, 0) and len(rec.requests) == 1  # not yet due
    now[0] = T0 + 10
    assert svc.deliver_due() == (0, 0) and len(rec.requests) == 2  # try 2; next in 20 s
    assert svc.deliveries()[0].next_try_at == T0 + 30
    now[0] = T0 + 30
    assert svc.deliver_due() == (0, 1) and len(rec.requests) == 3  # try 3 is the last
    (d,) = svc.deliveries("failed")
    assert d.attempts == 3 and "HTTP 500" in d.last_error
    assert [(f.channel, f.symbol, f.attempts) for f in failed] == [("webhook", "AAA", 3)]
    now[0] = T0 + 10_000
    assert svc.deliver_due() == (0, 0) and len(rec.requests) == 3  # never retried silently again
    rec.answers = [(204, b"")]
    svc.retry(d.id)  # the user pressed Retry
    assert svc.deliver_due() == (1, 0) and svc.deliveries()[0].status == "sent"


def test_webhook_without_a_secret_is_not_sent_unsigned(db, memory_keyring, http_server):
    url, rec = http_server
    now = [T0]
    svc, failed = make_service(db, DeliveryConfig(webhook_url=url, max_attempts=1), ("webhook",), now)
    svc.evaluate(panel({"AAA": [10, 11, 12]}))
    assert svc.deliver_due() == (0, 1)
    assert rec.requests == [] and "no webhook secret" in failed[0].error


def test_unreachable_webhook_is_a_sentence(db, memory_keyring):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    set_secret("webhook_secret", "x")
    now = [T0]
    svc, failed = make_service(db, DeliveryConfig(webhook_url=f"http://127.0.0.1:{port}/", max_attempts=1,
                                                  timeout_s=2), ("webhook",), now)
    svc.evaluate(panel({"AAA": [10, 11, 12]}))
    assert svc.deliver_due() == (0, 1)
    assert failed[0].error == f"The webhook 127.0.0.1:{port} cannot be reached (ConnectionError)."


def test_sms_through_a_textbelt_compatible_api(db, memory_keyring, http_server):
    url, rec = http_server
    rec.answers = [(200, b'{"success": true, "textId": "1", "quotaRemaining": 9}')]
    set_secret("sms_key", "KEY")
    now = [T0]
    svc, _ = make_service(db, DeliveryConfig(sms_url=url + "/text", sms_phone="+15551234567"), ("sms",), now)
    svc.evaluate(panel({"AAA": [10, 11, 12]}))
    assert svc.deliver_due() == (1, 0)
    form = parse_qs(rec.requests[0]["body"].decode())
    assert form["phone"] == ["+15551234567"] and form["key"] == ["KEY"]
    assert form["message"] == ["AAA at 12.00: AAA broke out"]


def test_sms_refusal_is_recorded_with_the_services_reason(db, memory_keyring, http_server):
    url, rec = http_server
    rec.answers = [(200, b'{"success": false, "error": "Out of quota"}')]
    now = [T0]
    svc, failed = make_service(db, DeliveryConfig(sms_url=url, sms_phone="5551234567", max_attempts=1), ("sms",), now)
    svc.evaluate(panel({"AAA": [10, 11, 12]}))
    assert svc.deliver_due() == (0, 1)
    assert failed[0].error.endswith("refused the message: Out of quota.")


@pytest.mark.parametrize("cfg, message", [
    (DeliveryConfig(webhook_url="ftp://x"), "webhook URL"),
    (DeliveryConfig(email_port=0), "SMTP port"),
    (DeliveryConfig(email_to=("not-an-address",)), "not an e-mail address"),
    (DeliveryConfig(sms_phone="call me"), "not a phone number"),
    (DeliveryConfig(backoff_s=float("nan")), "backoff"),
    (DeliveryConfig(max_attempts=0), "Tries per delivery"),
])
def test_bad_delivery_settings_are_refused(cfg, message):
    with pytest.raises(AlertError, match=message):
        cfg.checked()


# ---------------------------------------------------------------------- e-mail
def _self_signed(tmp_path):
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def smtp_server(tmp_path):
    """aiosmtpd on 127.0.0.1 requiring STARTTLS and a login (user 'trader', password 'pw')."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = _self_signed(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    got: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            got.append(envelope)
            return "250 OK"

    def auth(server, session, envelope, mechanism, data):
        ok = data.login == b"trader" and data.password == b"pw"
        return AuthResult(success=ok)

    port = _free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="localhost", tls_context=ctx, require_starttls=True,
                     authenticator=auth, auth_require_tls=True)
    ctl.start()
    yield port, cert, got
    ctl.stop()


def test_email_through_smtp_with_starttls_and_login(db, memory_keyring, smtp_server):
    port, cert, got = smtp_server
    set_secret("smtp_password", "pw")
    now = [T0]
    cfg = DeliveryConfig(email_host="127.0.0.1", email_port=port, email_security="starttls", email_user="trader",
                         email_from="scanner@localhost", email_to=("me@example.com",), email_ca_file=str(cert))
    svc, failed = make_service(db, cfg, ("email",), now)
    svc.evaluate(panel({"AAA": [10, 11, 12]}))
    assert svc.deliver_due() == (1, 0), svc.deliveries()[0].last_error
    (env,) = got
    assert env.rcpt_tos == ["me@example.com"] and env.mail_from == "scanner@localhost"
    text = env.content.decode()
    assert "Subject: Alert breakout: AAA at 12.00: AAA broke out" in text and "close = 12.0" in text
    assert failed == []


def test_email_refuses_a_server_without_starttls(db, memory_keyring):
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            return "250 OK"

    port = _free_port()
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port, server_hostname="localhost")
    ctl.start()
    try:
        now = [T0]
        cfg = DeliveryConfig(email_host="127.0.0.1", email_port=port, email_from="a@localhost",
                             email_to=("me@example.com",), max_attempts=1)
        svc, failed = make_service(db, cfg, ("email",), now)
        svc.evaluate(panel({"AAA": [10, 11, 12]}))
        assert svc.deliver_due() == (0, 1)
        assert "does not offer STARTTLS" in failed[0].error
    finally:
        ctl.stop()
