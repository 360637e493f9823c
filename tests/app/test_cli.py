"""The headless CLI, run as a user would (a child process with --data-dir)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args, home=None, check=True):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("STOCKSCANNER_HOME", None)
    cmd = [sys.executable, "-m", "app"] + ([f"--data-dir={home}"] if home else []) + list(args)
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    if check and r.returncode != 0:
        raise AssertionError(f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def test_version():
    from engine import __version__

    assert run_cli("--version").stdout.strip() == f"stockscanner {__version__}"


def test_import_json_reports_rows_and_range(tmp_path, shared_data):
    r = run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), "--json", home=tmp_path)
    out = json.loads(r.stdout)
    assert out == {"symbol": "ORCL", "timeframe": "1d", "rows": 5036, "first": "1995-01-03", "last": "2014-12-31"}


def test_import_of_the_8_column_futures_file(tmp_path, shared_data):
    r = run_cli("import", str(shared_data / "FUT-2006-1min.csv"), "--symbol", "FUT", "--json", home=tmp_path)
    out = json.loads(r.stdout)
    assert out["rows"] == 30889 and out["timeframe"] == "1m" and out["symbol"] == "FUT"


def test_import_of_a_bad_csv_fails_cleanly_with_the_row(tmp_path):
    bad = tmp_path / "BAD.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,100\n2020-01-03,1,0.5,2,1.5,100\n")
    r = run_cli("import", str(bad), home=tmp_path / "home", check=False)
    assert r.returncode == 1
    assert "line 3" in r.stderr.lower() or "row 3" in r.stderr.lower()
    assert "Traceback" not in r.stderr


def test_unwritable_data_dir_is_a_clear_error(tmp_path, shared_data):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("import", str(shared_data / "ORCL-1995-2014.csv"), home=blocker / "sub", check=False)
    assert r.returncode == 1 and "cannot be written" in r.stderr and "Traceback" not in r.stderr


def test_screenshot_renders_the_demo_workspace(tmp_path):
    out = tmp_path / "shot.png"
    run_cli("screenshot", str(out), "--size", "1200x800", home=tmp_path / "home")
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == (1200, 800)
    # not a blank image: many distinct colours (candles, text, badge)
    colors = {img.pixel(x, y) for x in range(0, 1200, 7) for y in range(0, 800, 7)}
    assert len(colors) > 50


def test_window_refuses_a_damaged_database_and_leaves_it_untouched(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "stockscanner.sqlite3"
    junk = b"definitely not sqlite" * 64
    db.write_bytes(junk)
    r = run_cli(home=home, check=False)  # no verb: the window
    assert r.returncode == 1
    assert "damaged" in r.stderr and "has not been changed" in r.stderr
    assert db.read_bytes() == junk


def test_window_on_an_unwritable_data_dir_explains(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli(home=blocker / "sub", check=False)
    assert r.returncode == 1 and "cannot be written" in r.stderr
