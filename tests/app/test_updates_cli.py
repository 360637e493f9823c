"""``stockscanner release init|add|sign|rotate|publish|status`` and ``stockscanner update
check|apply|status|rollback`` in-process, against a repository served on 127.0.0.1."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from tests.engine.updates.conftest import make_bundle, serve  # noqa: F401  (the fixture)

PASS = "a test passphrase, not a real one"


@pytest.fixture
def release_env(tmp_path, monkeypatch, home):
    monkeypatch.setenv("STOCKSCANNER_RELEASE_PASSPHRASE", PASS)
    monkeypatch.setenv("STOCKSCANNER_RELEASE_REPO", str(tmp_path / "ws"))
    monkeypatch.setenv("STOCKSCANNER_RELEASE_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("STOCKSCANNER_INSTALL_ROOT", str(tmp_path / "install"))
    return tmp_path


def test_release_and_update_round_trip(release_env, serve, capsys, monkeypatch):  # noqa: F811
    tmp = release_env
    url, _handler = serve(tmp / "site")
    shipped = tmp / "root.json"
    assert main(["release", "init", "--root-keys", "2", "--root-threshold", "1", "--export-root", str(shipped)]) == 0
    assert "root: 2 key(s)" in capsys.readouterr().out
    assert main(["release", "publish", "--out", str(tmp / "site")]) == 0
    b = make_bundle(tmp / "bundles", "1.1.0")
    notes = tmp / "notes.txt"
    notes.write_text("What is new in 1.1.0", encoding="utf-8")
    assert main(["release", "add", str(b), "--channel", "stable", "--notes-file", str(notes)]) == 0
    assert main(["release", "sign", "stable"]) == 0
    assert "threshold met" in capsys.readouterr().out
    assert main(["release", "publish", "--out", str(tmp / "site")]) == 0
    assert main(["release", "status", "--json"]) == 0
    capsys.readouterr()
    assert main(["release", "renew", "beta", "--days", "30"]) == 0
    assert "beta: v2" in capsys.readouterr().out
    assert main(["release", "rotate", "root", "--count", "1", "--export-root", str(tmp / "root2.json")]) == 0
    assert main(["release", "publish", "--out", str(tmp / "site")]) == 0
    capsys.readouterr()
    assert main(["release", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["root"]["version"] == 2 and status["stable"]["version"] == 2
    assert status["beta"]["version"] == 2 and status["timestamp"]["version"] == 4

    monkeypatch.setattr("app.features.updates.bundled_root", lambda: shipped.read_bytes())
    monkeypatch.setattr("app.features.updates.running_version", lambda: "1.0.0")
    # the install root holds 1.0.0 (as the installer leaves it)
    from engine.updates.install import Installation
    import tarfile

    src = tmp / "v100"
    with tarfile.open(make_bundle(tmp / "b0", "1.0.0")) as t:
        t.extractall(src, filter="data")
    Installation(tmp / "install").adopt("1.0.0", src)

    assert main(["update", "check", "--url", url, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["update"] == "1.1.0" and out["notes"] == "What is new in 1.1.0"
    assert main(["update", "check", "--url", url, "--download", "--json"]) == 0
    assert "staged" in json.loads(capsys.readouterr().out)
    assert main(["update", "status"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert (st["installed"], st["staged"]) == ("1.0.0", "1.1.0")
    assert main(["update", "apply"]) == 0
    assert "installed 1.1.0 (was 1.0.0)" in capsys.readouterr().out
    assert main(["update", "rollback"]) == 0
    assert Installation(tmp / "install").current() == "1.0.0"


def test_release_errors_are_one_sentence(release_env, capsys, monkeypatch):
    tmp = release_env
    assert main(["release", "add", str(tmp / "nothing.tar.gz"), "--channel", "stable"]) == 1
    assert "no keys folder" in capsys.readouterr().err
    assert main(["release", "init"]) == 0
    capsys.readouterr()
    assert main(["release", "init"]) == 1
    assert "already holds a repository" in capsys.readouterr().err
    bad = tmp / "bundle.tar.gz"
    bad.write_bytes(b"x")
    assert main(["release", "add", str(bad), "--channel", "beta"]) == 1
    assert "is not named" in capsys.readouterr().err
    assert main(["release", "init", "--keys", str(tmp / "ws" / "keys")]) == 1
    assert "inside" in capsys.readouterr().err
    monkeypatch.delenv("STOCKSCANNER_RELEASE_PASSPHRASE")
    assert main(["release", "sign", "beta"]) == 1
    assert "STOCKSCANNER_RELEASE_PASSPHRASE" in capsys.readouterr().err


def test_update_check_without_repository(release_env, capsys):
    assert main(["update", "check"]) == 1
    assert "updates/url" in capsys.readouterr().err
    assert main(["update", "check", "--url", "http://example.com/repo"]) == 1
    assert "https" in capsys.readouterr().err
