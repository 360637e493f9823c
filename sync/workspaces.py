"""Published workspaces on the service (``server/routers/workspaces.py``): publish one of this
machine's workspaces (private or public), list mine and everyone's public ones, load one into
the local store. Qt-free and blocking (network): the app calls it in a worker."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from engine.workspaces import MAX_NAME, Workspace, WorkspaceError, WorkspaceStore, check_name, parse
from sync.client import BadResponse, ServiceClient

Visibility = Literal["private", "public"]


@dataclass(frozen=True, slots=True)
class Published:
    """One published workspace as the service lists it."""

    id: int
    name: str
    visibility: str
    description: str
    owner: str
    mine: bool
    docks: int
    updated_at: str

    @classmethod
    def of(cls, raw: dict[str, Any], base_url: str) -> "Published":
        try:
            return cls(int(raw["id"]), str(raw["name"]), str(raw["visibility"]), str(raw.get("description", "")),
                       str(raw.get("owner", "")), bool(raw.get("mine")), int(raw.get("docks", 0)),
                       str(raw.get("updated_at", "")))
        except (KeyError, TypeError, ValueError):
            raise BadResponse(f"The service at {base_url} listed a workspace in an unknown shape.") from None


class WorkspacePublisher:
    """Moves workspaces between ``store`` (this machine) and the service behind ``client``."""

    def __init__(self, client: ServiceClient, store: WorkspaceStore) -> None:
        self.client, self.store = client, store

    def _items(self, path: str, params: dict[str, Any] | None = None) -> list[Published]:
        body = self.client.call("GET", path, params=params).body
        if not isinstance(body, list) or not all(isinstance(x, dict) for x in body):
            raise BadResponse(f"The service at {self.client.base_url} answered a list in an unknown shape.")
        return [Published.of(x, self.client.base_url) for x in body]

    def mine(self) -> list[Published]:
        return self._items("/workspaces")

    def public(self, query: str = "", offset: int = 0, limit: int = 50) -> list[Published]:
        return self._items("/workspaces/public", {"q": query[:60], "offset": max(0, offset),
                                                   "limit": max(1, min(100, limit))})

    def publish(self, name: str, visibility: Visibility = "private", description: str = "") -> Published:
        """Publish the local workspace ``name`` (the service replaces an earlier one of that name)."""
        if visibility not in ("private", "public"):
            raise ValueError(f"visibility must be private or public, not {visibility!r}")
        ws = self.store.get(name)
        body = self.client.call("POST", "/workspaces", {"workspace": ws.to_dict(), "visibility": visibility,
                                                        "description": description[:500]}).body
        if not isinstance(body, dict):
            raise BadResponse(f"The service at {self.client.base_url} answered a publish in an unknown shape.")
        return Published.of(body, self.client.base_url)

    def fetch(self, workspace_id: int) -> tuple[Workspace, Published]:
        """The published workspace ``workspace_id`` (checked like an imported file) and its listing."""
        body = self.client.call("GET", f"/workspaces/{int(workspace_id)}").body
        if not isinstance(body, dict) or not isinstance(body.get("workspace"), dict):
            raise BadResponse(f"The service at {self.client.base_url} answered a workspace in an unknown shape.")
        try:
            ws = parse(body["workspace"], "the workspace from the service")
        except WorkspaceError as exc:
            raise BadResponse(f"The service at {self.client.base_url} sent a workspace that is not valid: {exc}") from None
        return ws, Published.of(body, self.client.base_url)

    def load(self, workspace_id: int, name: str | None = None) -> Workspace:
        """Fetch ``workspace_id`` and keep it in the local store; returns what was stored.

        The name: ``name`` when given; else its own name when it is mine (my workspace from
        another machine replaces the local copy) or no local workspace has it; else someone
        else's workspace gets "NAME (OWNER)" (then "NAME (OWNER) 2", …) so a local one is
        never overwritten by another user's."""
        ws, info = self.fetch(workspace_id)
        if name is None:
            name = ws.name
            taken = set(self.store.names())
            if not info.mine and name in taken:
                stem = f"{ws.name} ({info.owner})"[:MAX_NAME - 3].strip()
                name, n = stem, 2
                while name in taken:
                    name, n = f"{stem} {n}", n + 1
        if name != ws.name:
            ws = ws.model_copy(update={"name": check_name(name)})
        self.store.put(ws)
        return ws

    def set_visibility(self, workspace_id: int, visibility: Visibility) -> Published:
        body = self.client.call("PATCH", f"/workspaces/{int(workspace_id)}", {"visibility": visibility}).body
        if not isinstance(body, dict):
            raise BadResponse(f"The service at {self.client.base_url} answered in an unknown shape.")
        return Published.of(body, self.client.base_url)

    def delete(self, workspace_id: int) -> None:
        self.client.call("DELETE", f"/workspaces/{int(workspace_id)}")
