"""Education sync (Qt-free): the user's progress goes to the service through the outbox, the
service's progress and content come back with the sync round.

``EducationSync.round(client, store)`` runs inside ``SyncService``'s round (``extras``), on the
sync thread, after the watchlists:

1. *Record*: every local progress row (``engine.education.progress``) not yet in the cache of
   what was sent (``sync_cache`` kind ``edu``), and an enrollment in each course started, is queued in the same outbox as every other write
   (same account, order kept, ``Idempotency-Key``): a read or a done exercise as ``PUT
   /education/progress/…``, a seen tour as ``PUT /education/tutorials/…/seen``, a quiz
   submission as its *answers* to ``POST …/submit`` — the service scores them; no score is
   ever sent. Works offline: the writes wait in the outbox.
2. The outbox is delivered by ``SyncService`` (retries, backoff, refusals kept aside).
3. *Pull*: ``GET /education/progress`` merged into the local store (a quiz takes the service's
   score, ``verified``), and ``GET /education/content`` from the content cursor into the
   local content cache (newer than the bundled files wins in the app).
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any
from urllib.parse import quote

from engine.education.progress import ProgressItem, ProgressStore
from sync.client import BadResponse, ServiceClient
from sync.outbox import CachedItem, SyncStore

log = logging.getLogger("stockscanner.sync")
KIND = "edu"
PAGE = 200


def _key(item: ProgressItem) -> str:
    return hashlib.sha256(f"{item.kind}\n{item.course_id}\n{item.material_id}".encode()).hexdigest()[:48]


def _q(text: str) -> str:
    return quote(text, safe="")


def write_for(item: ProgressItem) -> tuple[str, str, dict[str, Any]] | None:
    """(method, path, body) that tells the service about ``item``, None when there is nothing
    to send (a quiz without answers)."""
    if item.kind == "tour":
        return "PUT", f"/education/tutorials/{_q(item.material_id)}/seen", {}
    if item.kind in ("read", "exercise"):
        return "PUT", f"/education/progress/{_q(item.course_id)}/{_q(item.material_id)}", {"kind": item.kind}
    answers = item.detail.get("answers")
    if not isinstance(answers, dict):
        return None
    return ("POST", f"/education/courses/{_q(item.course_id)}/quizzes/{_q(item.material_id)}/submit",
            {"answers": {str(k): [str(c) for c in v] for k, v in answers.items()}})


class EducationSync:
    def __init__(self, progress: ProgressStore) -> None:
        self.progress = progress

    def record(self, store: SyncStore) -> int:
        """Queue a write for each local progress row the service has not been told about."""
        queued = 0
        items = [i for i in self.progress.items() if not (i.kind == "quiz" and i.verified)]
        with store.db.connect() as c:
            sent = store.items(KIND, c)
            for item in items:
                write = write_for(item)
                if write is None:
                    continue
                key = _key(item)
                data = {"course_id": item.course_id, "material_id": item.material_id, "kind": item.kind,
                        "body": write[2]}
                old = sent.get(key)
                if old is not None and old.data == data:
                    continue
                store.enqueue(c, write[0], write[1], write[2], KIND, key)
                store.put_cache(c, CachedItem(KIND, key, data, False, old.version if old else 0,
                                              old.updated_at if old else ""))
                queued += 1
            # a course the user has started is one they are enrolled in (once per course)
            for course_id in sorted({i.course_id for i in items if i.course_id}):
                key = hashlib.sha256(f"enroll\n{course_id}".encode()).hexdigest()[:48]
                if key not in sent:
                    store.enqueue(c, "POST", f"/education/courses/{_q(course_id)}/enroll", {}, KIND, key)
                    store.put_cache(c, CachedItem(KIND, key, {"enroll": course_id}, False, 0, ""))
                    sent[key] = CachedItem(KIND, key, {"enroll": course_id}, False, 0, "")
                    queued += 1
        return queued

    def pull(self, client: ServiceClient, store: SyncStore) -> int:
        """Merge the service's progress and the content changed since the cursor; returns how
        many rows changed here."""
        rows = client.call("GET", "/education/progress").body
        if not isinstance(rows, list):
            raise BadResponse("The service answered education progress in an unknown shape.")
        n = 0
        with store.db.connect(write=False) as c:
            pending = {r[0] for r in c.execute("SELECT key FROM sync_outbox WHERE account=? AND kind=? AND failed=0",
                                               (store.account, KIND))}
        for r in rows:
            try:
                item = ProgressItem(str(r["course_id"]), str(r["material_id"]), str(r["kind"]), bool(r["done"]),
                                    None if r.get("score") is None else float(r["score"]), bool(r["passed"]),
                                    r["kind"] == "quiz", {}, 0.0)
            except (KeyError, TypeError, ValueError):
                raise BadResponse("The service answered education progress in an unknown shape.") from None
            if _key(item) in pending:
                continue  # our newer submission is still on its way
            old = self.progress.get(*item.key)
            if old is not None and old.kind == "quiz":
                item = ProgressItem(item.course_id, item.material_id, "quiz", item.done, item.score, item.passed,
                                    True, old.detail)
            if old is None or old.kind == "quiz" and (not old.verified or old.score != item.score):
                self.progress.merge(item)
                n += 1
        return n + self.pull_content(client, store)

    def pull_content(self, client: ServiceClient, store: SyncStore) -> int:
        cursors = SyncStore(store.db, store.account + "|edu-content")
        cur = cursors.cursor()
        updated_after, after_id = (cur[0] or None, cur[1]) if cur else (None, 0)
        n = 0
        for _ in range(1000):
            params: dict[str, Any] = {"after_id": after_id, "limit": PAGE}
            if updated_after:
                params["updated_after"] = updated_after
            page = client.call("GET", "/education/content", params=params).body
            if not isinstance(page, dict) or not isinstance(page.get("items"), list):
                raise BadResponse("The service answered education content in an unknown shape.")
            try:
                n += self.progress.put_content((str(i["kind"]), str(i["key"]), int(i["version"]), dict(i["data"]),
                                                str(i["updated_at"])) for i in page["items"])
                cursor = page["cursor"]
                updated_after = cursor.get("updated_after") or updated_after
                after_id = int(cursor.get("after_id") or 0)
            except (KeyError, TypeError, ValueError, AttributeError):
                raise BadResponse("The service answered education content in an unknown shape.") from None
            if not page.get("more"):
                break
        with store.db.connect() as c:
            cursors.set_cursor(c, updated_after or "", after_id)
        return n

    def round(self, client: ServiceClient, store: SyncStore) -> None:
        """The education part of a sync round: pull (after ``SyncService`` delivered the outbox)."""
        self.pull(client, store)



# --- the admin page's calls (blocking: the app runs them in workers) ---------------------------

def admin_list(client: ServiceClient) -> list[tuple[str, str]]:
    """(kind, key) of every course and glossary term on the service."""
    courses = client.call("GET", "/education/courses").body
    terms = client.call("GET", "/education/glossary", params={"limit": 500}).body
    if not isinstance(courses, list) or not isinstance(terms, list):
        raise BadResponse("The service answered the education lists in an unknown shape.")
    return [("course", str(c["id"])) for c in courses] + [("term", str(t["id"])) for t in terms]


def admin_get(client: ServiceClient, kind: str, key: str) -> dict[str, Any]:
    """The stored JSON of a course (answers included; admins only) or a term."""
    if kind == "course":
        body = client.call("GET", f"/admin/education/courses/{_q(key)}").body
        data = body.get("data") if isinstance(body, dict) else None
    else:
        data = client.call("GET", f"/education/glossary/{_q(key)}").body
    if not isinstance(data, dict):
        raise BadResponse("The service answered education content in an unknown shape.")
    return data


def admin_put(client: ServiceClient, kind: str, key: str, data: dict[str, Any]) -> int:
    """Save an edited course or term (validated by the service); returns its new version."""
    path = f"/admin/education/courses/{_q(key)}" if kind == "course" else f"/admin/education/glossary/{_q(key)}"
    body = client.call("PUT", path, data).body
    if not isinstance(body, dict):
        raise BadResponse("The service answered an education edit in an unknown shape.")
    return int(body.get("version", 0))
