"""Workspaces through the service (sync.workspaces over a real service on loopback): my
workspace from one machine comes back on another; someone else's public one loads without
replacing a local one; private ones stay private."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.store.db import open_database
from engine.store.kv import KeyValueStore
from engine.workspaces import WorkspaceStore
from sync.client import NotFound, ServiceClient, make_session
from sync.tokens import KeyringTokenStore
from sync.workspaces import WorkspacePublisher
from tests.sync.conftest import PASSWORD


def _machine(tmp_path: Path, name: str, loopback: Any, email: str, register: bool = True) -> WorkspacePublisher:
    db = open_database(tmp_path / f"{name}.sqlite3")
    client = ServiceClient(loopback.url, KeyringTokenStore(f"{loopback.url}#{name}"),
                           session=make_session(backoff_s=0.01))
    if register:
        client.register(email, PASSWORD)
    client.login(email, PASSWORD)
    return WorkspacePublisher(client, WorkspaceStore(KeyValueStore(db)))


def test_a_workspace_round_trips_through_the_service(loopback: Any, memory_keyring: Any, tmp_path: Path) -> None:
    laptop = _machine(tmp_path, "laptop", loopback, "a@example.com")
    desk = _machine(tmp_path, "desk", loopback, "a@example.com", register=False)
    other = _machine(tmp_path, "other", loopback, "b@example.com")
    swing = laptop.store.get("Swing")
    mine = swing.model_copy(update={"links": {"chart": "green"}, "state": {"chart": {"symbol": "ACME"}}})
    laptop.store.put(mine)
    published = laptop.publish("Swing", "private", "laptop swing")
    assert published.mine and published.visibility == "private"
    # my other machine lists it and gets exactly what was saved, replacing its local Swing
    assert [p.name for p in desk.mine()] == ["Swing"]
    assert desk.store.get("Swing") != mine
    assert desk.load(published.id) == mine and desk.store.get("Swing") == mine
    # another user sees nothing of a private workspace
    assert other.public() == [] and other.mine() == []
    with pytest.raises(NotFound):
        other.load(published.id)
    # made public: the other user loads it beside their own Swing, which stays as it was
    laptop.set_visibility(published.id, "public")
    theirs = other.store.get("Swing")
    listed = other.public("swing")
    assert [(p.id, p.mine) for p in listed] == [(published.id, False)]
    loaded = other.load(published.id)
    assert loaded.name.startswith("Swing (") and loaded.links == {"chart": "green"}
    assert other.store.get("Swing") == theirs and loaded.name in other.store.names()
    # the owner deletes it: gone for everyone
    laptop.delete(published.id)
    assert other.public() == [] and laptop.mine() == []
