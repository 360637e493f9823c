"""One test per attack of TUF's threat model (specification §1.5.2), each against a repository
our release code made, served over real HTTP on 127.0.0.1, with the attacker's bytes served
in place of the repository's. Each is refused by python-tuf's verification and the installed
version (1.0.0) keeps running, with nothing staged."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from tuf.api import exceptions as tuf_errors
from tuf.api.metadata import Metadata

from engine.updates import repository as R
from engine.updates.client import UpdateClient, UpdateRefused
from engine.updates.install import Installation

from .conftest import Repo, assert_still_running, make_bundle


def update(client: UpdateClient, inst: Installation) -> object:
    """What the app does: check, download, stage, install at the next start."""
    offer = client.check()
    assert offer is not None
    path = client.download(offer)
    inst.stage(path, offer.version, offer.sha256, offer.notes)
    return inst.apply_pending()


def refused(exc_info: pytest.ExceptionInfo[UpdateRefused], cause: type[BaseException]) -> None:
    assert isinstance(exc_info.value.__cause__, cause), repr(exc_info.value.__cause__)


def test_arbitrary_software_a_different_bundle_is_refused(repo: Repo, installed: Installation, tmp_path):
    repo.release("1.1.0", notes="Faster charts")
    evil = make_bundle(tmp_path / "evil", "1.1.0", prints="owned", pad=5000)  # another program
    repo.override(repo.target_url_path(f"stable/{evil.name}"), evil.read_bytes())
    client = repo.client()
    with pytest.raises(UpdateRefused) as e:
        update(client, installed)
    # longer than the signed length: the download stops at the signed length
    refused(e, tuf_errors.DownloadLengthMismatchError)
    assert not (client.downloads_dir / evil.name).exists()
    assert_still_running(installed)


def test_wrong_hash_same_length_is_refused(repo: Repo, installed: Installation):
    good = repo.release("1.1.0")
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same length, one byte changed
    repo.override(repo.target_url_path(f"stable/{good.name}"), bytes(data))
    with pytest.raises(UpdateRefused) as e:
        update(repo.client(), installed)
    refused(e, tuf_errors.LengthOrHashMismatchError)
    assert_still_running(installed)


def test_rollback_attack_older_timestamp_is_refused(repo: Repo, installed: Installation):
    repo.release("1.1.0")
    old_timestamp = repo.served("metadata/timestamp.json").read_bytes()
    repo.release("1.2.0")
    client = repo.client(current="1.2.0")
    assert client.check() is None  # the client has now seen the newer timestamp
    repo.override("/metadata/timestamp.json", old_timestamp)  # replay the older one
    with pytest.raises(UpdateRefused) as e:
        repo.client(current="1.0.0").check()
    refused(e, tuf_errors.BadVersionNumberError)
    assert_still_running(installed)


def test_rollback_attack_older_snapshot_is_refused(repo: Repo, installed: Installation):
    """The freshly signed timestamp is fine, but a snapshot older than the trusted one is not."""
    repo.release("1.1.0")
    repo.client(current="1.1.0").check()
    snap1 = Metadata.from_bytes(repo.served("metadata/2.snapshot.json").read_bytes())
    # an attacker holding the (online) timestamp key points it at the older snapshot
    ts = repo.ws.load("timestamp")
    ts.signed.version += 1
    ts.signed.snapshot_meta.version = snap1.signed.version - 1
    ts.signatures.clear()
    ts.sign(repo.keys.signer(repo.ws.role_keys("timestamp")[0][0]))
    repo.override("/metadata/timestamp.json", ts.to_bytes())
    with pytest.raises(UpdateRefused) as e:
        repo.client(current="1.0.0").check()
    refused(e, tuf_errors.BadVersionNumberError)
    assert_still_running(installed)


def test_indefinite_freeze_expired_timestamp_is_refused(tmp_path, serve, installed: Installation):
    """A mirror keeps serving metadata signed three days ago (an old, once valid state)."""
    url, handler = serve(tmp_path / "published")
    r = Repo(tmp_path, url, handler)
    r.ws = R.Workspace(tmp_path / "workspace", now=datetime.now(timezone.utc) - timedelta(days=3))
    R.init(r.ws, r.keys)
    r.release("1.1.0")
    with pytest.raises(UpdateRefused) as e:
        update(r.client(), installed)
    refused(e, tuf_errors.ExpiredMetadataError)
    assert "timestamp" in str(e.value)
    assert_still_running(installed)


@pytest.mark.parametrize("what", ["timestamp", "bundle"])
def test_endless_data_is_cut_off(repo: Repo, installed: Installation, what: str):
    good = repo.release("1.1.0")
    path = "/metadata/timestamp.json" if what == "timestamp" else repo.target_url_path(f"stable/{good.name}")
    repo.override(path, "endless")
    client = repo.client()
    with pytest.raises(UpdateRefused) as e:
        update(client, installed)
    refused(e, tuf_errors.DownloadLengthMismatchError)
    assert_still_running(installed)


def test_mix_and_match_older_channel_metadata_is_refused(repo: Repo, installed: Installation):
    """The current snapshot with the stable role of an earlier release: every file is validly
    signed, but the snapshot names the version each role must have."""
    repo.release("1.1.0")
    old_stable = repo.served("metadata/2.stable.json").read_bytes()
    repo.release("1.2.0")
    repo.override("/metadata/3.stable.json", old_stable)
    with pytest.raises(UpdateRefused) as e:
        repo.client().check()
    refused(e, tuf_errors.BadVersionNumberError)
    assert_still_running(installed)


def test_mix_and_match_beta_metadata_served_as_stable_is_refused(repo: Repo, installed: Installation):
    repo.release("1.1.0")
    repo.release("1.2.0b1", channel="beta")
    beta = json.loads(repo.served("metadata/2.beta.json").read_bytes())
    repo.override("/metadata/2.stable.json", json.dumps(beta).encode())
    with pytest.raises(UpdateRefused) as e:
        repo.client().check()
    refused(e, tuf_errors.UnsignedMetadataError)  # beta's keys cannot sign for stable
    assert_still_running(installed)


def test_fast_forward_forged_version_is_refused(repo: Repo, installed: Installation):
    """A timestamp with its version pushed far ahead, to lock out the real ones, fails its signature."""
    repo.release("1.1.0")
    ts = json.loads(repo.served("metadata/timestamp.json").read_bytes())
    ts["signed"]["version"] = 2**31
    repo.override("/metadata/timestamp.json", json.dumps(ts).encode())
    with pytest.raises(UpdateRefused) as e:
        update(repo.client(), installed)
    refused(e, tuf_errors.UnsignedMetadataError)
    assert_still_running(installed)


def test_fast_forward_recovery_after_timestamp_key_rotation(repo: Repo, installed: Installation):
    """An attacker with the timestamp key pushes the version to 999 (the client accepts it: it is
    validly signed). The maintainers rotate the timestamp key; the client follows the new root,
    drops the fast-forwarded timestamp and accepts the real one again (TUF §5.3.11)."""
    repo.release("1.1.0")
    client_cache = "victim"
    ts = repo.ws.load("timestamp")
    ts.signed.version = 999
    ts.signatures.clear()
    ts.sign(repo.keys.signer(repo.ws.role_keys("timestamp")[0][0]))
    repo.override("/metadata/timestamp.json", ts.to_bytes())
    assert repo.client(cache=client_cache, current="1.1.0").check() is None
    repo.handler.overrides.clear()
    repo.release("1.2.0")  # timestamp v3 < 999: refused while the old key is trusted
    with pytest.raises(UpdateRefused) as e:
        repo.client(cache=client_cache).check()
    refused(e, tuf_errors.BadVersionNumberError)
    R.rotate(repo.ws, repo.keys, "timestamp")
    R.publish(repo.ws, repo.keys, repo.out)
    offer = repo.client(cache=client_cache).check()
    assert offer is not None and offer.version == "1.2.0"
    assert_still_running(installed)


def test_foreign_key_signed_channel_is_refused(repo: Repo, installed: Installation, tmp_path):
    """A stable role listing the attacker's bundle, signed with a key root never delegated."""
    good = repo.release("1.1.0")
    evil_keys = R.KeyStore.open(tmp_path / "attacker-keys", create=True)
    signer = evil_keys.generate("stable")
    md = Metadata.from_bytes(repo.served("metadata/2.stable.json").read_bytes())
    evil = make_bundle(tmp_path / "evil", "1.1.0", prints="owned")
    from tuf.api.metadata import TargetFile

    md.signed.targets[f"stable/{good.name}"] = TargetFile.from_file(f"stable/{good.name}", str(evil))
    md.signatures.clear()
    md.sign(signer)
    repo.override("/metadata/2.stable.json", md.to_bytes())
    with pytest.raises(UpdateRefused) as e:
        update(repo.client(), installed)
    refused(e, tuf_errors.UnsignedMetadataError)
    assert_still_running(installed)


def test_foreign_key_new_root_is_refused(repo: Repo, installed: Installation, tmp_path):
    """A "root version 2" handing every role to the attacker's key, signed only by that key."""
    repo.release("1.1.0")
    evil_keys = R.KeyStore.open(tmp_path / "attacker-keys", create=True)
    signer = evil_keys.generate("root")
    root = Metadata.from_bytes(repo.root_v1)
    root.signed.version = 2
    root.signed.keys = {}
    for role in root.signed.roles.values():
        role.keyids = []
    for name in R.TOP_ROLES:
        root.signed.add_key(signer.public_key, name)
    root.signatures.clear()
    root.sign(signer)
    repo.override("/metadata/2.root.json", root.to_bytes())
    with pytest.raises(UpdateRefused) as e:
        update(repo.client(), installed)
    refused(e, tuf_errors.UnsignedMetadataError)
    assert_still_running(installed)
