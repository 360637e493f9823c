"""The Linux bundle (installer/build.py): its size and its start-up, against running from source.

``installer.bundle_size_mb`` — the tarball's size in MB (what a user downloads and what an
update target weighs) and the unpacked folder's; the peer is what running from source puts on
disk for the same program: this interpreter's standard library plus every file of the
distributions ``stockscanner`` needs at run time (its dependencies, recursively, without
extras, as pip installed them). Ratio above 1: the bundle is smaller.

``installer.startup_s`` — wall seconds of ``stockscanner --version`` from the unpacked bundle
against ``python -m app.cli --version`` from source (median of 7, alternating), and
``installer.startup_s_window``: wall seconds of a whole ``stockscanner screenshot`` (start,
build the window on the demo workspace, draw it, write the PNG, exit) from each, median of 3
warm starts on their own data folders. Ratio above 1: the bundle starts faster.

The tarball is ``dist/stockscanner-<version>-linux-<arch>.tar.gz`` when it is there (built by
``python installer/build.py``), else this builds it (two to three minutes; PyInstaller must
be installed: ``pip install '.[bundle]'``). Linux only: elsewhere the benchmarks say so.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from importlib import metadata
from pathlib import Path

from bench.core import REPO, Result, benchmark

def _load_build():
    """installer/build.py under its own name (a plain ``import build`` could meet PyPA's
    ``build`` package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("stockscanner_installer_build", REPO / "installer" / "build.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


build = _load_build()

RUNS_VERSION = 7
RUNS_WINDOW = 3


def _tarball() -> Path:
    path = REPO / "dist" / f"{build.bundle_name()}.tar.gz"
    if not path.exists():
        build.build(path.parent, REPO / "build" / "pyinstaller")
    return path


_UNPACKED: dict[Path, Path] = {}
#: the temporary folders of the unpacked bundles, removed when the process exits
_KEEP: list[tempfile.TemporaryDirectory[str]] = []


def _unpacked(tarball: Path) -> Path:
    """The bundle unpacked once per run into a temporary folder."""
    if tarball not in _UNPACKED:
        tmp = tempfile.TemporaryDirectory(prefix="stockscanner-bench-bundle-")
        _KEEP.append(tmp)
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp.name, filter="tar")
        _UNPACKED[tarball] = Path(tmp.name) / build.NAME
    return _UNPACKED[tarball]


def _requirement_names(dist: str, seen: set[str]) -> None:
    key = re.sub(r"[-_.]+", "-", dist).lower()
    if key in seen:
        return
    seen.add(key)
    try:
        reqs = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return
    for req in reqs:
        if "extra ==" in req:
            continue
        marker_ok = True
        if ";" in req:
            from packaging.markers import Marker

            marker_ok = Marker(req.split(";", 1)[1]).evaluate()
        if marker_ok:
            _requirement_names(re.split(r"[\s\[<>=!~;(]", req, maxsplit=1)[0], seen)


def _dist_bytes(name: str) -> int:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return 0
    total = 0
    for f in dist.files or ():
        p = Path(str(dist.locate_file(f)))
        if p.is_file():
            total += p.stat().st_size
    return total


def source_footprint_bytes() -> int:
    """Standard library + the run-time dependency closure of ``stockscanner`` (files as
    installed), + our own source folders."""
    names: set[str] = set()
    _requirement_names("stockscanner", names)
    names.discard("stockscanner")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    total = sum(f.stat().st_size for f in stdlib.rglob("*") if f.is_file() and "site-packages" not in f.parts)
    total += sum(_dist_bytes(n) for n in names)
    for pkg in ("app", "widgets", "engine", "sync", "server", "resources"):
        total += sum(f.stat().st_size for f in (REPO / pkg).rglob("*") if f.is_file())
    return total


def _folder_bytes(folder: Path) -> int:
    return sum(f.lstat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


@benchmark("installer.bundle_size_mb")
def bundle_size() -> list[Result]:
    if not sys.platform.startswith("linux"):
        return [Result("installer.bundle_size_mb", float("nan"), note="the bundle benchmarks run on Linux only")]
    tarball = _tarball()
    folder = _unpacked(tarball)
    mb = tarball.stat().st_size / 1e6
    unpacked = _folder_bytes(folder) / 1e6
    source = source_footprint_bytes() / 1e6
    return [
        Result("installer.bundle_size_mb", mb, "from source: stdlib + run-time dependencies, installed", source,
               note=f"MB, not seconds: the .tar.gz download; unpacked {unpacked:.0f} MB "
                    f"(ratio vs unpacked {source / unpacked:.2f})"),
    ]


def _wall(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} … failed: {proc.stderr[-1500:]}")
    return dt


@benchmark("installer.startup_s")
def startup() -> list[Result]:
    if not sys.platform.startswith("linux"):
        return [Result("installer.startup_s", float("nan"), note="the bundle benchmarks run on Linux only")]
    exe = _unpacked(_tarball()) / build.NAME
    env = {k: v for k, v in os.environ.items() if k != "STOCKSCANNER_HOME"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    # the source run as an installed app runs: bytecode compiled once (see bench_startup)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    source = [sys.executable, "-m", "app.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ours_v, peer_v = [], []
        _wall([str(exe), "--version"], env, home)
        _wall([*source, "--version"], env, REPO)
        for _ in range(RUNS_VERSION):  # alternate, so load changes hit both alike
            ours_v.append(_wall([str(exe), "--version"], env, home))
            peer_v.append(_wall([*source, "--version"], env, REPO))

        def shot(prefix: list[str], data: str, cwd: Path) -> float:
            return _wall([*prefix, "--data-dir", str(home / data), "screenshot", str(home / f"{data}.png"),
                          "--size", "1280x800"], env, cwd)

        first_ours = shot([str(exe)], "bundle", home)  # creates the store, seeds the demo workspace
        first_peer = shot(source, "source", REPO)
        ours_w, peer_w = [], []
        for _ in range(RUNS_WINDOW):
            ours_w.append(shot([str(exe)], "bundle", home))
            peer_w.append(shot(source, "source", REPO))
    med = statistics.median
    return [
        Result("installer.startup_s", med(ours_v), "python -m app.cli --version (source)", med(peer_v),
               note=f"wall, bundle --version, median of {RUNS_VERSION}"),
        Result("installer.startup_s_window", med(ours_w), "python -m app.cli screenshot (source)", med(peer_w),
               note=f"wall, whole `screenshot --size 1280x800` on the demo workspace, median of {RUNS_WINDOW} warm "
                    f"starts; first start on an empty data folder {first_ours:.2f} s (source {first_peer:.2f} s)"),
    ]
