"""The maintainers' side of the update repository, on python-tuf's metadata API.

Roles (TUF specification §2.1): ``root`` signs the keys of the top-level roles; ``targets``
delegates the channels ``stable`` (paths ``stable/*``) and ``beta`` (``beta/*``), each a
delegated targets role with keys of its own; ``snapshot`` and ``timestamp`` are the online
roles re-signed at every ``publish``. Every key is ed25519 (securesystemslib ``CryptoSigner``).

A *workspace* folder holds the metadata being edited (``metadata/<role>.json``, every root
version in ``metadata/root_history/``) and the bundles (``targets/<channel>/<name>``); it holds
no private key. Private keys live in a *keys* folder outside the repository and the workspace,
one PKCS#8 PEM file per key (``<role>-<keyid>.pem``), encrypted with the passphrase in
``STOCKSCANNER_RELEASE_PASSPHRASE``. Each maintainer may hold only some keys: ``sign`` adds the
signatures of the keys found in its keys folder, and ``publish`` refuses a role whose
signatures do not reach its threshold.

``publish`` writes the static repository (consistent snapshots, TUF §6.2):
``metadata/<v>.root.json`` for every root, ``metadata/<v>.<role>.json`` for targets and the
channels, ``metadata/<v>.snapshot.json``, ``metadata/timestamp.json`` and
``targets/<channel>/<sha256>.<name>``. Any static HTTP server can serve the folder.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner, Key, SSlibKey
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from engine.updates import CHANNELS, parse_bundle_name, pointer_path

PASSPHRASE_ENV = "STOCKSCANNER_RELEASE_PASSPHRASE"
KEYS_ENV = "STOCKSCANNER_RELEASE_KEYS"
TOP_ROLES = ("root", "targets", "snapshot", "timestamp")
ROLES = TOP_ROLES + CHANNELS
#: default lifetimes: the online roles are short-lived (freeze attacks), the offline ones long.
EXPIRY_DAYS = {"root": 365, "targets": 180, "stable": 180, "beta": 180, "snapshot": 7, "timestamp": 1}
_SERIALIZER = JSONSerializer(compact=False)


class ReleaseError(Exception):
    """A maintainer's mistake or a refused operation (one sentence, for the CLI)."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _passphrase() -> bytes:
    value = os.environ.get(PASSPHRASE_ENV, "")
    if len(value) < 12:
        raise ReleaseError(f"set {PASSPHRASE_ENV} (at least 12 characters): the private keys are "
                           "stored encrypted with it")
    return value.encode("utf-8")


@dataclass(frozen=True)
class KeyStore:
    """The private keys one maintainer holds (a folder outside any repository)."""

    path: Path

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None, *, create: bool = False,
             forbidden: Iterable[Path] = ()) -> "KeyStore":
        raw = path or os.environ.get(KEYS_ENV)
        if not raw:
            raise ReleaseError(f"give the keys folder with --keys or {KEYS_ENV}")
        p = Path(raw).expanduser().resolve()
        source_tree = Path(__file__).resolve().parents[2]
        for bad in (source_tree, *forbidden):
            bad = bad.resolve()
            if p == bad or p.is_relative_to(bad):
                raise ReleaseError(f"the keys folder {p} is inside {bad}: keep private keys outside "
                                   "the source tree, the workspace and the published repository")
        if create:
            p.mkdir(parents=True, exist_ok=True)
            if os.name == "posix":
                p.chmod(stat.S_IRWXU)
        elif not p.is_dir():
            raise ReleaseError(f"no keys folder at {p}")
        return cls(p)

    def generate(self, role: str) -> CryptoSigner:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, PrivateFormat

        private = Ed25519PrivateKey.generate()
        signer = CryptoSigner(private, SSlibKey.from_crypto(private.public_key(), scheme="ed25519"))
        pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(_passphrase()))
        out = self.path / f"{role}-{signer.public_key.keyid}.pem"
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return signer

    def signer(self, key: Key) -> CryptoSigner | None:
        """The signer of public ``key`` if this folder holds its private key, else None."""
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        found = sorted(self.path.glob(f"*-{key.keyid}.pem"))
        if not found:
            return None
        if not isinstance(key, SSlibKey):
            raise ReleaseError(f"key {key.keyid[:12]} is not a securesystemslib key")
        try:
            private = load_pem_private_key(found[0].read_bytes(), _passphrase())
        except ValueError as exc:
            raise ReleaseError(f"cannot decrypt {found[0].name}: wrong {PASSPHRASE_ENV}?") from exc
        return CryptoSigner(private, key)

    def remove(self, keyid: str) -> None:
        for p in self.path.glob(f"*-{keyid}.pem"):
            p.unlink()


class Workspace:
    """The metadata being edited and the bundles (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], now: datetime | None = None) -> None:
        self.path = Path(path).expanduser().resolve()
        self.meta_dir = self.path / "metadata"
        self.targets_dir = self.path / "targets"
        self._now = now

    # -- files ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return self._now or _utcnow()

    def exists(self) -> bool:
        return (self.meta_dir / "root.json").is_file()

    def load(self, role: str) -> Metadata[Any]:
        p = self.meta_dir / f"{role}.json"
        if not p.is_file():
            raise ReleaseError(f"no {role} metadata in {self.path}: run `stockscanner release init` first")
        return Metadata.from_file(str(p))

    def save(self, role: str, md: Metadata[Any]) -> None:
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.meta_dir / f".{role}.json.tmp"
        md.to_file(str(tmp), _SERIALIZER)
        os.replace(tmp, self.meta_dir / f"{role}.json")
        if role == "root":
            hist = self.meta_dir / "root_history"
            hist.mkdir(exist_ok=True)
            shutil.copyfile(self.meta_dir / "root.json", hist / f"{md.signed.version}.root.json")

    def root(self) -> Root:
        signed = self.load("root").signed
        assert isinstance(signed, Root)
        return signed

    def expiry(self, role: str, days: float | None = None) -> datetime:
        return self.now() + timedelta(days=EXPIRY_DAYS[role] if days is None else days)

    # -- keys of a role ------------------------------------------------------------------
    def role_keys(self, role: str) -> tuple[list[Key], int]:
        """The public keys and the threshold of ``role`` (top-level from root, channels from targets)."""
        if role in TOP_ROLES:
            root = self.root()
            r = root.roles[role]
            return [root.keys[k] for k in r.keyids], r.threshold
        if role in CHANNELS:
            targets = self.load("targets").signed
            assert isinstance(targets, Targets) and targets.delegations and targets.delegations.roles
            d = targets.delegations.roles[role]
            return [targets.delegations.keys[k] for k in d.keyids], d.threshold
        raise ReleaseError(f"unknown role {role!r}; one of {', '.join(ROLES)}")

    def sign(self, role: str, keys: KeyStore, md: Metadata[Any] | None = None,
             extra_keys: Iterable[Key] = ()) -> int:
        """Add the signatures of every key of ``role`` that ``keys`` holds (and of
        ``extra_keys``: the previous root's keys when root rotates); returns how many."""
        md = md or self.load(role)
        wanted, _ = self._root_keys(md) if role == "root" else self.role_keys(role)
        n = 0
        seen: set[str] = set()
        for key in [*wanted, *extra_keys]:
            if key.keyid in seen:
                continue
            seen.add(key.keyid)
            signer = keys.signer(key)
            if signer is not None:
                md.sign(signer, append=True)
                n += 1
        self.save(role, md)
        return n

    @staticmethod
    def _root_keys(md: Metadata[Any]) -> tuple[list[Key], int]:
        root = md.signed
        assert isinstance(root, Root)
        return [root.keys[k] for k in root.roles["root"].keyids], root.roles["root"].threshold

    def unmet(self, role: str) -> str | None:
        """Why ``role``'s metadata would be refused by a client (threshold), or None."""
        md = self.load(role)
        try:
            if role == "root":
                root = md.signed
                assert isinstance(root, Root)
                root.verify_delegate("root", md.signed_bytes, md.signatures)
                if root.version > 1:  # the previous root must sign its successor too (TUF §5.3.4)
                    prev = Metadata[Root].from_file(str(self.meta_dir / "root_history" / f"{root.version - 1}.root.json"))
                    prev.signed.verify_delegate("root", md.signed_bytes, md.signatures)
            elif role in TOP_ROLES:
                self.root().verify_delegate(role, md.signed_bytes, md.signatures)
            else:
                targets = self.load("targets").signed
                assert isinstance(targets, Targets)
                targets.verify_delegate(role, md.signed_bytes, md.signatures)
        except UnsignedMetadataError as exc:
            return f"{role}: {exc}"
        if md.signed.expires <= self.now():
            return f"{role} expired on {md.signed.expires:%Y-%m-%d %H:%M} UTC"
        return None


def init(workspace: Workspace, keys: KeyStore, *, root_keys: int = 1, root_threshold: int = 1,
         targets_keys: int = 1, targets_threshold: int = 1, channel_keys: int = 1,
         channel_threshold: int = 1) -> dict[str, list[str]]:
    """Generate the keys and the first metadata of a new repository; returns role → keyids."""
    if workspace.exists():
        raise ReleaseError(f"{workspace.path} already holds a repository")
    for n, t, what in ((root_keys, root_threshold, "root"), (targets_keys, targets_threshold, "targets"),
                       (channel_keys, channel_threshold, "channel")):
        if not 1 <= t <= n:
            raise ReleaseError(f"{what}: the threshold must be between 1 and the number of keys ({n})")
    root = Root(expires=workspace.expiry("root"), consistent_snapshot=True)
    made: dict[str, list[str]] = {}
    counts = {"root": (root_keys, root_threshold), "targets": (targets_keys, targets_threshold),
              "snapshot": (1, 1), "timestamp": (1, 1)}
    for role, (n, t) in counts.items():
        for _ in range(n):
            s = keys.generate(role)
            root.add_key(s.public_key, role)
            made.setdefault(role, []).append(s.public_key.keyid)
        root.roles[role].threshold = t
    targets = Targets(expires=workspace.expiry("targets"))
    targets.delegations = Delegations(keys={}, roles={
        ch: DelegatedRole(name=ch, keyids=[], threshold=channel_threshold, terminating=True, paths=[f"{ch}/*"])
        for ch in CHANNELS})
    for ch in CHANNELS:
        for _ in range(channel_keys):
            s = keys.generate(ch)
            targets.add_key(s.public_key, ch)
            made.setdefault(ch, []).append(s.public_key.keyid)
    workspace.save("root", Metadata(root))
    workspace.sign("root", keys)
    workspace.save("targets", Metadata(targets))
    workspace.sign("targets", keys)
    for ch in CHANNELS:
        workspace.save(ch, Metadata(Targets(expires=workspace.expiry(ch))))
        workspace.sign(ch, keys)
    workspace.save("snapshot", Metadata(Snapshot(expires=workspace.expiry("snapshot"))))
    workspace.save("timestamp", Metadata(Timestamp(expires=workspace.expiry("timestamp"))))
    return made


def _bump(md: Metadata[Any], expires: datetime) -> None:
    md.signed.version += 1
    md.signed.expires = expires
    md.signatures.clear()


def add(workspace: Workspace, keys: KeyStore, bundle: str | os.PathLike[str], channel: str,
        notes: str = "") -> TargetFile:
    """Add ``bundle`` to ``channel`` with its release ``notes`` and point the channel's
    ``latest-<platform>.json`` at it; signs the channel role with the keys held."""
    if channel not in CHANNELS:
        raise ReleaseError(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    src = Path(bundle)
    if not src.is_file():
        raise ReleaseError(f"no bundle at {src}")
    try:
        version, platform = parse_bundle_name(src.name)
    except ValueError as exc:
        raise ReleaseError(str(exc)) from exc
    md = workspace.load(channel)
    targets = md.signed
    assert isinstance(targets, Targets)
    dest_dir = workspace.targets_dir / channel
    dest_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest_dir / src.name)
    path = f"{channel}/{src.name}"
    tf = TargetFile.from_file(path, str(dest_dir / src.name), ["sha256", "sha512"])
    tf.unrecognized_fields["custom"] = {"version": version, "platform": platform, "notes": str(notes)[:20000]}
    targets.targets[path] = tf
    pointer = json.dumps({"version": version, "platform": platform, "target": path}, sort_keys=True).encode()
    ppath = pointer_path(channel, platform)
    (workspace.targets_dir / ppath).write_bytes(pointer)
    ptf = TargetFile.from_data(ppath, pointer, ["sha256", "sha512"])
    ptf.unrecognized_fields["custom"] = {"version": version, "platform": platform, "target": path}
    targets.targets[ppath] = ptf
    _bump(md, workspace.expiry(channel))
    workspace.save(channel, md)
    workspace.sign(channel, keys)
    return tf


def sign(workspace: Workspace, keys: KeyStore, role: str) -> int:
    """Add this maintainer's signatures to ``role`` (threshold signing); returns how many.
    For root, the previous root's keys held here sign too (a rotation needs both)."""
    if role not in ROLES:
        raise ReleaseError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    extra: list[Key] = []
    if role == "root":
        v = workspace.root().version
        if v > 1:
            prev = Metadata[Root].from_file(str(workspace.meta_dir / "root_history" / f"{v - 1}.root.json"))
            extra = [prev.signed.keys[k] for k in prev.signed.roles["root"].keyids]
    n = workspace.sign(role, keys, extra_keys=extra)
    if n == 0:
        raise ReleaseError(f"{keys.path} holds none of the keys of {role}")
    return n


def rotate(workspace: Workspace, keys: KeyStore, role: str, *, count: int = 1, threshold: int = 1) -> list[str]:
    """Replace every key of ``role`` by ``count`` new ones (threshold ``threshold``), as TUF
    defines it: a top-level role's keys change in a new root version, signed by the previous
    root's keys and by the new root's; a channel's in a new targets version. Returns the new keyids."""
    if role not in ROLES:
        raise ReleaseError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not 1 <= threshold <= count:
        raise ReleaseError(f"the threshold must be between 1 and {count}")
    old_keys, _ = workspace.role_keys(role)
    owner = "root" if role in TOP_ROLES else "targets"
    md = workspace.load(owner)
    new = [keys.generate(role) for _ in range(count)]
    signed = md.signed
    if isinstance(signed, Root):
        for k in old_keys:
            signed.revoke_key(k.keyid, role)
        for s in new:
            signed.add_key(s.public_key, role)
        signed.roles[role].threshold = threshold
    else:
        assert isinstance(signed, Targets) and signed.delegations and signed.delegations.roles
        for k in old_keys:
            signed.revoke_key(k.keyid, role)
        for s in new:
            signed.add_key(s.public_key, role)
        signed.delegations.roles[role].threshold = threshold
    prev_root_keys = workspace._root_keys(workspace.load("root"))[0] if owner == "root" else []
    _bump(md, workspace.expiry(owner))
    workspace.save(owner, md)
    workspace.sign(owner, keys, md, extra_keys=prev_root_keys)
    if role in ("targets", *CHANNELS):  # the role's own metadata is signed by its new keys
        rmd = workspace.load(role)
        _bump(rmd, workspace.expiry(role))
        workspace.save(role, rmd)
        workspace.sign(role, keys, rmd)
    return [s.public_key.keyid for s in new]


def renew(workspace: Workspace, keys: KeyStore, role: str, days: float | None = None) -> int:
    """A new version of ``role`` with a fresh expiry (root 365 days, targets and channels 180
    by default), signed with the keys held (others add theirs with ``sign``); returns the
    version. Snapshot and timestamp are renewed by every ``publish``."""
    if role not in ("root", "targets", *CHANNELS):
        raise ReleaseError(f"renew one of root, targets, {', '.join(CHANNELS)} (publish renews snapshot and timestamp)")
    md = workspace.load(role)
    _bump(md, workspace.expiry(role, days))
    workspace.save(role, md)
    workspace.sign(role, keys, md)
    return int(md.signed.version)


def publish(workspace: Workspace, keys: KeyStore, out: str | os.PathLike[str], *,
            snapshot_days: float | None = None, timestamp_days: float | None = None) -> dict[str, int]:
    """Sign a new snapshot and timestamp and write the static repository into ``out``.
    Refuses (``ReleaseError``) while a role's signatures are below its threshold. Returns
    role → published version."""
    out_dir = Path(out).expanduser().resolve()
    for role in ("root", "targets", *CHANNELS):
        problem = workspace.unmet(role)
        if problem:
            raise ReleaseError(f"not published: {problem} (collect signatures with `stockscanner release sign`)")
    versions = {r: int(workspace.load(r).signed.version) for r in ("root", "targets", *CHANNELS)}
    snap = workspace.load("snapshot")
    assert isinstance(snap.signed, Snapshot)
    snap.signed.meta = {f"{r}.json": MetaFile(version=versions[r]) for r in ("targets", *CHANNELS)}
    _bump(snap, workspace.expiry("snapshot", snapshot_days))
    workspace.save("snapshot", snap)
    workspace.sign("snapshot", keys, snap)
    if workspace.unmet("snapshot"):
        raise ReleaseError(f"not published: {workspace.unmet('snapshot')}")
    ts = workspace.load("timestamp")
    assert isinstance(ts.signed, Timestamp)
    ts.signed.snapshot_meta = MetaFile(version=snap.signed.version)
    _bump(ts, workspace.expiry("timestamp", timestamp_days))
    workspace.save("timestamp", ts)
    workspace.sign("timestamp", keys, ts)
    problem = workspace.unmet("timestamp")
    if problem:
        raise ReleaseError(f"not published: {problem}")
    meta_out = out_dir / "metadata"
    meta_out.mkdir(parents=True, exist_ok=True)
    for p in sorted((workspace.meta_dir / "root_history").glob("*.root.json")):
        shutil.copyfile(p, meta_out / p.name)
    for r in ("targets", *CHANNELS):
        shutil.copyfile(workspace.meta_dir / f"{r}.json", meta_out / f"{versions[r]}.{r}.json")
    shutil.copyfile(workspace.meta_dir / "snapshot.json", meta_out / f"{snap.signed.version}.snapshot.json")
    tmp = meta_out / ".timestamp.json.tmp"  # the one file clients poll: replaced atomically, last
    for ch in CHANNELS:
        t = workspace.load(ch).signed
        assert isinstance(t, Targets)
        for path, tf in t.targets.items():
            src = workspace.targets_dir / path
            dest = out_dir / "targets" / Path(path).parent / f"{tf.hashes['sha256']}.{Path(path).name}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                shutil.copyfile(src, dest)
    shutil.copyfile(workspace.meta_dir / "timestamp.json", tmp)
    os.replace(tmp, meta_out / "timestamp.json")
    versions["snapshot"] = int(snap.signed.version)
    versions["timestamp"] = int(ts.signed.version)
    return versions


def status(workspace: Workspace) -> dict[str, dict[str, Any]]:
    """Each role's version, expiry, signatures / threshold and problem (for ``release sign``)."""
    out: dict[str, dict[str, Any]] = {}
    for role in ROLES:
        md = workspace.load(role)
        keys, threshold = workspace.role_keys(role)
        out[role] = {"version": int(md.signed.version), "expires": md.signed.expires.isoformat(),
                     "signatures": len(md.signatures), "threshold": threshold, "keys": len(keys),
                     "problem": workspace.unmet(role) if role not in ("snapshot", "timestamp") else None}
    return out


def export_root(workspace: Workspace, dest: str | os.PathLike[str]) -> Path:
    """Copy the current root (the trust anchor clients ship) to ``dest``."""
    problem = workspace.unmet("root")
    if problem:
        raise ReleaseError(f"root is not ready to ship: {problem}")
    d = Path(dest)
    d.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workspace.meta_dir / "root.json", d)
    return d
