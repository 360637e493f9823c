"""installer/: the bundle's name and layout (the contract with the TUF updater), the tarball
packing, the frozen entry point's dispatch, the generated icons and the CI workflow.

The bundle itself is built and run by ``installer/smoke.py`` (a step of .ci/run): building
takes minutes, too long for a unit test.
"""
from __future__ import annotations

import configparser
import importlib.util
import io
import stat
import struct
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "installer"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"installer_{name}", INSTALLER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


build = _load("build")


def test_bundle_name_is_the_update_target_name():
    import engine

    assert build.version() == engine.__version__
    assert build.bundle_name("0.1.0", "linux", "x86_64") == "stockscanner-0.1.0-linux-x86_64"
    assert build.bundle_name().startswith(f"stockscanner-{engine.__version__}-")


def test_desktop_entry_has_the_required_keys():
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.optionxform = str
    cfg.read_string(build.desktop_entry("1.2.3"))
    entry = cfg["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Stock Scanner"
    assert entry["Exec"].split()[0] == "stockscanner"
    assert entry["Icon"] == "stockscanner"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")  # a list, ';'-terminated as the spec wants
    assert entry["X-StockScanner-Version"] == "1.2.3"


def _fake_bundle(folder: Path) -> Path:
    (folder / "_internal" / "engine").mkdir(parents=True)
    exe = folder / "stockscanner"
    exe.write_bytes(b"\x7fELF fake")
    exe.chmod(0o700)
    data = folder / "_internal" / "engine" / "data.bin"
    data.write_bytes(b"x" * 1000)
    data.chmod(0o600)
    build.linux_layout(folder, "9.9.9")
    return folder


def test_tarball_has_one_top_folder_sorted_root_owned_and_readable(tmp_path):
    folder = _fake_bundle(tmp_path / "dist" / "stockscanner")
    out = build.make_tarball(folder, tmp_path / "b.tar.gz", "stockscanner", level=1)
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[0] == "stockscanner"
    assert all(n == "stockscanner" or n.startswith("stockscanner/") for n in names)
    assert names[1:] == sorted(names[1:])
    assert {"stockscanner/stockscanner", "stockscanner/stockscanner.desktop", "stockscanner/stockscanner.png",
            "stockscanner/install.sh", "stockscanner/_internal/engine/data.bin"} <= set(names)
    by_name = {m.name: m for m in members}
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" for m in members)
    assert stat.S_IMODE(by_name["stockscanner/stockscanner"].mode) == 0o755  # others may run it
    assert stat.S_IMODE(by_name["stockscanner/_internal/engine/data.bin"].mode) == 0o644
    assert stat.S_IMODE(by_name["stockscanner/install.sh"].mode) == 0o755


def test_tarball_is_reproducible(tmp_path):
    folder = _fake_bundle(tmp_path / "stockscanner")
    a = build.make_tarball(folder, tmp_path / "a.tar.gz", "stockscanner", level=1).read_bytes()
    b = build.make_tarball(folder, tmp_path / "b.tar.gz", "stockscanner", level=1).read_bytes()
    assert a == b  # same files, same bytes: gzip mtime 0, sorted members, no owner names


def test_install_sh_points_the_desktop_entry_at_the_folder(tmp_path):
    import subprocess

    folder = _fake_bundle(tmp_path / "opt" / "stockscanner")
    data = tmp_path / "share"
    subprocess.run(["sh", str(folder / "install.sh")], check=True, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(data)})
    text = (data / "applications" / "stockscanner.desktop").read_text()
    assert f'Exec="{folder}/stockscanner" %F' in text
    icon = data / "icons" / "hicolor" / "256x256" / "apps" / "stockscanner.png"
    assert f"Icon={icon}" in text
    assert icon.read_bytes() == (REPO / "resources" / "icons" / "stockscanner-256.png").read_bytes()


def test_entry_runs_the_embedded_service_for_its_module_argument(monkeypatch):
    entry = _load("entry")
    seen = {}
    import server.embedded

    monkeypatch.setattr(server.embedded, "main", lambda argv: seen.setdefault("argv", argv) and 7)
    monkeypatch.setattr(sys, "argv", ["stockscanner", "-m", "server.embedded", "--data-dir", "/x"])
    assert entry.main() == 7
    assert seen["argv"] == ["--data-dir", "/x"]


def test_entry_runs_the_cli_otherwise_and_no_other_module(monkeypatch):
    entry = _load("entry")
    import app.cli

    calls = []
    monkeypatch.setattr(app.cli, "main", lambda: calls.append(list(sys.argv)) or 3)
    monkeypatch.setattr(sys, "argv", ["stockscanner", "-m", "os", "--version"])
    assert entry.main() == 3  # not run as a module: the CLI gets it (and refuses the -m)
    assert calls == [["stockscanner", "-m", "os", "--version"]]


# ----------------------------------------------------------------------------- icons

ICONS = REPO / "resources" / "icons"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def test_ico_holds_png_images_16_to_256():
    data = (ICONS / "stockscanner.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        w, h, _c, _r, planes, bpp, length, offset = struct.unpack("<BBBBHHII", data[6 + 16 * i:22 + 16 * i])
        png = data[offset:offset + length]
        assert _png_size(png) == ((w or 256), (h or 256))
        assert (planes, bpp) == (1, 32)
        sizes.append(w or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]


def test_icns_holds_png_images_128_to_1024():
    data = (ICONS / "stockscanner.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    pos, found = 8, {}
    while pos < len(data):
        kind, length = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        found[kind] = _png_size(data[pos + 8:pos + length])
        pos += length
    assert found == {b"ic07": (128, 128), b"ic08": (256, 256), b"ic09": (512, 512), b"ic10": (1024, 1024)}


def test_icons_are_what_the_script_draws(tmp_path, qapp):
    # qapp: the script draws with the running QApplication; with none it makes a
    # QGuiApplication, which would outlive the test and abort the worker's next QWidget
    make_icons = _load("make_icons")
    written = make_icons.main(tmp_path)
    assert (tmp_path / "stockscanner.svg").read_text() == (ICONS / "stockscanner.svg").read_text()
    from PySide6.QtGui import QImage

    for path in written:
        if path.suffix == ".png":
            committed = QImage(str(ICONS / path.name))
            fresh = QImage(str(path))
            assert committed.size() == fresh.size() and not committed.isNull()
            assert committed.pixel(committed.width() // 2 - 1, committed.height() // 2) \
                == fresh.pixel(fresh.width() // 2 - 1, fresh.height() // 2)
    # the tile is drawn, corners are transparent: a real icon, not a blank square
    big = QImage(str(ICONS / "stockscanner-256.png"))
    assert big.pixelColor(0, 0).alpha() == 0
    assert big.pixelColor(128, 128).alpha() == 255


# ----------------------------------------------------------------------------- CI workflow

WORKFLOW = REPO / ".github" / "workflows" / "build.yml"


def test_workflow_builds_on_three_oses_with_the_build_script():
    wf = yaml.safe_load(WORKFLOW.read_text())
    job = wf["jobs"]["bundle"]
    oses = job["strategy"]["matrix"]["os"]
    assert {o.split("-")[0] for o in oses} == {"ubuntu", "windows", "macos"}
    runs = [s.get("run", "") for s in job["steps"]]
    assert any("installer/build.py" in r for r in runs)
    assert any("installer/smoke.py" in r for r in runs)
    assert wf["permissions"] == {"contents": "read"}  # least privilege for a build
    # every action pinned to a major version
    uses = [s["uses"] for s in job["steps"] if "uses" in s]
    assert uses and all("@v" in u for u in uses)


def test_spec_reads_the_version_and_ships_the_data_folders():
    text = (INSTALLER / "stockscanner.spec").read_text()
    for needle in ('"resources"', '"engine" / "store" / "migrations"', '"server" / "migrations"',
                   "common-passwords.txt.gz", '"tkinter"', '"PyQt6"', "__version__"):
        assert needle in text
