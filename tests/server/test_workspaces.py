"""Published workspaces: publish, list, load, replace by name, public/private, owner-only changes."""
from __future__ import annotations

from typing import Any

from engine.workspaces import defaults


def _ws(name: str, **extra: Any) -> dict[str, Any]:
    return {"format": "stockscanner-workspace", "version": 1, "name": name, **extra}


def test_publish_list_load_replace_and_visibility(service: Any) -> None:
    a = service.user("a@example.com")
    b = service.user("b@example.com")
    swing = next(w for w in defaults() if w.name == "Swing").to_dict()
    r = service.client.post("/workspaces", headers=a, json={"workspace": swing, "description": "my swing desk"})
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["visibility"] == "private" and first["mine"] and first["docks"] == len(swing["docks"])
    assert first["workspace"] == swing
    # B sees neither A's list nor A's private workspace
    assert service.client.get("/workspaces", headers=b).json() == []
    assert service.client.get(f"/workspaces/{first['id']}", headers=b).status_code == 404
    assert service.client.get("/workspaces/public", headers=b).json() == []
    # the same name again replaces it (one per owner and name), now public
    swing2 = dict(swing, links={"chart": "red"})
    r = service.client.post("/workspaces", headers=a, json={"workspace": swing2, "visibility": "public"})
    assert r.status_code == 200 and r.json()["id"] == first["id"]
    listed = service.client.get("/workspaces/public", headers=b, params={"q": "swi"}).json()
    assert [(w["name"], w["mine"], w["owner"] != "you") for w in listed] == [("Swing", False, True)]
    got = service.client.get(f"/workspaces/{first['id']}", headers=b).json()
    assert got["workspace"]["links"] == {"chart": "red"} and got["mine"] is False
    assert service.client.get("/workspaces/public", headers=b, params={"q": "day"}).json() == []
    # B cannot change or delete A's public workspace
    assert service.client.patch(f"/workspaces/{first['id']}", headers=b, json={"visibility": "private"}).status_code == 404
    assert service.client.delete(f"/workspaces/{first['id']}", headers=b).status_code == 404
    # A makes it private again: B loses it at once
    r = service.client.patch(f"/workspaces/{first['id']}", headers=a, json={"visibility": "private"})
    assert r.status_code == 200 and r.json()["visibility"] == "private"
    assert service.client.get(f"/workspaces/{first['id']}", headers=b).status_code == 404
    assert service.client.delete(f"/workspaces/{first['id']}", headers=a).status_code == 204
    assert service.client.get("/workspaces", headers=a).json() == []


def test_a_bad_workspace_is_refused_with_its_error(service: Any) -> None:
    a = service.user("a@example.com")
    r = service.client.post("/workspaces", headers=a, json={"workspace": _ws("X", docks=[{"id": "bad id!"}])})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_workspace"
    assert "docks" in r.json()["error"]["message"]
    r = service.client.post("/workspaces", headers=a, json={"workspace": {"format": "something else", "name": "X"}})
    assert r.status_code == 422
    r = service.client.post("/workspaces", headers=a, json={"workspace": _ws("Big", state={"chart": {"x": "y" * 50_000}})})
    assert r.status_code == 413 and r.json()["error"]["code"] == "workspace_too_large"
    assert service.client.get("/workspaces", headers=a).json() == []


def test_a_user_keeps_at_most_max_per_user(service: Any, monkeypatch: Any) -> None:
    from server.routers import workspaces

    monkeypatch.setattr(workspaces, "MAX_PER_USER", 2)
    a = service.user("a@example.com")
    for name in ("One", "Two"):
        assert service.client.post("/workspaces", headers=a, json={"workspace": _ws(name)}).status_code == 200
    r = service.client.post("/workspaces", headers=a, json={"workspace": _ws("Three")})
    assert r.status_code == 409 and r.json()["error"]["code"] == "too_many_workspaces"
    # replacing an existing name is not a new one
    assert service.client.post("/workspaces", headers=a, json={"workspace": _ws("Two")}).status_code == 200
