"""The service serves a published TUF repository at ``/updates/`` (``STOCKSCANNER_UPDATES_DIR``)
and the update client finds and downloads a release through it, on a real uvicorn on loopback.
The route reads no database, so it runs once (not per database)."""
from __future__ import annotations

import secrets
import threading
import time

import pytest
import requests

from engine.updates import repository as R
from engine.updates.client import UpdateClient
from tests.engine.updates.conftest import make_bundle
from tests.sync.conftest import free_port


@pytest.fixture
def served(tmp_path, monkeypatch):
    import uvicorn

    from server.app import create_app
    from server.config import Settings

    monkeypatch.setenv(R.PASSPHRASE_ENV, "a test passphrase, not a real one")
    ws, keys = R.Workspace(tmp_path / "ws"), R.KeyStore.open(tmp_path / "keys", create=True)
    R.init(ws, keys)
    R.add(ws, keys, make_bundle(tmp_path / "b", "1.1.0"), "stable", "via the service")
    R.publish(ws, keys, tmp_path / "site")
    (tmp_path / "secret.txt").write_text("not for the web")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 's.sqlite3'}", secret_key=secrets.token_urlsafe(32),
                        updates_dir=str(tmp_path / "site"))
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", ws
    server.should_exit = True
    t.join(10)
    app.state.engine.dispose()


def test_client_updates_through_the_service(served, tmp_path):
    url, ws = served
    root = (ws.meta_dir / "root_history" / "1.root.json").read_bytes()
    client = UpdateClient(f"{url}/updates", tmp_path / "cache", "stable", root=root, current_version="1.0.0")
    offer = client.check()
    assert offer is not None and (offer.version, offer.notes) == ("1.1.0", "via the service")
    assert client.download(offer).stat().st_size == offer.length
    r = requests.get(f"{url}/updates/metadata/timestamp.json", timeout=5)
    assert r.status_code == 200 and r.headers.get("x-content-type-options") == "nosniff"
    assert requests.get(f"{url}/updates/../secret.txt", timeout=5).status_code == 404
    assert requests.get(f"{url}/updates/%2e%2e/secret.txt", timeout=5).status_code == 404
