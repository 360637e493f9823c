"""deploy/nginx/stockscanner.conf run by a real nginx on loopback, terminating TLS in front of
two real service processes on one PostgreSQL: HTTP redirects to HTTPS, requests reach both
workers, a client cannot forge its address, and a stopped worker is skipped.

The site file is used as shipped; only the host paths (certificate, upstream include, ACME
root) and the listening ports are rewritten for a test folder."""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploy.conftest import DEPLOY, need
from tests.server.conftest import PASSWORD
from tests.server.test_scale_out import Worker, pg_url, start_workers, stop_workers  # noqa: F401 - fixture
from tests.server.test_serve_cli import _free_port


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost and its key (PEM files in ``folder``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def render(site: str, folder: Path, upstream: Path, cert: Path, key: Path,
           http_port: int | None = None, https_port: int | None = None) -> Path:
    """A main nginx.conf in ``folder`` that includes ``site`` with its host paths moved there."""
    swaps = {
        "/etc/nginx/snippets/stockscanner-upstream.conf": str(upstream),
        "/etc/stockscanner/tls/fullchain.pem": str(cert),
        "/etc/stockscanner/tls/privkey.pem": str(key),
        "/var/www/letsencrypt": str(folder / "acme"),
    }
    if http_port is not None:
        swaps["listen 80;"] = f"listen 127.0.0.1:{http_port};"
    if https_port is not None:
        swaps["listen 443 ssl http2;"] = f"listen 127.0.0.1:{https_port} ssl http2;"
    for old, new in swaps.items():
        assert old in site, f"the site file no longer has {old!r}"
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (folder / "acme").mkdir(exist_ok=True)
    (folder / "site.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
    main = folder / "nginx.conf"
    main.write_text(f"""{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
daemon off;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
{temp}
    include {folder / "site.conf"};
}}
""")
    return main


def nginx_test(main: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([need("nginx"), "-t", "-q", "-e", str(main.parent / "error.log"),
                           "-p", str(main.parent), "-c", str(main)], capture_output=True, text=True, timeout=30)


def test_site_config_passes_nginx_t(tmp_path: Path) -> None:
    need("nginx")
    cert, key = self_signed(tmp_path)
    upstream = tmp_path / "upstream.conf"
    upstream.write_text("server 127.0.0.1:8001 max_fails=3 fail_timeout=10s;\n"
                        "server 127.0.0.1:8002 max_fails=3 fail_timeout=10s;\n")
    site = (DEPLOY / "nginx" / "stockscanner.conf").read_text()
    r = nginx_test(render(site, tmp_path, upstream, cert, key))
    assert r.returncode == 0, r.stderr
    # nginx -t does refuse a broken site (the check is not vacuous)
    r = nginx_test(render(site.replace("proxy_next_upstream_tries 3;", "proxy_next_upstream_tries;"),
                          tmp_path, upstream, cert, key))
    assert r.returncode != 0 and "proxy_next_upstream_tries" in r.stderr


class Nginx:
    def __init__(self, proc: subprocess.Popen[bytes], http_port: int, https_port: int, cert: Path) -> None:
        self.proc, self.cert = proc, cert
        self.tls = ssl.create_default_context(cafile=str(cert))
        self.http_url, self.https_url = f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}"


@pytest.fixture
def stack(pg_url: str, tmp_path: Path) -> Iterator[tuple[Nginx, list[Worker]]]:  # noqa: F811
    exe = need("nginx")
    workers = start_workers(pg_url, tmp_path / "workers", extra_env={"STOCKSCANNER_TRUSTED_PROXIES": "127.0.0.1"},
                            extra_args=["--access-log"])
    folder = tmp_path / "nginx"
    folder.mkdir()
    cert, key = self_signed(folder)
    upstream = folder / "upstream.conf"
    upstream.write_text("".join(f"server 127.0.0.1:{w.port} max_fails=3 fail_timeout=10s;\n" for w in workers))
    http_port, https_port = _free_port(), _free_port()
    main = render((DEPLOY / "nginx" / "stockscanner.conf").read_text(), folder, upstream, cert, key,
                  http_port, https_port)
    proc = subprocess.Popen([exe, "-e", str(folder / "error.log"), "-p", str(folder), "-c", str(main)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    front = Nginx(proc, http_port, https_port, cert)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (folder / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not answer"
            try:
                httpx.get(f"{front.https_url}/health", verify=front.tls, timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield front, workers
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        stop_workers(workers)


def test_tls_load_balancing_forwarded_address_and_failover(stack: tuple[Nginx, list[Worker]]) -> None:
    front, (a, b) = stack
    # port 80: redirect to https (except the ACME challenge and the local /health)
    r = httpx.get(f"{front.http_url}/me", headers={"Host": "api.example.com"})
    assert r.status_code == 308 and r.headers["location"] == "https://api.example.com/me"
    assert httpx.get(f"{front.http_url}/health").json() == {"status": "ok"}

    with httpx.Client(base_url=front.https_url, verify=front.tls, timeout=30) as http:
        assert http.get("/ready").json()["status"] == "ready"
        assert http.post("/auth/register", json={"email": "lb@example.com", "password": PASSWORD}).status_code == 202
        # a client's own X-Forwarded-For is replaced by nginx with the real peer address
        r = http.post("/auth/login", json={"email": "lb@example.com", "password": PASSWORD},
                      headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 200, r.text
        pair = r.json()
        auth = {"Authorization": f"Bearer {pair['access_token']}"}
        for _ in range(8):
            assert http.get("/me", headers=auth).status_code == 200
        audit = http.get("/me/audit", headers=auth).json()["items"]
        login = next(e for e in audit if e["action"] == "login.succeeded")
        assert login["ip"] == "127.0.0.1"
        # both workers served some of those requests
        served = [w.log.read_text().count('"GET /me HTTP/1.1" 200') for w in (a, b)]
        assert min(served) >= 1 and sum(served) == 8, served

        # a worker goes away: nginx sends every request to the other one
        a.proc.terminate()
        a.proc.wait(timeout=20)
        for _ in range(6):
            assert http.get("/me", headers=auth).status_code == 200
        r = http.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert r.status_code == 200, r.text
