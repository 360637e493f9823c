"""Build Stock Scanner for the current OS: ``python installer/build.py [--out DIR]``.

Runs PyInstaller on ``installer/stockscanner.spec`` (one folder), then packs it:

* Linux: ``DIR/stockscanner-<version>-linux-<arch>.tar.gz`` whose one top folder is
  ``stockscanner/`` holding the ``stockscanner`` executable, its ``_internal/`` folder,
  ``stockscanner.desktop`` and ``stockscanner.png`` (the icon), plus ``install.sh`` that links
  the desktop entry and icon into the user's ``~/.local/share``. This name and layout is
  what the updater's TUF targets are (one target file per platform bundle); keep it.
* Windows: the folder, then Inno Setup's compiler (``iscc``) on
  ``installer/windows/stockscanner.iss`` when it is on PATH: ``DIR/stockscanner-<version>-
  windows-<arch>-setup.exe``; plus ``DIR/stockscanner-<version>-windows-<arch>.zip`` of the
  folder (the update target).
* macOS: ``Stock Scanner.app``, then ``installer/macos/make_dmg.sh`` (codesign and
  notarisation when the signing variables are set; see installer/README.md):
  ``DIR/stockscanner-<version>-macos-<arch>.dmg``; plus
  ``DIR/stockscanner-<version>-macos-<arch>.tar.gz`` of the one-folder build, laid out as on
  Linux (the update target: the updater installs folders, not .app bundles).

Prints one JSON object: ``{"version", "platform", "folder", "artifacts": [{"path", "bytes",
"sha256"}], "seconds"}``. PyInstaller's work folder is kept (``--work``, default
``build/pyinstaller`` in the repository) so a second build reuses its analysis cache.
Exit status: 0 built, 1 a step failed (its output is shown).
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "installer" / "stockscanner.spec"
NAME = "stockscanner"
ICONS = ROOT / "resources" / "icons"


def version() -> str:
    """``engine.__version__``, read from the file (the build must not import the app)."""
    m = re.search(r'^__version__ = "([^"]+)"', (ROOT / "engine" / "__init__.py").read_text(), re.M)
    if m is None:
        raise SystemExit("engine/__init__.py has no __version__")
    return m.group(1)


def os_name() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def arch() -> str:
    """``x86_64`` or ``arm64`` (the names the bundles and TUF targets use)."""
    m = platform.machine().lower()
    return {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64"}.get(m, m)


def bundle_name(ver: str | None = None, system: str | None = None, machine: str | None = None) -> str:
    """The bundle's file name without extension: ``stockscanner-0.1.0-linux-x86_64``."""
    return f"{NAME}-{ver or version()}-{system or os_name()}-{machine or arch()}"


def desktop_entry(ver: str) -> str:
    """The freedesktop.org desktop entry (Desktop Entry Specification 1.5) for the bundle.

    ``Exec`` and ``Icon`` are rewritten to absolute paths by ``install.sh``; in the tarball
    they name the program and icon as installed on PATH and in the icon theme.
    """
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.5",
        "Name=Stock Scanner",
        "GenericName=Trading workstation",
        "Comment=Charts, scanner, paper trading, options, journal and alerts",
        f"Exec={NAME} %F",
        f"Icon={NAME}",
        "Terminal=false",
        "Categories=Office;Finance;",
        "Keywords=stocks;trading;charts;scanner;backtest;",
        f"StartupWMClass={NAME}",
        f"X-StockScanner-Version={ver}",
        "",
    ])


INSTALL_SH = """#!/bin/sh
# Adds Stock Scanner to this user's application menu (no root needed): the desktop entry and
# the icon go under ~/.local/share, pointing at this folder. Run it from the unpacked folder.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/icons/hicolor/256x256/apps"
cp "$here/stockscanner.png" "$data/icons/hicolor/256x256/apps/stockscanner.png"
sed -e "s|^Exec=stockscanner|Exec=\\"$here/stockscanner\\"|" \\
    -e "s|^Icon=stockscanner|Icon=$data/icons/hicolor/256x256/apps/stockscanner.png|" \\
    "$here/stockscanner.desktop" > "$data/applications/stockscanner.desktop"
echo "installed: $data/applications/stockscanner.desktop (runs $here/stockscanner)"
"""


def run_pyinstaller(dist: Path, work: Path) -> Path:
    """PyInstaller on the spec; returns the built folder (``dist/stockscanner``)."""
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    print("$", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return dist / NAME  # on macOS "Stock Scanner.app" is beside it (package_macos)


def _reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owner root, no user names, group/other read (and execute where the owner has it)."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = (info.mode & 0o700) | ((info.mode & 0o500) >> 3) | ((info.mode & 0o500) >> 6)
    return info


def make_tarball(folder: Path, out: Path, top: str, level: int = 6) -> Path:
    """``out`` (.tar.gz) holding ``folder`` under the top folder ``top``, files sorted."""
    tmp = out.with_suffix(out.suffix + ".part")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=level, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(folder, arcname=top, recursive=False, filter=_reset)
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=f"{top}/{path.relative_to(folder).as_posix()}", recursive=False,
                    filter=_reset)
    os.replace(tmp, out)
    return out


def linux_layout(folder: Path, ver: str) -> None:
    """Add the desktop entry, the icon and install.sh beside the executable."""
    (folder / f"{NAME}.desktop").write_text(desktop_entry(ver), encoding="utf-8")
    shutil.copyfile(ICONS / f"{NAME}-256.png", folder / f"{NAME}.png")
    sh = folder / "install.sh"
    sh.write_text(INSTALL_SH, encoding="utf-8")
    sh.chmod(0o755)


def package_linux(folder: Path, out: Path, ver: str, level: int = 6) -> list[Path]:
    linux_layout(folder, ver)
    return [make_tarball(folder, out / f"{bundle_name(ver)}.tar.gz", NAME, level)]


def package_windows(folder: Path, out: Path, ver: str, level: int = 6) -> list[Path]:
    artifacts = []
    zpath = out / f"{bundle_name(ver)}.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for path in sorted(folder.rglob("*")):
            z.write(path, f"{NAME}/{path.relative_to(folder).as_posix()}")
    artifacts.append(zpath)
    iscc = shutil.which("iscc") or next(
        (str(p) for p in (Path(os.environ[v]) / "Inno Setup 6" / "ISCC.exe"
                          for v in ("ProgramFiles(x86)", "ProgramFiles") if os.environ.get(v))
         if p.is_file()), None)  # its default install folder: the installer does not add it to PATH
    if iscc is None:
        print("note: Inno Setup (iscc) is not on PATH: no setup.exe (the zip is built)", file=sys.stderr)
        return artifacts
    subprocess.run([iscc, f"/DAppVersion={ver}", f"/DSourceDir={folder}", f"/DOutputDir={out}",
                    f"/DOutputBase={bundle_name(ver)}-setup", str(ROOT / "installer" / "windows" / "stockscanner.iss")],
                   check=True)
    artifacts.append(out / f"{bundle_name(ver)}-setup.exe")
    return artifacts


def package_macos(folder: Path, out: Path, ver: str, level: int = 6) -> list[Path]:
    # The update target has the same layout on every OS (top folder stockscanner/ with the
    # stockscanner executable: engine/updates/install.py runs versions/<v>/stockscanner/stockscanner);
    # the .dmg holds the .app users drag to Applications.
    tar = make_tarball(folder, out / f"{bundle_name(ver)}.tar.gz", NAME, level)
    app = folder.parent / "Stock Scanner.app"
    dmg = out / f"{bundle_name(ver)}.dmg"
    subprocess.run(["bash", str(ROOT / "installer" / "macos" / "make_dmg.sh"), str(app), str(dmg), ver], check=True)
    return [tar, dmg]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build(out: Path, work: Path, level: int = 6) -> dict[str, object]:
    """Build and pack for this OS into ``out`` (gzip/zip ``level`` 1…9); returns the JSON
    summary."""
    t0 = time.monotonic()
    ver = version()
    out.mkdir(parents=True, exist_ok=True)
    folder = run_pyinstaller(work / "dist", work / "build")
    packer = {"linux": package_linux, "windows": package_windows, "macos": package_macos}[os_name()]
    artifacts = packer(folder, out, ver, level)
    return {
        "version": ver,
        "platform": f"{os_name()}-{arch()}",
        "folder": str(folder),
        "artifacts": [{"path": str(p), "bytes": p.stat().st_size, "sha256": sha256(p)} for p in artifacts],
        "seconds": round(time.monotonic() - t0, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python installer/build.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "dist", metavar="DIR",
                   help="where the bundle/installer goes (default: dist/ in the repository)")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller", metavar="DIR",
                   help="PyInstaller's work and dist folders (kept: a rebuild reuses its cache)")
    p.add_argument("--compress-level", type=int, default=6, choices=range(1, 10), metavar="1-9",
                   help="gzip/zip level (default 6; 1 packs ~3x faster and ~9%% larger: the smoke test uses it)")
    args = p.parse_args(argv)
    try:
        summary = build(args.out.resolve(), args.work.resolve(), args.compress_level)
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(map(str, exc.cmd[:3]))} … failed with status {exc.returncode}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
