"""The no-network guard (tests/netguard.py) refuses what it must, allows loopback, covers
child processes, and makes the test that tried fail."""
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from tests import netguard

UNROUTABLE = "203.0.113.7"  # TEST-NET-3 (RFC 5737): never a real host


def _refused(call) -> list[str]:
    with pytest.raises(netguard.NetworkBlocked, match="Network is unreachable"):
        call()
    out = netguard.take_violations()
    assert out, "refused but not recorded"
    return out


def test_non_loopback_connections_and_lookups_are_refused_and_recorded():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        assert UNROUTABLE in _refused(lambda: s.connect((UNROUTABLE, 80)))[0]
        assert UNROUTABLE in _refused(lambda: s.connect_ex((UNROUTABLE, 80)))[0]
    finally:
        s.close()
    assert "example.com" in _refused(lambda: socket.getaddrinfo("example.com", 443))[0]
    assert "example.com" in _refused(lambda: socket.create_connection(("example.com", 443), 1))[0]
    assert "example.com" in _refused(lambda: socket.gethostbyname("example.com"))[0]
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        _refused(lambda: u.sendto(b"x", ("2001:db8::1", 53)))
    finally:
        u.close()


def test_the_offline_path_of_the_code_is_taken():
    # NetworkBlocked is an OSError, as a real outage is: the code under test sees no network.
    import urllib.request

    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{UNROUTABLE}/", timeout=1)
    assert netguard.take_violations()


def test_curl_requests_are_refused():
    pytest.importorskip("curl_cffi")
    from curl_cffi import requests

    with pytest.raises(Exception, match="Network is unreachable"):
        requests.get("https://query2.finance.yahoo.com/v8/finance/chart/ORCL", timeout=2)
    assert any("finance.yahoo.com" in v for v in netguard.take_violations())


def test_loopback_unix_and_local_names_are_allowed():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as c:
            assert c.connect_ex(("localhost", server.getsockname()[1])) == 0
    finally:
        server.close()
    a, b = socket.socketpair(socket.AF_UNIX)
    a.close(), b.close()
    assert socket.getaddrinfo("localhost", 80)
    assert socket.getaddrinfo(None, 80)
    for host in ("127.0.0.1", "127.3.4.5", "::1", "[::1]", "::ffff:127.0.0.1", "0.0.0.0", "localhost"):
        assert netguard.is_local_host(host), host
    for host in ("10.0.0.1", "192.168.1.1", "8.8.8.8", "2001:db8::1", "yahoo.com", "localhost.evil.com"):
        assert not netguard.is_local_host(host), host
    assert netguard.take_violations() == []


def test_child_processes_are_guarded_and_reported():
    code = textwrap.dedent(f"""
        import socket
        try:
            socket.create_connection(("{UNROUTABLE}", 80), timeout=1)
        except OSError as e:
            print(type(e).__name__)
    """)
    r = subprocess.run([sys.executable, "-c", code], env=dict(os.environ), capture_output=True,
                       text=True, timeout=60)
    assert r.stdout.strip() == "NetworkBlocked", r.stdout + r.stderr
    refused = netguard.take_violations()
    assert any(UNROUTABLE in v and f"pid {os.getpid()}" not in v for v in refused), refused


def test_a_test_that_reaches_the_network_fails(pytester_like_run):
    out = pytester_like_run("""
        import socket

        def test_swallows_the_error():
            try:
                socket.getaddrinfo("query2.finance.yahoo.com", 443)
            except OSError:
                pass

        def test_offline_is_fine():
            assert socket.getaddrinfo("localhost", 80)
    """)
    assert "1 failed, 1 passed" in out, out
    assert "this test tried to reach the network" in out and "query2.finance.yahoo.com" in out, out


@pytest.fixture
def pytester_like_run(tmp_path):
    """Run a test file in a child pytest with this suite's conftest (and so its guard)."""
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent

    def run(source: str) -> str:
        pkg = tmp_path / "tests"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "netguard.py").write_text((repo / "tests" / "netguard.py").read_text())
        (pkg / "conftest.py").write_text((repo / "tests" / "conftest.py").read_text())
        (pkg / "test_it.py").write_text(textwrap.dedent(source))
        env = {k: v for k, v in os.environ.items() if k != netguard.ENV_LOG}
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_it.py"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        return r.stdout + r.stderr

    return run
