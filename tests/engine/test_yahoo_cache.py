"""yfinance keeps its caches (time zones, cookies) in the data folder, never in
``~/.cache/py-yfinance``. Checked in a child process with HOME and XDG_CACHE_HOME pointed at
empty folders: yfinance picks its default folder when it is imported."""
import os
import subprocess
import sys
from pathlib import Path

from tests import netguard

REPO = Path(__file__).resolve().parents[2]

CODE = """
from engine.data.errors import NoNetworkError
from engine.data.yahoo import YahooProvider
try:
    YahooProvider(max_retries=0).fetch("ORCL")
except NoNetworkError:
    print("offline")
"""


def test_yfinance_caches_live_in_the_data_folder_not_in_the_home_cache(tmp_path):
    home, xdg, data = tmp_path / "home", tmp_path / "xdg-cache", tmp_path / "data"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(xdg), STOCKSCANNER_HOME=str(data))
    # The child runs under tests/netguard.py (inherited environment): yfinance opens its caches,
    # then every request it makes is refused, which is what the child reports as offline.
    r = subprocess.run([sys.executable, "-c", CODE], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=120)
    refused = netguard.take_violations()
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "offline"
    assert refused and all("yahoo.com" in line for line in refused), refused
    cache = data / "cache" / "yfinance"
    assert (cache / "tkr-tz.db").is_file(), sorted(p.name for p in data.rglob("*"))
    assert not (xdg / "py-yfinance").exists()
    assert not list(home.rglob("*")), "files written in HOME: " + ", ".join(map(str, home.rglob("*")))


def test_cache_folder_follows_the_data_folder(home, monkeypatch):
    from engine.data import yahoo

    calls: list[str] = []

    class FakeYf:
        @staticmethod
        def set_tz_cache_location(path: str) -> None:
            calls.append(path)

    monkeypatch.setattr(yahoo, "_cache_dir", None)
    assert yahoo.use_data_dir_cache(FakeYf) == home / "cache" / "yfinance"
    yahoo.use_data_dir_cache(FakeYf)  # unchanged: yfinance's open cache databases are kept
    other = home.parent / "other"
    monkeypatch.setenv("STOCKSCANNER_HOME", str(other))
    yahoo.use_data_dir_cache(FakeYf)
    assert calls == [str(home / "cache" / "yfinance"), str(other / "cache" / "yfinance")]
