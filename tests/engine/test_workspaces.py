"""engine/workspaces.py: the schema, the store, export/import round trip."""
import json

import pytest

from engine.store.kv import KeyValueStore
from engine.workspaces import DEFAULT_NAMES, WorkspaceError, WorkspaceStore, parse, read_file


@pytest.fixture
def store(db):
    return WorkspaceStore(KeyValueStore(db))


def test_defaults_are_seeded_in_order(store):
    assert DEFAULT_NAMES == ("Day trading", "Swing", "Options", "Review")
    assert store.names()[:4] == list(DEFAULT_NAMES)
    assert {d.id for d in store.get("Options").docks} >= {"options", "chart", "positions"}


def test_export_import_round_trip(store, tmp_path):
    out = tmp_path / "swing.json"
    store.export("Swing", out)
    data = json.loads(out.read_text())
    assert data["format"] == "stockscanner-workspace" and data["name"] == "Swing"
    store.delete("Swing")
    assert "Swing" not in store.names()
    ws = store.import_file(out)
    assert ws.name == "Swing" and store.get("Swing") == ws
    assert store.import_file(out, "Swing copy").name == "Swing copy"
    assert store.get("Swing copy").docks == ws.docks


def test_rename_delete_current(store):
    store.set_current("Review")
    store.rename("Review", "Weekly review")
    assert store.current == "Weekly review"
    with pytest.raises(WorkspaceError, match="exists already"):
        store.rename("Swing", "Options")
    store.delete("Weekly review")
    assert store.current is None
    with pytest.raises(WorkspaceError, match="no workspace named 'Nope'"):
        store.get("Nope")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["docks"][0].update(area="middle"), r"field docks\.0\.area"),
    (lambda d: d["docks"][0].update(size=3), r"field docks\.0\.size"),
    (lambda d: d["docks"][1].update(id="not a dock"), r"field docks\.1\.id"),
    (lambda d: d.update(name=""), r"field name"),
    (lambda d: d.update(colour="red"), r"field colour"),
    (lambda d: d.update(version=7), r"field version"),
    (lambda d: d.update(state={"chart": 5}), r"field state\.chart"),
])
def test_bad_file_names_its_field(store, tmp_path, mutate, message):
    out = store.export("Swing", tmp_path / "w.json")
    data = json.loads(out.read_text())
    mutate(data)
    out.write_text(json.dumps(data))
    with pytest.raises(WorkspaceError, match=message):
        store.import_file(out)


def test_not_json_and_not_a_workspace(tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{nope")
    with pytest.raises(WorkspaceError, match="x.json is not JSON .line 1"):
        read_file(p)
    p.write_text('{"name": "a"}')
    with pytest.raises(WorkspaceError, match="not a Stock Scanner workspace"):
        read_file(p)
    with pytest.raises(WorkspaceError, match="not a JSON object"):
        parse([1])
