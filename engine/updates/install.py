"""Side-by-side installs with an atomic "current" pointer (after Squirrel's ``app-<version>``
folders beside ``Update.exe``).

Layout of an install root::

    versions/<version>/stockscanner/stockscanner[.exe]   one folder per version
    current.json                                         {"version", "previous", "installed_at"}
    pending.json                                         a verified bundle waiting for the restart
    staged/<bundle>                                      that bundle

A launcher (or the platform's shortcut) runs ``executable(current())``. An update is staged
after the user accepts it and installed when the app restarts: the bundle's sha256 is checked
again, it is extracted beside the running version (never over it), the new executable's
``--version`` must run and print the version, and only then is ``current.json`` replaced (one
``os.replace``). When any step fails the new folder is removed and the pointer is untouched:
the installed version keeps running. ``rollback()`` points back at the previous version.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.updates import parse_bundle_name

TOP_DIR = "stockscanner"
#: refuse a bundle that unpacks to more than this (a decompression bomb)
MAX_UNPACKED = 4 * 1024**3


#: ``<root>/stockscanner`` on Linux and macOS: runs the version ``current.json`` names, so the
#: version an update installed is the one the next launch starts.
POSIX_LAUNCHER = """#!/bin/sh
# Stock Scanner launcher (written by engine/updates/install.py): runs the version current.json names.
here=$(cd "$(dirname "$0")" && pwd)
v=$(sed -n 's/^ *"version": *"\\([^"]*\\)".*/\\1/p' "$here/current.json")
case "$v" in
  ""|*/*|*..*) echo "stockscanner: no installed version in $here/current.json" >&2; exit 1 ;;
esac
exec "$here/versions/$v/stockscanner/stockscanner" "$@"
"""


class InstallError(Exception):
    """The install did not happen; the current version is unchanged."""


@dataclass(frozen=True)
class InstallResult:
    ok: bool
    version: str
    previous: str | None
    message: str


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _safe_member(name: str) -> bool:
    parts = Path(name.replace("\\", "/")).parts
    return bool(parts) and parts[0] == TOP_DIR and ".." not in parts and not Path(name).is_absolute()


def extract_bundle(bundle: Path, dest: Path) -> Path:
    """Unpack ``bundle`` into ``dest`` (which must not exist); every member must sit under
    ``stockscanner/`` (no absolute paths, no ``..``, no links out, no devices)."""
    dest.mkdir(parents=True)
    total = 0
    if bundle.name.endswith(".zip"):
        with zipfile.ZipFile(bundle) as z:
            for info in z.infolist():
                if not _safe_member(info.filename):
                    raise InstallError(f"{bundle.name}: member {info.filename!r} is outside {TOP_DIR}/")
                total += info.file_size
            if total > MAX_UNPACKED:
                raise InstallError(f"{bundle.name} unpacks to {total} bytes")
            z.extractall(dest)
    else:
        with tarfile.open(bundle, "r:gz") as t:
            members = t.getmembers()
            for m in members:
                if not _safe_member(m.name):
                    raise InstallError(f"{bundle.name}: member {m.name!r} is outside {TOP_DIR}/")
                total += m.size
            if total > MAX_UNPACKED:
                raise InstallError(f"{bundle.name} unpacks to {total} bytes")
            t.extractall(dest, members=members, filter="data")  # refuses links out and devices
    exe = dest / TOP_DIR / executable_name()
    if not exe.is_file():
        raise InstallError(f"{bundle.name} has no {TOP_DIR}/{executable_name()}")
    return exe


def executable_name() -> str:
    return "stockscanner.exe" if sys.platform.startswith("win") else "stockscanner"


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class Installation:
    """One install root (see the module docstring)."""

    def __init__(self, root: str | Path, runner: Runner = subprocess.run, timeout_s: float = 120.0) -> None:
        self.root = Path(root)
        self.versions_dir = self.root / "versions"
        self.pointer = self.root / "current.json"
        self.pending_file = self.root / "pending.json"
        self.staged_dir = self.root / "staged"
        self.runner = runner
        self.timeout_s = timeout_s

    # -- reading -------------------------------------------------------------------------
    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def current(self) -> str | None:
        data = self._read(self.pointer)
        return str(data["version"]) if data and data.get("version") else None

    def previous(self) -> str | None:
        data = self._read(self.pointer)
        return str(data["previous"]) if data and data.get("previous") else None

    def executable(self, version: str | None = None) -> Path:
        v = version or self.current()
        if not v:
            raise InstallError(f"nothing is installed in {self.root}")
        return self.versions_dir / v / TOP_DIR / executable_name()

    def pending(self) -> dict[str, Any] | None:
        return self._read(self.pending_file)

    # -- running a version ---------------------------------------------------------------
    def version_runs(self, version: str) -> tuple[bool, str]:
        """Whether ``versions/<version>``'s executable runs ``--version`` and prints ``version``."""
        exe = self.executable(version)
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        try:
            done = self.runner([str(exe), "--version"], capture_output=True, text=True,
                               timeout=self.timeout_s, env=env, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            return False, f"{exe} did not run: {exc}"
        out = (done.stdout or "") + (done.stderr or "")
        if done.returncode != 0:
            return False, f"{exe} --version exited with {done.returncode}: {out.strip()[-300:]}"
        if version not in out:
            return False, f"{exe} --version printed {out.strip()[-200:]!r}, not {version}"
        return True, out.strip()

    # -- changing ------------------------------------------------------------------------
    def adopt(self, version: str, folder: str | Path) -> None:
        """Register an already unpacked ``folder`` (holding ``stockscanner/``) as ``version``
        and point at it: the first install, done by the installer."""
        dest = self.versions_dir / version
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(folder, dest, symlinks=True)
        _write_json_atomic(self.pointer, {"version": version, "previous": self.current(),
                                          "installed_at": time.time()})
        self.write_launcher()

    def write_launcher(self) -> Path | None:
        """``<root>/stockscanner`` (POSIX; on Windows the installer's shortcut does this job)."""
        if os.name != "posix":
            return None
        p = self.root / "stockscanner"
        tmp = self.root / ".stockscanner.tmp"
        tmp.write_text(POSIX_LAUNCHER, encoding="utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, p)
        return p

    def stage(self, bundle: str | Path, version: str, sha256: str, notes: str = "") -> Path:
        """Keep a verified ``bundle`` for the next start (``apply_pending``)."""
        src = Path(bundle)
        got = _sha256(src)
        if got != sha256:
            raise InstallError(f"{src.name}: sha256 {got[:12]}… is not the signed {sha256[:12]}…")
        bv, _platform = parse_bundle_name(src.name)
        if bv != version:
            raise InstallError(f"{src.name} is not version {version}")
        self.staged_dir.mkdir(parents=True, exist_ok=True)
        dest = self.staged_dir / src.name
        if src.resolve() != dest.resolve():
            shutil.copyfile(src, dest)
        self.root.mkdir(parents=True, exist_ok=True)
        _write_json_atomic(self.pending_file, {"version": version, "bundle": dest.name, "sha256": sha256,
                                               "notes": notes, "staged_at": time.time()})
        return dest

    def discard_pending(self) -> None:
        data = self.pending()
        self.pending_file.unlink(missing_ok=True)
        if data and data.get("bundle"):
            (self.staged_dir / Path(str(data["bundle"])).name).unlink(missing_ok=True)

    def apply_pending(self) -> InstallResult | None:
        """Install the staged bundle (None if none): extract beside the running version, run
        its ``--version``, then switch ``current.json``; on any failure remove the new folder
        and leave the pointer as it was."""
        data = self.pending()
        if not data:
            return None
        version = str(data.get("version", ""))
        before = self.current()
        try:
            result = self._install(data, version, before)
        except InstallError as exc:
            result = InstallResult(False, version, before, str(exc))
        self.discard_pending()
        return result

    def _install(self, data: dict[str, Any], version: str, before: str | None) -> InstallResult:
        bundle = self.staged_dir / Path(str(data.get("bundle", ""))).name
        if not bundle.is_file():
            raise InstallError(f"the staged bundle {bundle.name} is missing")
        try:
            bv, _platform = parse_bundle_name(bundle.name)
        except ValueError as exc:
            raise InstallError(str(exc)) from exc
        if bv != version:
            raise InstallError(f"{bundle.name} is not version {version}")
        if _sha256(bundle) != data.get("sha256"):
            raise InstallError(f"{bundle.name} changed on disk since it was verified; not installed")
        if version == before:
            return InstallResult(True, version, before, f"{version} is already installed")
        final = self.versions_dir / version
        work = self.versions_dir / f".{version}.partial"
        shutil.rmtree(work, ignore_errors=True)
        try:
            try:
                extract_bundle(bundle, work)
            except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
                raise InstallError(f"{bundle.name} could not be unpacked: {exc}") from exc
            shutil.rmtree(final, ignore_errors=True)  # a half-installed earlier attempt, never current
            os.replace(work, final)
            ok, message = self.version_runs(version)
            if not ok:
                shutil.rmtree(final, ignore_errors=True)
                raise InstallError(f"{version} was not installed, {before or 'this version'} keeps running: {message}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        _write_json_atomic(self.pointer, {"version": version, "previous": before, "installed_at": time.time()})
        self._prune(keep={version, before})
        return InstallResult(True, version, before, f"installed {version}" + (f" (was {before})" if before else ""))

    def rollback(self) -> str:
        """Point back at the previous version (it must still run); returns it."""
        prev, cur = self.previous(), self.current()
        if not prev:
            raise InstallError("there is no previous version to go back to")
        ok, message = self.version_runs(prev)
        if not ok:
            raise InstallError(f"the previous version does not run: {message}")
        _write_json_atomic(self.pointer, {"version": prev, "previous": cur, "installed_at": time.time()})
        return prev

    def _prune(self, keep: set[str | None]) -> None:
        if not self.versions_dir.is_dir():
            return
        for d in self.versions_dir.iterdir():
            if d.is_dir() and d.name not in keep and not d.name.startswith("."):
                shutil.rmtree(d, ignore_errors=True)


def default_install_root() -> Path:
    """``STOCKSCANNER_INSTALL_ROOT``; else, in a bundle laid out as ``<root>/versions/<v>/
    stockscanner/``, that root; else ``<data folder>/updates/install`` (a source checkout)."""
    env = os.environ.get("STOCKSCANNER_INSTALL_ROOT")
    if env:
        return Path(env).expanduser()
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable).resolve()
        if len(exe.parents) > 3 and exe.parents[0].name == TOP_DIR and exe.parents[2].name == "versions":
            return exe.parents[3]
    from engine.paths import data_dir

    return data_dir() / "updates" / "install"
