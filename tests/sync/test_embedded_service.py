"""The embedded service child process (sync/embedded.py, server/embedded.py): it starts on an
ephemeral loopback port with the data folder's SQLite file and 0600 key, answers /ready, keeps
its key across restarts, stops when asked, stops when its parent is killed, and explains a
failed start."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from engine.events import EventBus
from sync.embedded import EmbeddedService, EmbeddedServiceError
from sync.events import ServiceAvailable, ServiceUnavailable
from sync.link import ServiceLink, service_url_problem
from tests.procs import alive

REPO = Path(__file__).resolve().parents[2]


def test_starts_serves_keeps_its_key_and_stops(tmp_path):
    svc = EmbeddedService(tmp_path)
    svc.start()
    try:
        url = svc.wait_ready()
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) != 8765
        assert requests.get(f"{url}/health", timeout=5).json() == {"status": "ok"}
        ready = requests.get(f"{url}/ready", timeout=5).json()
        assert ready["status"] == "ready" and ready["revision"] == ready["head"]
        key_file = tmp_path / "server-secret.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert (tmp_path / "server.sqlite3").exists()
        key = key_file.read_text()
        pid = svc.pid
    finally:
        svc.stop()
    assert pid is not None and not alive(pid) and not svc.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/health", timeout=2)
    svc.start()  # the same folder again: the same key, the same database
    try:
        svc.wait_ready()
        assert (tmp_path / "server-secret.key").read_text() == key
    finally:
        svc.stop()


def test_the_child_stops_when_its_parent_is_killed(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from sync.embedded import EmbeddedService
        s = EmbeddedService(__import__("pathlib").Path({str(tmp_path)!r}))
        s.start()
        s.wait_ready()
        print(s.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()  # type: ignore[union-attr]
        child = int(line)
        assert alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 20
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(child), "the embedded service outlived its killed parent"
    finally:
        parent.kill()


def test_a_failed_start_says_why(tmp_path):
    (tmp_path / "server.sqlite3").write_bytes(b"this is not a database, it is text\n" * 100)
    svc = EmbeddedService(tmp_path)
    svc.start()
    try:
        with pytest.raises(EmbeddedServiceError) as err:
            svc.wait_ready(timeout=60)
    finally:
        svc.stop()
    message = str(err.value)
    assert "the embedded service stopped" in message and "service.log" in message
    assert "not a database" in message.lower() or "DatabaseError" in message


def test_a_configured_url_starts_nothing_and_a_turned_off_service_says_so(tmp_path):
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(ServiceAvailable, seen.append)
    bus.subscribe(ServiceUnavailable, seen.append)
    link = ServiceLink(bus, tmp_path, url="https://service.example.com/")
    link.connect().join(5)
    assert seen == [ServiceAvailable("https://service.example.com", embedded=False)]
    assert link.embedded_service is None and link.base_url == "https://service.example.com"
    off = ServiceLink(bus, tmp_path, url="", embedded=False)
    off.connect().join(5)
    assert isinstance(seen[-1], ServiceUnavailable) and "turned off" in seen[-1].reason
    assert off.base_url is None and off.embedded_service is None


def test_the_link_starts_the_embedded_service_and_stops_it_on_close(tmp_path):
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(ServiceAvailable, seen.append)
    link = ServiceLink(bus, tmp_path)
    link.connect().join(90)
    try:
        assert link.base_url and seen == [ServiceAvailable(link.base_url, embedded=True)]
        svc = link.embedded_service
        assert svc is not None and svc.ready
        pid = svc.pid
        # a hosted URL replaces it: the child stops
        link.reconfigure("https://hosted.example.com").join(5)
        assert link.embedded_service is None and link.base_url == "https://hosted.example.com"
        assert pid is not None and not alive(pid)
        link.reconfigure("").join(90)
        assert link.embedded_service is not None and link.base_url and link.base_url.startswith("http://127.0.0.1:")
        pid = link.embedded_service.pid
    finally:
        link.close()
    assert pid is not None and not alive(pid) and link.base_url is None


@pytest.mark.parametrize("url, ok", [
    ("", True), ("https://svc.example.com", True), ("https://svc.example.com:8443/", True),
    ("http://127.0.0.1:8765", True), ("http://localhost:9000", True),
    ("http://svc.example.com", False), ("ftp://svc.example.com", False), ("svc.example.com", False),
    ("https://user:pw@svc.example.com", False), ("https://svc.example.com:99999", False),
    ("https://svc.example.com/?x=1", False),
])
def test_service_urls(url, ok):
    assert (service_url_problem(url) is None) is ok, service_url_problem(url)
