"""The happy paths: release → check → download → ask → install at the next start, channels,
root key rotation (the client follows the chain), threshold signing, and the install that
rolls back when the new version does not run."""
from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from engine.updates import parse_bundle_name, pointer_path
from engine.updates import repository as R
from engine.updates.install import InstallError, Installation, extract_bundle

from .conftest import PLATFORM, Repo, assert_still_running, make_bundle


def test_release_check_download_install_on_restart(repo: Repo, installed: Installation):
    repo.release("1.1.0", notes="Faster charts\nA new scanner column")
    client = repo.client()
    offer = client.check()
    assert offer is not None
    assert (offer.version, offer.platform, offer.channel) == ("1.1.0", PLATFORM, "stable")
    assert offer.notes == "Faster charts\nA new scanner column"
    path = client.download(offer)
    assert path.read_bytes() == (repo.bundles / path.name).read_bytes()
    installed.stage(path, offer.version, offer.sha256, offer.notes)
    assert installed.current() == "1.0.0"  # nothing changes before the restart
    result = installed.apply_pending()
    assert result is not None and result.ok, result
    assert (installed.current(), installed.previous()) == ("1.1.0", "1.0.0")
    assert installed.version_runs("1.1.0")[0] and installed.version_runs("1.0.0")[0]  # both runnable
    assert installed.pending() is None
    assert repo.client(current="1.1.0").check() is None  # now up to date
    assert installed.rollback() == "1.0.0"
    assert_still_running(installed)


def test_signed_metadata_carries_length_hashes_and_notes(repo: Repo):
    b = repo.release("1.1.0", notes="notes")
    stable = repo.ws.load("stable").signed
    tf = stable.targets[f"stable/{b.name}"]
    assert tf.length == b.stat().st_size and set(tf.hashes) == {"sha256", "sha512"}
    assert tf.custom == {"version": "1.1.0", "platform": PLATFORM, "notes": "notes"}
    assert pointer_path("stable", PLATFORM) in stable.targets
    # consistent snapshots: every file is published under its version or hash
    names = {p.name for p in (repo.out / "metadata").iterdir()}
    assert {"1.root.json", "1.targets.json", "2.stable.json", "3.snapshot.json", "timestamp.json"} <= names
    assert (repo.out / "targets" / "stable" / f"{tf.hashes['sha256']}.{b.name}").is_file()


def test_channels_beta_also_sees_stable(repo: Repo):
    repo.release("1.1.0", channel="stable")
    repo.release("1.2.0b1", channel="beta", notes="try me")
    assert repo.client("stable").check().version == "1.1.0"
    beta = repo.client("beta", cache="beta-client").check()
    assert (beta.version, beta.channel, beta.notes) == ("1.2.0b1", "beta", "try me")
    repo.release("1.2.0", channel="stable")
    assert repo.client("beta", cache="beta-client").check().version == "1.2.0"  # stable overtook beta


def test_other_platforms_bundles_are_not_offered(repo: Repo):
    other = "windows-x86_64" if PLATFORM != "windows-x86_64" else "linux-x86_64"
    repo.release("1.1.0", platform=other)
    assert repo.client().check() is None


def test_root_rotation_chain_is_followed(repo: Repo, installed: Installation):
    """Root keys rotated twice (the second time to 3 keys, 2 needed), and every other
    top-level role's key too; a client that ships root v1 walks 1 → 2 → 3 → 4 → 5 → 6."""
    repo.release("1.1.0")
    v1_client = repo.client(current="1.1.0")
    assert v1_client.check() is None
    R.rotate(repo.ws, repo.keys, "root")
    R.rotate(repo.ws, repo.keys, "root", count=3, threshold=2)
    for role in ("targets", "snapshot", "timestamp"):
        R.rotate(repo.ws, repo.keys, role)
    R.rotate(repo.ws, repo.keys, "stable")
    repo.release("1.2.0", notes="after the rotation")
    assert repo.ws.root().version == 6
    offer = repo.client(cache="fresh").check()  # a new install: bootstraps from v1
    assert offer is not None and offer.version == "1.2.0"
    history = sorted(p.name for p in (repo.base / "fresh" / "metadata" / "root_history").iterdir())
    assert history == [f"{v}.root.json" for v in range(1, 7)]
    again = v1_client.check()  # the client that last trusted root v1 and the old keys
    assert again is not None and again.version == "1.2.0"
    path = repo.client().download(again)
    installed.stage(path, again.version, again.sha256)
    assert installed.apply_pending().ok
    assert installed.current() == "1.2.0"


def test_renew_gives_long_lived_roles_a_new_expiry(repo: Repo):
    repo.release("1.1.0")
    client = repo.client(current="1.1.0")
    assert client.check() is None
    before = repo.ws.load("targets").signed.expires
    assert R.renew(repo.ws, repo.keys, "root", days=400) == 2
    assert R.renew(repo.ws, repo.keys, "targets", days=200) == 2
    assert repo.ws.load("targets").signed.expires > before
    with pytest.raises(R.ReleaseError, match="publish renews"):
        R.renew(repo.ws, repo.keys, "timestamp")
    R.publish(repo.ws, repo.keys, repo.out)
    repo.release("1.2.0")
    assert client.check().version == "1.2.0"
    assert (repo.base / "client" / "metadata" / "root_history" / "2.root.json").is_file()


def test_threshold_signing_root_needs_two_maintainers(tmp_path, serve):
    url, handler = serve(tmp_path / "published")
    r = Repo(tmp_path, url, handler)
    R.init(r.ws, r.keys, root_keys=3, root_threshold=2, channel_keys=2, channel_threshold=2)
    other = R.KeyStore.open(tmp_path / "keys-b", create=True)  # maintainer B takes 2 root keys, 1 stable key
    root_ids = [k.keyid for k in r.ws.role_keys("root")[0]]
    for keyid in root_ids[1:]:
        for p in r.keys.path.glob(f"*-{keyid}.pem"):
            shutil.move(p, other.path / p.name)
    stable_ids = [k.keyid for k in r.ws.role_keys("stable")[0]]
    for p in r.keys.path.glob(f"*-{stable_ids[1]}.pem"):
        shutil.move(p, other.path / p.name)
    R.publish(r.ws, r.keys, r.out)
    b = make_bundle(r.bundles, "1.1.0")
    R.add(r.ws, r.keys, b, "stable", "two signatures")
    with pytest.raises(R.ReleaseError, match="stable"):
        R.publish(r.ws, r.keys, r.out)  # 1 of 2 stable signatures
    assert R.sign(r.ws, other, "stable") == 1
    R.publish(r.ws, r.keys, r.out)
    R.rotate(r.ws, r.keys, "timestamp")  # a new root, signed by A's one root key: below threshold
    with pytest.raises(R.ReleaseError, match="root"):
        R.publish(r.ws, r.keys, r.out)
    R.sign(r.ws, other, "root")
    assert r.ws.unmet("root") is None
    R.publish(r.ws, r.keys, r.out)
    offer = r.client().check()
    assert offer is not None and offer.notes == "two signatures"


@pytest.mark.parametrize("bundle", [{"exit_code": 3}, {"prints": "stockscanner 0.9.0"}], ids=["crashes", "wrong-version"])
def test_new_version_that_does_not_run_rolls_back(repo: Repo, installed: Installation, bundle: dict):
    repo.release("1.1.0", **bundle)
    client = repo.client()
    offer = client.check()
    installed.stage(client.download(offer), offer.version, offer.sha256)
    result = installed.apply_pending()
    assert result is not None and not result.ok
    assert "1.0.0 keeps running" in result.message
    assert not (installed.versions_dir / "1.1.0").exists()
    assert_still_running(installed)


def test_staged_bundle_changed_on_disk_is_not_installed(repo: Repo, installed: Installation):
    repo.release("1.1.0")
    client = repo.client()
    offer = client.check()
    staged = installed.stage(client.download(offer), offer.version, offer.sha256)
    staged.write_bytes(staged.read_bytes()[:-1] + b"!")
    result = installed.apply_pending()
    assert not result.ok and "changed on disk" in result.message
    assert_still_running(installed)


def test_stage_refuses_a_file_that_is_not_the_signed_one(installed: Installation, tmp_path):
    b = make_bundle(tmp_path / "b2", "1.1.0")
    with pytest.raises(InstallError, match="sha256"):
        installed.stage(b, "1.1.0", "0" * 64)
    assert installed.pending() is None


@pytest.mark.parametrize("member", ["../evil", "/etc/evil", "other/stockscanner"])
def test_bundle_members_outside_the_top_folder_are_refused(tmp_path, member: str):
    p = tmp_path / f"stockscanner-1.1.0-{PLATFORM}.tar.gz"
    with tarfile.open(p, "w:gz") as t:
        ti = tarfile.TarInfo(member)
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
    with pytest.raises(InstallError, match="outside"):
        extract_bundle(p, tmp_path / "out")


def test_bundle_names_follow_the_contract():
    assert parse_bundle_name("stockscanner-1.2.0-linux-x86_64.tar.gz") == ("1.2.0", "linux-x86_64")
    assert parse_bundle_name("stockscanner-2.0.0rc1-windows-x86_64.zip") == ("2.0.0rc1", "windows-x86_64")
    assert parse_bundle_name("stockscanner-1.0-macos-arm64.tar.gz") == ("1.0", "macos-arm64")
    for bad in ("stockscanner-1.2.0-linux-x86_64.exe", "stockscanner-latest-linux-x86_64.tar.gz",
                "../stockscanner-1.2.0-linux-x86_64.tar.gz", "stockscanner-1.2.0-beos-x86_64.tar.gz"):
        with pytest.raises(ValueError):
            parse_bundle_name(bad)


def test_keys_are_encrypted_and_kept_out_of_the_workspace(repo: Repo, tmp_path, monkeypatch):
    pems = list(repo.keys.path.glob("*.pem"))
    assert len(pems) == 6
    assert all(b"ENCRYPTED PRIVATE KEY" in p.read_bytes() for p in pems)
    assert all(p.stat().st_mode & 0o077 == 0 for p in pems)
    assert not list(repo.out.rglob("*.pem")) and not list(repo.ws.path.rglob("*.pem"))
    with pytest.raises(R.ReleaseError, match="inside"):
        R.KeyStore.open(repo.ws.path / "keys", create=True, forbidden=[repo.ws.path])
    monkeypatch.setenv(R.PASSPHRASE_ENV, "another passphrase entirely")
    with pytest.raises(R.ReleaseError, match="decrypt"):
        R.sign(repo.ws, repo.keys, "stable")
    monkeypatch.delenv(R.PASSPHRASE_ENV)
    with pytest.raises(R.ReleaseError, match=R.PASSPHRASE_ENV):
        R.sign(repo.ws, repo.keys, "stable")


def test_shipped_root_is_a_valid_root_metadata():
    from tuf.api.metadata import Metadata, Root

    import resources

    raw = (Path(resources.__file__).parent / "update" / "root.json").read_bytes()
    md = Metadata.from_bytes(raw)
    assert isinstance(md.signed, Root) and md.signed.consistent_snapshot
    md.signed.verify_delegate("root", md.signed_bytes, md.signatures)
    assert all(md.signed.keys[k].keytype == "ed25519" for k in md.signed.keys)
    assert json.loads(raw)["signed"]["_type"] == "root"


def test_zip_bundles_install_and_refuse_members_outside(tmp_path):
    import zipfile

    good = tmp_path / "stockscanner-1.1.0-windows-x86_64.zip"
    with zipfile.ZipFile(good, "w") as z:
        z.writestr("stockscanner/stockscanner", "#!/bin/sh\necho stockscanner 1.1.0\n")
        z.writestr("stockscanner/stockscanner.exe", "MZ")
        z.writestr("stockscanner/lib/data.txt", "x")
    extract_bundle(good, tmp_path / "ok")
    assert (tmp_path / "ok" / "stockscanner" / "lib" / "data.txt").read_text() == "x"
    bad = tmp_path / "stockscanner-1.1.1-windows-x86_64.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("stockscanner/../../evil", "x")
    with pytest.raises(InstallError, match="outside"):
        extract_bundle(bad, tmp_path / "bad")
    assert not (tmp_path / "evil").exists()


def test_repository_urls_must_be_https_except_on_this_computer():
    from engine.updates import url_problem

    for ok in ("https://updates.example.com/repo", "http://127.0.0.1:8765/updates", "http://localhost/x",
               "http://[::1]:9/x"):
        assert url_problem(ok) is None, ok
    for bad in ("http://example.com/repo", "http://localhost.evil.example/x", "ftp://host/x", "file:///tmp/x", "nope"):
        assert url_problem(bad), bad


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="the POSIX launcher")
def test_launcher_starts_the_current_version(repo: Repo, installed: Installation):
    import subprocess

    launcher = installed.root / "stockscanner"
    assert subprocess.run([str(launcher), "--version"], capture_output=True, text=True).stdout.strip() == "stockscanner 1.0.0"
    repo.release("1.1.0")
    client = repo.client()
    offer = client.check()
    installed.stage(client.download(offer), offer.version, offer.sha256)
    assert installed.apply_pending().ok
    assert subprocess.run([str(launcher), "--version"], capture_output=True, text=True).stdout.strip() == "stockscanner 1.1.0"
    installed.rollback()
    assert subprocess.run([str(launcher), "--version"], capture_output=True, text=True).stdout.strip() == "stockscanner 1.0.0"
