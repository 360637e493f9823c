"""Smoke test of the Linux bundle: ``python installer/smoke.py [--tarball PATH] [--out DIR]``.

Builds the bundle with ``installer/build.py`` (unless ``--tarball`` names one), unpacks the
tarball into a fresh folder and runs the bundled program the way a user's machine would, with
no Python: every run gets a clean environment (like ``env -i``) whose ``PATH`` is one folder holding
tripwires -- ``python``, ``python3``, ``python3.11`` … that record their call and
fail -- beside links to every other program of ``/usr/bin`` and ``/bin`` (what
``env -i PATH=/usr/bin:/bin`` gives, minus any Python), so a bundle that needed an
interpreter on PATH fails here; ``PYTHONHOME``,
``PYTHONPATH`` and the venv are not set. Checks, in order:

1. the tarball's layout: one top folder ``stockscanner/`` with the ``stockscanner``
   executable, ``stockscanner.desktop`` (the keys the Desktop Entry Specification requires)
   and ``stockscanner.png``; the Qt platform plugins offscreen and xcb are inside;
2. ``stockscanner --version`` prints ``stockscanner <engine.__version__>``;
3. ``stockscanner screenshot`` (QT_QPA_PLATFORM=offscreen) writes a PNG of the window at the
   asked size that is a picture, not a blank: many colours, most rows and columns not of one
   colour;
4. ``stockscanner backtest`` on ``tests/data/NVDA-1999-2014.csv`` prints JSON whose trades
   and final equity equal those of the same command run from source (``python -m app.cli``);
5. ``stockscanner -m server.embedded`` (the child the window starts) announces its port and
   answers ``/ready`` with 200;
6. the CI workflow ``.github/workflows/build.yml`` validates against the GitHub workflow
   schema (``check-jsonschema --builtin-schema vendor.github-workflows``, offline);
7. no tripwire was called.

Prints each step's time and a JSON summary (bundle size, times); exit status 0 when all pass.
"""
from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "installer"))

import build  # noqa: E402 - installer/build.py, beside this file

CSV = ROOT / "tests" / "data" / "NVDA-1999-2014.csv"
ENTRY = "crosses_above(sma(close,10), sma(close,30))"
EXIT = "crosses_below(sma(close,10), sma(close,30))"
SHOT_SIZE = (1280, 800)
TRIPWIRES = ("python", "python3", "python3.11", "python3.12", "python3.13", "pip", "pip3")


class SmokeError(Exception):
    pass


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SmokeError(what)


_PYTHON_NAME = re.compile(r"python|^pip|^pydoc|^2to3|^idle|^py3|\.py$")


def _is_python(name: str) -> bool:
    return bool(_PYTHON_NAME.search(name)) or name in TRIPWIRES


def _runs_python(prog: Path) -> bool:
    """A script whose ``#!`` line names a Python interpreter."""
    try:
        with open(prog, "rb") as f:
            head = f.readline(200)
    except OSError:
        return True
    return head.startswith(b"#!") and b"python" in head


def tripwire_path(folder: Path, system: tuple[str, ...] = ("/usr/bin", "/bin")) -> tuple[Path, Path]:
    """A PATH folder standing for ``/usr/bin:/bin`` minus Python: a link to every program
    there except the interpreters, pip and their kin, and in their place failing stand-ins
    (tripwires) for ``python``, ``python3``, …; returns it and the file each tripwire appends
    its call to."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    log = folder / "tripwire.log"
    for d in system:
        for prog in sorted(Path(d).iterdir()) if Path(d).is_dir() else ():
            link = bin_dir / prog.name
            if not (_is_python(prog.name) or link.exists() or not os.access(prog, os.X_OK)
                    or _runs_python(prog)):
                link.symlink_to(prog)
    for name in TRIPWIRES:
        p = bin_dir / name
        p.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\nexit 127\n', encoding="utf-8")
        p.chmod(0o755)
    return bin_dir, log


def clean_env(bin_dir: Path, home: Path, **extra: str) -> dict[str, str]:
    """What ``env -i PATH=BIN HOME=HOME ...`` gives the child: nothing else."""
    return {"PATH": str(bin_dir), "HOME": str(home), "LANG": "C.UTF-8", **extra}


def run(cmd: list[str], env: dict[str, str], timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=env["HOME"])
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SmokeError(f"{' '.join(cmd[:4])} … exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc, dt


def check_layout(top: Path) -> None:
    exe = top / build.NAME
    check(exe.is_file() and os.access(exe, os.X_OK), f"{exe} is not an executable file")
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str  # type: ignore[assignment,method-assign] - keys are case-sensitive
    desktop.read(top / f"{build.NAME}.desktop", encoding="utf-8")
    entry = desktop["Desktop Entry"] if desktop.has_section("Desktop Entry") else {}
    for key in ("Type", "Name", "Exec", "Icon"):
        check(key in entry, f"the .desktop file has no {key}")
    check(entry.get("Type") == "Application", "the .desktop entry is not an Application")
    check((top / f"{build.NAME}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "the icon is not a PNG")
    plugins = {p.name for p in top.rglob("platforms/*.so")}
    for plugin in ("libqoffscreen.so", "libqxcb.so"):
        check(plugin in plugins, f"the bundle has no Qt platform plugin {plugin}")


def check_png(path: Path, size: tuple[int, int]) -> dict[str, float]:
    """The screenshot is the window: the asked size, and a picture (not one flat colour)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImage

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    img = QImage(str(path))
    check(not img.isNull(), f"{path} is not an image Qt can read")
    check((img.width(), img.height()) == size, f"the screenshot is {img.width()}x{img.height()}, not {size}")
    img = img.convertToFormat(QImage.Format.Format_RGB32)
    w, h = img.width(), img.height()
    colours: set[int] = set()
    flat_rows = 0
    for y in range(0, h, 4):
        row = {img.pixel(x, y) for x in range(0, w, 4)}
        colours |= row
        flat_rows += len(row) == 1
    rows = len(range(0, h, 4))
    check(len(colours) >= 64, f"the screenshot has only {len(colours)} colours: blank or nearly so")
    check(flat_rows / rows < 0.5, f"{flat_rows} of {rows} sampled rows are one flat colour")
    return {"colours": len(colours), "flat_rows": flat_rows / rows}


def backtest_cmd(prefix: list[str], data_dir: Path) -> list[str]:
    return [*prefix, "--data-dir", str(data_dir), "backtest", str(CSV), "--entry", ENTRY, "--exit", EXIT,
            "--qty", "10", "--json"]


def check_embedded(exe: Path, env: dict[str, str], data_dir: Path) -> float:
    """The embedded service runs from the bundle: port announced, /ready answers 200."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), "-m", "server.embedded", "--data-dir", str(data_dir)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=env["HOME"])
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise SmokeError(f"the embedded service exited {proc.wait(10)}: {proc.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
        port = int(json.loads(line)["port"])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/ready", timeout=30) as r:
            check(r.status == 200, f"/ready answered {r.status}")
        return time.perf_counter() - t0
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the service stops when its stdin closes
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def lint_workflow() -> None:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).with_name("check-jsonschema"))
    proc = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows",
                           str(ROOT / ".github" / "workflows" / "build.yml")], capture_output=True, text=True)
    check(proc.returncode == 0, f"the CI workflow does not validate:\n{proc.stdout}{proc.stderr}")


def smoke(tarball: Path, work: Path) -> dict[str, object]:
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    dest = work / "unpacked"
    dest.mkdir()
    tar_exe = shutil.which("tar")
    if tar_exe is not None:  # GNU tar's C gzip unpacks ~800 MB several times faster than tarfile
        subprocess.run([tar_exe, "-xzf", str(tarball), "-C", str(dest)], check=True)
    else:
        with tarfile.open(tarball) as tar:
            tar.extractall(dest, filter="tar")
    tops = sorted(p.name for p in dest.iterdir())
    check(tops == [build.NAME], f"the tarball's top entries are {tops}, not ['{build.NAME}']")
    times["unpack_s"] = time.perf_counter() - t0
    top = work / "unpacked" / build.NAME
    check_layout(top)
    exe = top / build.NAME
    bin_dir, trip_log = tripwire_path(work / "env")
    home = work / "home"
    home.mkdir()
    env = clean_env(bin_dir, home)
    for name in ("python3", "python"):
        check(shutil.which(name, path=env["PATH"]) == str(bin_dir / name), f"{name} on the smoke PATH is not the tripwire")
    check(not any(_is_python(p.name) and p.is_symlink() for p in bin_dir.iterdir()), "a Python is linked on the smoke PATH")

    proc, times["version_s"] = run([str(exe), "--version"], env)
    want = f"stockscanner {build.version()}"
    check(proc.stdout.strip() == want, f"--version printed {proc.stdout.strip()!r}, not {want!r}")

    shot = work / "window.png"
    w, h = SHOT_SIZE
    _, times["screenshot_s"] = run([str(exe), "--data-dir", str(work / "data-shot"), "screenshot", str(shot),
                                    "--size", f"{w}x{h}"], clean_env(bin_dir, home, QT_QPA_PLATFORM="offscreen"))
    picture = check_png(shot, SHOT_SIZE)

    proc, times["backtest_s"] = run(backtest_cmd([str(exe)], work / "data-bt"), env)
    bundled = json.loads(proc.stdout)
    for key in ("symbol", "trades", "final_equity"):
        check(key in bundled, f"the backtest JSON has no {key!r}")
    check(len(bundled["trades"]) > 10, f"the backtest made {len(bundled['trades'])} trades")
    source_env = {k: v for k, v in os.environ.items() if k != "STOCKSCANNER_HOME"}
    source = subprocess.run(backtest_cmd([sys.executable, "-m", "app.cli"], work / "data-src"), cwd=ROOT,
                            env=source_env, capture_output=True, text=True, timeout=300)
    check(source.returncode == 0, f"the backtest from source failed: {source.stderr[-2000:]}")
    from_source = json.loads(source.stdout)
    check(bundled["trades"] == from_source["trades"], "the bundle's trades differ from the source's")
    check(bundled["final_equity"] == from_source["final_equity"],
          f"final equity {bundled['final_equity']} from the bundle, {from_source['final_equity']} from source")

    times["embedded_service_s"] = check_embedded(exe, env, work / "data-svc")
    lint_workflow()
    check(not trip_log.exists(), f"the bundle called Python on PATH: {trip_log.read_text() if trip_log.exists() else ''}")
    size = sum(f.lstat().st_size for f in top.rglob("*") if f.is_file() and not f.is_symlink())
    return {
        "tarball": str(tarball),
        "tarball_mb": round(tarball.stat().st_size / 1e6, 1),
        "unpacked_mb": round(size / 1e6, 1),
        "trades": len(bundled["trades"]),
        "final_equity": bundled["final_equity"],
        "screenshot": picture,
        **{k: round(v, 2) for k, v in times.items()},
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python installer/smoke.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--tarball", type=Path, help="smoke-test this tarball instead of building one")
    p.add_argument("--out", type=Path, default=ROOT / "dist", metavar="DIR", help="where to build (default dist/)")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller", metavar="DIR",
                   help="PyInstaller's work folder (see build.py)")
    p.add_argument("--keep", action="store_true", help="keep the unpacked bundle and outputs (printed)")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    summary: dict[str, object] = {}
    if args.tarball is None:
        built = build.build(args.out.resolve(), args.work.resolve(), level=1)  # the layout, not the ratio, is tested
        tarball = Path(built["artifacts"][0]["path"])  # type: ignore[index]
        summary["build_s"] = built["seconds"]
    else:
        tarball = args.tarball.resolve()
    work = Path(tempfile.mkdtemp(prefix="stockscanner-smoke-"))
    try:
        summary.update(smoke(tarball, work))
    except (SmokeError, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as exc:
        print(f"SMOKE FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    summary["total_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
