"""The sync API: idempotent writes, tombstones, cursor pulls, per-user namespaces (both databases)."""
from __future__ import annotations

import uuid
from typing import Any

WL = "/sync/items/watchlist"


def _put(service: Any, headers: dict[str, str], key: str, data: dict[str, Any], idem: str | None = None) -> Any:
    h = dict(headers)
    if idem:
        h["Idempotency-Key"] = idem
    return service.client.put(f"{WL}/{key}", headers=h, json={"data": data})


def test_a_write_retried_with_its_key_is_applied_once_and_answers_the_first_answer(service: Any) -> None:
    a = service.user("a@example.com")
    idem = uuid.uuid4().hex
    first = _put(service, a, "k1", {"name": "Tech", "symbols": ["aapl", "MSFT"]}, idem)
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1 and first.json()["data"]["symbols"] == ["aapl", "MSFT"]
    again = _put(service, a, "k1", {"name": "Tech", "symbols": ["aapl", "MSFT"]}, idem)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()  # the stored first answer, version still 1
    item = service.client.get(f"{WL}/k1", headers=a).json()
    assert item["version"] == 1
    # the same key with another body is refused, and changes nothing
    other = _put(service, a, "k1", {"name": "Tech", "symbols": ["IBM"]}, idem)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert service.client.get(f"{WL}/k1", headers=a).json()["data"]["symbols"] == ["aapl", "MSFT"]
    # without a key (or with a new one) a write is a new write
    assert _put(service, a, "k1", {"name": "Tech", "symbols": ["IBM"]}, uuid.uuid4().hex).json()["version"] == 2


def test_keys_are_per_user(service: Any) -> None:
    a = service.user("a@example.com")
    b = service.user("b@example.com")
    idem = uuid.uuid4().hex
    assert _put(service, a, "k1", {"name": "A", "symbols": []}, idem).status_code == 200
    r = _put(service, b, "k1", {"name": "B", "symbols": []}, idem)
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers and r.json()["data"]["name"] == "B"
    assert service.client.get(f"{WL}/k1", headers=a).json()["data"]["name"] == "A"


def test_delete_leaves_a_tombstone_that_pulls_show(service: Any) -> None:
    a = service.user("a@example.com")
    _put(service, a, "k1", {"name": "One", "symbols": ["X"]}, uuid.uuid4().hex)
    r = service.client.delete(f"{WL}/k1", headers={**a, "Idempotency-Key": "delete-key-1"})
    assert r.status_code == 200 and r.json()["deleted"] is True and r.json()["data"] == {}
    assert r.json()["version"] == 2
    replay = service.client.delete(f"{WL}/k1", headers={**a, "Idempotency-Key": "delete-key-1"})
    assert replay.json() == r.json() and replay.headers["Idempotent-Replayed"] == "true"
    page = service.client.get("/sync/items", headers=a, params={"kind": "watchlist"}).json()
    assert [(i["key"], i["deleted"]) for i in page["items"]] == [("k1", True)]
    assert service.client.delete(f"{WL}/nope", headers=a).status_code == 404
    # a write brings it back
    assert _put(service, a, "k1", {"name": "One", "symbols": []}).json()["deleted"] is False


def test_pull_pages_by_cursor_with_a_stable_tie_break(service: Any) -> None:
    a = service.user("a@example.com")
    for i in range(7):
        _put(service, a, f"k{i}", {"name": f"L{i}", "symbols": []})
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3}
    for _ in range(5):
        page = service.client.get("/sync/items", headers=a, params=params).json()
        seen += [i["key"] for i in page["items"]]
        params = {"limit": 3, "updated_after": page["cursor"]["updated_after"], "after_id": page["cursor"]["after_id"]}
        if not page["more"]:
            break
    assert seen == [f"k{i}" for i in range(7)]
    # nothing new: the same cursor comes back, no items
    empty = service.client.get("/sync/items", headers=a, params=params).json()
    assert empty["items"] == [] and empty["more"] is False
    assert empty["cursor"]["after_id"] == params["after_id"]
    # a change shows up after the cursor
    _put(service, a, "k2", {"name": "changed", "symbols": []})
    later = service.client.get("/sync/items", headers=a, params=params).json()
    assert [(i["key"], i["data"]["name"], i["version"]) for i in later["items"]] == [("k2", "changed", 2)]


def test_pull_is_capped_and_answers_only_the_callers_items(service: Any) -> None:
    a = service.user("a@example.com")
    b = service.user("b@example.com")
    _put(service, a, "mine", {"name": "A's", "symbols": []})
    assert service.client.get("/sync/items", headers=b).json()["items"] == []
    r = service.client.get("/sync/items", headers=a, params={"limit": 501})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"


def test_bad_writes_are_refused_with_a_reason(service: Any) -> None:
    a = service.user("a@example.com")
    r = _put(service, a, "k", {"name": "x", "symbols": [], "owner": 7})
    assert r.status_code == 422 and "owner" in r.json()["error"]["message"]
    r = _put(service, a, "k", {"name": "", "symbols": []})
    assert r.status_code == 422 and "name" in r.json()["error"]["message"]
    r = service.client.put(f"{WL}/k", headers=a, json={"data": {"name": "x"}, "user_id": 2})
    assert r.status_code == 422
    r = service.client.put("/sync/items/nosuchkind/k", headers=a, json={"data": {}})
    assert r.status_code == 404 and "watchlist" in r.json()["error"]["message"]
    r = service.client.put(f"{WL}/bad key!", headers=a, json={"data": {"name": "x"}})
    assert r.status_code == 422
    r = service.client.put(f"{WL}/k", headers={**a, "Idempotency-Key": "short"}, json={"data": {"name": "x"}})
    assert r.status_code == 422


def test_deleting_the_account_deletes_its_items_and_keys(service: Any) -> None:
    from sqlalchemy import func, select

    from server.models import IdempotencyKey, SyncItem

    a = service.user("a@example.com")
    _put(service, a, "k", {"name": "x", "symbols": []}, uuid.uuid4().hex)
    r = service.client.request("DELETE", "/me", headers=a, json={"password": "correct horse battery staple 42"})
    assert r.status_code == 204
    with service.db() as db:
        assert db.execute(select(func.count()).select_from(SyncItem)).scalar() == 0
        assert db.execute(select(func.count()).select_from(IdempotencyKey)).scalar() == 0
