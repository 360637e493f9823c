"""Named workspaces: a dock arrangement plus each dock's own state, kept in the store's kv
table (``ui.workspaces``), exported and imported as JSON checked against a schema.

Qt-free: the app (``app/features/workspaces.py``) turns a workspace into a window layout; the
CLI (``stockscanner workspace list|export|import``) reads and writes the same store.

A workspace file::

    {"format": "stockscanner-workspace", "version": 1, "name": "Swing",
     "docks": [{"id": "chart", "spec": "chart", "area": "right", "visible": true,
                "tab_with": null, "split_with": null, "size": 0.6}, ...],
     "qt_state": "<base64 of QMainWindow.saveState>" | null,
     "state": {"chart": {...}}, "links": {"chart": "red"}}

``docks`` is the portable arrangement (areas, tab groups, splits, sizes as a fraction of the
window; the fractions of the docks side by side in a row should add up to 1), applied when there is no ``qt_state`` (the shipped defaults, hand-written files) or
when the exact Qt state cannot be restored. ``size`` is a fraction, so a workspace saved on a
2560×1440 screen opens proportionally on a 1280×800 one.

The schema is a pydantic model (pydantic is already a dependency of the service; its
validation errors carry the path of the bad field, which the error message names).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

FORMAT: Literal["stockscanner-workspace"] = "stockscanner-workspace"
VERSION: Literal[1] = 1
KV_KEY = "ui.workspaces"  # {"items": {name: workspace dict}, "current": name}
MAX_NAME = 60
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(-[0-9]+)?$")


class WorkspaceError(ValueError):
    """A bad workspace file or name: one sentence for the user."""


class DockEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(min_length=1, max_length=64)
    spec: str = Field(min_length=1, max_length=64)
    area: Literal["left", "right", "top", "bottom"] = "right"
    visible: bool = True
    tab_with: str | None = None
    split_with: str | None = None
    split: Literal["horizontal", "vertical"] = "horizontal"  # beside (h) or below (v) split_with
    size: float | None = Field(default=None, gt=0, le=1)

    @field_validator("id", "spec")
    @classmethod
    def _ascii_id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError(f"{v!r} is not a dock id (letters, digits, _ and an optional -N)")
        return v


class Workspace(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    format: Literal["stockscanner-workspace"] = FORMAT
    version: Literal[1] = VERSION
    name: str = Field(min_length=1, max_length=MAX_NAME)
    docks: list[DockEntry] = Field(default_factory=list, max_length=200)
    qt_state: str | None = None
    state: dict[str, dict[str, Any]] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def check_name(name: str) -> str:
    n = " ".join(str(name).split())
    if not n:
        raise WorkspaceError("a workspace needs a name")
    if len(n) > MAX_NAME:
        raise WorkspaceError(f"a workspace name has at most {MAX_NAME} characters")
    return n


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"field {loc}: {err['msg']}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def parse(data: object, source: str = "the workspace") -> Workspace:
    """A validated workspace, or WorkspaceError naming the bad field."""
    if not isinstance(data, dict):
        raise WorkspaceError(f"{source} is not a JSON object")
    if data.get("format") != FORMAT:
        raise WorkspaceError(f"{source} is not a Stock Scanner workspace (field format must be {FORMAT!r})")
    try:
        return Workspace.model_validate(data)
    except ValidationError as exc:
        raise WorkspaceError(f"{source} is not a valid workspace: {_describe(exc)}") from None


def read_file(path: str | Path) -> Workspace:
    p = Path(path)
    if not p.is_file():
        raise WorkspaceError(f"{p} is not a file")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{p.name} cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise WorkspaceError(f"{p.name} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return parse(data, p.name)


def write_file(ws: Workspace, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(ws.to_dict(), indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(p)
    return p


# --------------------------------------------------------------------------- shipped defaults


def _d(id_: str, area: str, size: float | None = None, tab_with: str | None = None,
       split_with: str | None = None, spec: str | None = None, split: str = "horizontal") -> DockEntry:
    return DockEntry(id=id_, spec=spec or id_.split("-")[0], area=area, visible=True,  # type: ignore[arg-type]
                     tab_with=tab_with, split_with=split_with, split=split, size=size)  # type: ignore[arg-type]


def defaults() -> list[Workspace]:
    """Day trading, Swing, Options, Review: real arrangements of the existing docks."""
    return [
        Workspace(name="Day trading", docks=[
            _d("watchlist", "left", 0.16),
            _d("chart", "right", 0.6),
            _d("chart-2", "right", None, split_with="chart", spec="chart", split="vertical"),
            _d("order_ticket", "right", 0.24, split_with="chart"),
            _d("positions", "bottom", 0.28),
            _d("orders", "bottom", tab_with="positions"),
            _d("fills", "bottom", tab_with="positions"),
            _d("news", "bottom", tab_with="positions"),
        ], links={"chart": "red", "chart-2": "red"}),
        Workspace(name="Swing", docks=[
            _d("watchlist", "left", 0.18),
            _d("chart", "right", 0.82),
            _d("scanner", "bottom", 0.32),
            _d("alerts", "bottom", tab_with="scanner"),
            _d("news", "bottom", tab_with="scanner"),
        ]),
        Workspace(name="Options", docks=[
            _d("watchlist", "left", 0.2),
            _d("options", "right", 0.8),
            _d("chart", "right", None, split_with="options", split="vertical"),
            _d("positions", "bottom", 0.22),
            _d("account", "bottom", tab_with="positions"),
        ]),
        # the journal needs ~680 px and the optimizer ~1040 px of width: the peers are tabs
        Workspace(name="Review", docks=[
            _d("journal", "right"),
            _d("chart", "right", tab_with="journal"),
            _d("order_history", "right", tab_with="journal"),
            _d("account", "right", tab_with="journal"),
            _d("optimizer", "right", tab_with="journal"),
        ]),
    ]


DEFAULT_NAMES = tuple(w.name for w in defaults())


# --------------------------------------------------------------------------- the store


class WorkspaceStore:
    """The named workspaces of one local store (kv ``ui.workspaces``). The shipped defaults
    are seeded on first use; the user may change or delete them like their own."""

    def __init__(self, kv: Any) -> None:
        self.kv = kv

    def _load(self) -> dict[str, Any]:
        raw = self.kv.get(KV_KEY)
        if not isinstance(raw, dict) or not isinstance(raw.get("items"), dict):
            raw = {"items": {w.name: w.to_dict() for w in defaults()}, "current": None, "order": list(DEFAULT_NAMES)}
            self.kv.set(KV_KEY, raw)
        raw.setdefault("order", list(raw["items"]))
        return raw

    def _save(self, raw: dict[str, Any]) -> None:
        self.kv.set(KV_KEY, raw)

    def names(self) -> list[str]:
        """In menu order (Ctrl+Alt+1 is the first)."""
        raw = self._load()
        order = [n for n in raw["order"] if n in raw["items"]]
        return order + sorted(n for n in raw["items"] if n not in order)

    def get(self, name: str) -> Workspace:
        raw = self._load()
        if name not in raw["items"]:
            known = ", ".join(self.names()) or "none"
            raise WorkspaceError(f"there is no workspace named {name!r} (known: {known})")
        return parse(raw["items"][name], f"the stored workspace {name!r}")

    def put(self, ws: Workspace) -> None:
        raw = self._load()
        raw["items"][ws.name] = ws.to_dict()
        if ws.name not in raw["order"]:
            raw["order"].append(ws.name)
        self._save(raw)

    def rename(self, old: str, new: str) -> None:
        new = check_name(new)
        raw = self._load()
        if old not in raw["items"]:
            raise WorkspaceError(f"there is no workspace named {old!r}")
        if new != old and new in raw["items"]:
            raise WorkspaceError(f"a workspace named {new!r} exists already")
        item = raw["items"].pop(old)
        item["name"] = new
        raw["items"][new] = item
        raw["order"] = [new if n == old else n for n in raw["order"]]
        if raw.get("current") == old:
            raw["current"] = new
        self._save(raw)

    def delete(self, name: str) -> None:
        raw = self._load()
        if name not in raw["items"]:
            raise WorkspaceError(f"there is no workspace named {name!r}")
        del raw["items"][name]
        raw["order"] = [n for n in raw["order"] if n != name]
        if raw.get("current") == name:
            raw["current"] = None
        self._save(raw)

    @property
    def current(self) -> str | None:
        c = self._load().get("current")
        return c if isinstance(c, str) else None

    def set_current(self, name: str | None) -> None:
        raw = self._load()
        raw["current"] = name
        self._save(raw)

    def export(self, name: str, path: str | Path) -> Path:
        return write_file(self.get(name), path)

    def import_file(self, path: str | Path, name: str | None = None) -> Workspace:
        ws = read_file(path)
        if name:
            ws = ws.model_copy(update={"name": check_name(name)})
        self.put(ws)
        return ws
