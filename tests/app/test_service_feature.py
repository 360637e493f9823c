"""The service feature in the workstation: with no service URL the window starts the built-in
service after its first frame and closing the workstation stops it; a bad URL is refused by the
settings schema with a sentence."""
from __future__ import annotations

import os

import pytest

from app.main import build_workstation, open_workspace
from tests.procs import alive


def test_the_window_starts_the_built_in_service_and_closing_stops_it(home, qtbot, monkeypatch):
    monkeypatch.setattr("app.features.service.AUTOSTART", True)
    from app.features.service import link

    ws = build_workstation()
    qtbot.addWidget(ws.window)
    ws.window.resize(1280, 800)
    ws.window.show()
    open_workspace(ws)
    try:
        qtbot.waitUntil(lambda: ws.ctx.has_service(__import__("sync.link", fromlist=["ServiceLink"]).ServiceLink),
                        timeout=30000)
        svc_link = link(ws.ctx)
        qtbot.waitUntil(lambda: svc_link.base_url is not None, timeout=90000)
        assert svc_link.embedded and svc_link.base_url.startswith("http://127.0.0.1:")
        import requests

        assert requests.get(f"{svc_link.base_url}/ready", timeout=5).json()["status"] == "ready"
        # the account feature's client follows it, under the stable identity "embedded"
        from app.features.account import hub

        qtbot.waitUntil(lambda: hub(ws.ctx).client is not None, timeout=20000)
        assert hub(ws.ctx).client.base_url.rstrip("/") == svc_link.base_url
        assert hub(ws.ctx).client.identity == "embedded"
        pid = svc_link.embedded_service.pid
        assert pid and alive(pid)
        assert (home / "server.sqlite3").exists()
    finally:
        qtbot.waitUntil(lambda: not ws.ctx.tasks.active, timeout=20000)
        ws.window._really_quit = True
        ws.close()
    assert not alive(pid)


def test_the_schema_refuses_plain_http_to_another_machine(home, qtbot):
    ws = build_workstation()
    qtbot.addWidget(ws.window)
    try:
        problem = ws.ctx.settings.validate("service/url", "http://svc.example.com")
        assert problem and "unencrypted" in problem
        assert ws.ctx.settings.validate("service/url", "https://svc.example.com") is None
        assert ws.ctx.settings.get("service/url") == "" and ws.ctx.settings.get("service/embedded") is True
    finally:
        ws.window._really_quit = True
        ws.close()
