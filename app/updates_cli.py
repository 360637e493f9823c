"""``stockscanner release …`` (maintainers) and ``stockscanner update …`` (this computer).

``release`` edits a TUF repository workspace (``--repo`` or ``STOCKSCANNER_RELEASE_REPO``) with
the private keys of a folder outside it (``--keys`` or ``STOCKSCANNER_RELEASE_KEYS``, encrypted
with ``STOCKSCANNER_RELEASE_PASSPHRASE``); see ``engine/updates/repository.py``.
``update`` runs the same check as Help → Check for updates, headless.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO_ENV = "STOCKSCANNER_RELEASE_REPO"


def add_release(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="release_verb", metavar="STEP", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--repo", help=f"the repository workspace folder (default ${REPO_ENV})")
        sp.add_argument("--keys", help="the private keys folder, outside the repository "
                                       "(default $STOCKSCANNER_RELEASE_KEYS)")

    i = sub.add_parser("init", help="generate the keys and the first metadata of a new repository")
    common(i)
    for role, label in (("root", "root"), ("targets", "targets"), ("channel", "stable and beta each")):
        i.add_argument(f"--{role}-keys", type=int, default=1, metavar="N", help=f"keys of {label} (1)")
        i.add_argument(f"--{role}-threshold", type=int, default=1, metavar="T",
                       help=f"signatures {label} needs (1)")
    i.add_argument("--export-root", metavar="PATH", help="also copy root.json there (the root clients ship)")
    a = sub.add_parser("add", help="add a bundle to a channel with its release notes")
    common(a)
    a.add_argument("bundle", help="stockscanner-<version>-<platform>.tar.gz (or .zip)")
    a.add_argument("--channel", choices=("stable", "beta"), required=True)
    g = a.add_mutually_exclusive_group()
    g.add_argument("--notes", default="", help="release notes (shown to users)")
    g.add_argument("--notes-file", help="release notes from a text file")
    s = sub.add_parser("sign", help="add your signatures to a role (threshold signing)")
    common(s)
    s.add_argument("role", choices=("root", "targets", "snapshot", "timestamp", "stable", "beta"))
    r = sub.add_parser("rotate", help="replace a role's keys (a new root or targets version)")
    common(r)
    r.add_argument("role", choices=("root", "targets", "snapshot", "timestamp", "stable", "beta"))
    r.add_argument("--count", type=int, default=1, help="new keys (1)")
    r.add_argument("--threshold", type=int, default=1, help="signatures needed (1)")
    r.add_argument("--export-root", metavar="PATH", help="also copy the new root.json there")
    rn = sub.add_parser("renew", help="a new version of a role with a fresh expiry (before it expires)")
    common(rn)
    rn.add_argument("role", choices=("root", "targets", "stable", "beta"))
    rn.add_argument("--days", type=float, default=None, help="lifetime (root 365, others 180)")
    rn.add_argument("--export-root", metavar="PATH", help="also copy the renewed root.json there")
    pb = sub.add_parser("publish", help="sign snapshot and timestamp and write the static repository")
    common(pb)
    pb.add_argument("--out", required=True, help="the folder a static HTTP server serves")
    pb.add_argument("--timestamp-days", type=float, default=None, help="timestamp lifetime (1 day)")
    pb.add_argument("--snapshot-days", type=float, default=None, help="snapshot lifetime (7 days)")
    st = sub.add_parser("status", help="each role's version, expiry and signatures")
    common(st)
    st.add_argument("--json", action="store_true")


def _open(args: argparse.Namespace, create: bool = False) -> tuple[Any, Any]:
    from engine.updates.repository import KeyStore, ReleaseError, Workspace

    repo = args.repo or os.environ.get(REPO_ENV)
    if not repo:
        raise ReleaseError(f"give the repository workspace with --repo or {REPO_ENV}")
    ws = Workspace(repo)
    keys = KeyStore.open(args.keys, create=create, forbidden=[ws.path, *([Path(args.out)] if getattr(args, "out", None) else [])])
    return ws, keys


def cmd_release(args: argparse.Namespace) -> int:
    from engine.updates import repository as R

    try:
        return _release(args, R)
    except R.ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _release(args: argparse.Namespace, R: Any) -> int:
    step = args.release_verb
    ws, keys = _open(args, create=step == "init")
    if step == "init":
        made = R.init(ws, keys, root_keys=args.root_keys, root_threshold=args.root_threshold,
                      targets_keys=args.targets_keys, targets_threshold=args.targets_threshold,
                      channel_keys=args.channel_keys, channel_threshold=args.channel_threshold)
        for role, ids in made.items():
            print(f"{role}: {len(ids)} key(s) {', '.join(k[:12] for k in ids)}")
        print(f"repository workspace {ws.path}; private keys in {keys.path}")
        if args.export_root:
            print(f"root written to {R.export_root(ws, args.export_root)}")
    elif step == "add":
        notes = Path(args.notes_file).read_text(encoding="utf-8") if args.notes_file else args.notes
        tf = R.add(ws, keys, args.bundle, args.channel, notes)
        print(f"added {tf.path} ({tf.length} bytes, sha256 {tf.hashes['sha256'][:16]}…)")
        problem = ws.unmet(args.channel)
        if problem:
            print(f"needs more signatures: {problem}")
    elif step == "sign":
        n = R.sign(ws, keys, args.role)
        problem = ws.unmet(args.role) if args.role not in ("snapshot", "timestamp") else None
        print(f"{args.role}: {n} signature(s) added" + (f"; still {problem}" if problem else "; threshold met"))
    elif step == "rotate":
        ids = R.rotate(ws, keys, args.role, count=args.count, threshold=args.threshold)
        print(f"{args.role}: new keys {', '.join(k[:12] for k in ids)}")
        owner = "root" if args.role in R.TOP_ROLES else "targets"
        problem = ws.unmet(owner)
        if problem:
            print(f"needs more signatures: {problem}")
        elif args.export_root:
            print(f"root written to {R.export_root(ws, args.export_root)}")
    elif step == "renew":
        v = R.renew(ws, keys, args.role, args.days)
        md = ws.load(args.role)
        print(f"{args.role}: v{v}, expires {md.signed.expires:%Y-%m-%d}")
        problem = ws.unmet(args.role)
        if problem:
            print(f"needs more signatures: {problem}")
        elif args.export_root and args.role == "root":
            print(f"root written to {R.export_root(ws, args.export_root)}")
    elif step == "publish":
        versions = R.publish(ws, keys, args.out, snapshot_days=args.snapshot_days, timestamp_days=args.timestamp_days)
        print(f"published to {Path(args.out).resolve()}: " + ", ".join(f"{r} v{v}" for r, v in versions.items()))
    elif step == "status":
        st = R.status(ws)
        if args.json:
            print(json.dumps(st, indent=1))
        else:
            for role, s in st.items():
                print(f"{role:<10} v{s['version']:<4} {s['signatures']}/{s['threshold']} signatures "
                      f"(of {s['keys']} keys)  expires {s['expires']}" + (f"  ! {s['problem']}" if s["problem"] else ""))
    return 0


def add_update(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="update_verb", metavar="STEP", required=True)
    c = sub.add_parser("check", help="look for a newer version (and with --download, stage it)")
    c.add_argument("--url", help="update repository (default: the updates/url setting)")
    c.add_argument("--channel", choices=("stable", "beta"), help="default: the updates/channel setting")
    c.add_argument("--download", action="store_true", help="download, verify and stage it for the next start")
    c.add_argument("--json", action="store_true")
    sub.add_parser("apply", help="install the staged update now (as the next start would)")
    sub.add_parser("rollback", help="go back to the previous installed version")
    sub.add_parser("status", help="the installed, previous and staged versions")


def cmd_update(args: argparse.Namespace) -> int:
    from engine import __version__
    from engine.updates.client import UpdateError
    from engine.updates.install import InstallError, Installation, default_install_root

    inst = Installation(default_install_root())
    try:
        if args.update_verb == "check":
            return _check(args, inst)
        if args.update_verb == "apply":
            result = inst.apply_pending()
            if result is None:
                print("no update is staged")
                return 0
            _record(result.message if result.ok else f"failed: {result.message}")
            print(result.message)
            return 0 if result.ok else 1
        if args.update_verb == "rollback":
            v = inst.rollback()
            _record(f"rolled back to {v}")
            print(f"rolled back to {v}")
            return 0
        pending = inst.pending()
        print(json.dumps({"running": __version__, "installed": inst.current(), "previous": inst.previous(),
                          "staged": pending.get("version") if pending else None, "root": str(inst.root)}, indent=1))
        return 0
    except (UpdateError, InstallError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _record(detail: str) -> None:
    """The install in the device security log (health panel), when a store is at hand."""
    try:
        from engine.health.metrics import record_security_event
        from engine.paths import database_path
        from engine.store.db import open_database
        from engine.store.kv import KeyValueStore

        if database_path().exists():
            db = open_database()
            try:
                record_security_event(KeyValueStore(db), "update_install", detail)
            finally:
                db.dispose()
    except Exception:  # the log is best effort from the CLI; the install itself is done
        import logging

        logging.getLogger(__name__).warning("could not record the update in the security log", exc_info=True)


def _check(args: argparse.Namespace, inst: Any) -> int:
    from app.features.updates import make_client, settings_values

    url, channel = settings_values()
    url = args.url or url
    channel = args.channel or channel
    if not url:
        print("error: no update repository: set updates/url in Settings or give --url", file=sys.stderr)
        return 1
    client = make_client(url, channel)
    offer = client.check()
    if offer is None:
        out: dict[str, Any] = {"update": None, "running": str(client.current), "channel": channel}
        print(json.dumps(out) if args.json else f"up to date ({client.current}, {channel})")
        return 0
    out = {"update": offer.version, "channel": offer.channel, "platform": offer.platform,
           "notes": offer.notes, "length": offer.length}
    if args.download:
        path = client.download(offer)
        inst.stage(path, offer.version, offer.sha256, offer.notes)
        out["staged"] = str(inst.staged_dir / path.name)
    if args.json:
        print(json.dumps(out))
    else:
        print(f"{offer.version} is available on {offer.channel} ({offer.length} bytes)")
        if offer.notes:
            print(offer.notes)
        if args.download:
            print("downloaded and verified; installed at the next start (or `stockscanner update apply`)")
    return 0
