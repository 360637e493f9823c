"""Where the workstation keeps its files.

Precedence: an explicit ``--data-dir`` (``set_data_dir``), then ``STOCKSCANNER_HOME``,
then the folder chosen in Settings → Data folder (kept in ``location.json`` in the
platform's user *config* dir, since it cannot live inside the folder it points to), then
the platform's user data dir (``platformdirs``). Logs go to ``<home>/logs`` when a home is
set explicitly, else to the platform's user log dir.
"""
from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "StockScanner"
APP_AUTHOR = "StockScanner"

_override: Path | None = None


class DataDirError(OSError):
    """The data folder cannot be created or written."""


def set_data_dir(path: str | os.PathLike[str] | None) -> None:
    """Point every file of the app at ``path`` (``None`` restores the default)."""
    global _override
    _override = Path(path).expanduser().resolve() if path else None


def data_dir() -> Path:
    """The data folder (not created)."""
    if _override is not None:
        return _override
    env = os.environ.get("STOCKSCANNER_HOME")
    if env:
        return Path(env).expanduser().resolve()
    chosen = chosen_data_dir()
    if chosen is not None:
        return chosen
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def location_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)) / "location.json"


def chosen_data_dir() -> Path | None:
    """The data folder picked in Settings (None if none, or if the file is unreadable)."""
    import json

    try:
        raw = json.loads(location_file().read_text(encoding="utf-8"))
        return Path(raw["data_dir"]).expanduser().resolve() if raw.get("data_dir") else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def choose_data_dir(path: str | os.PathLike[str] | None) -> None:
    """Remember ``path`` as the data folder for the next start (None: back to default)."""
    import json

    if path:
        ensure_writable(Path(path).expanduser())
    f = location_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    tmp = f.with_suffix(".tmp")
    tmp.write_text(json.dumps({"data_dir": str(path) if path else None}), encoding="utf-8")
    tmp.replace(f)


def explicit_home() -> bool:
    return _override is not None or bool(os.environ.get("STOCKSCANNER_HOME"))


def log_dir() -> Path:
    if explicit_home():
        return data_dir() / "logs"
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def database_path() -> Path:
    return data_dir() / "stockscanner.sqlite3"


def ensure_writable(path: Path) -> Path:
    """Create ``path`` (a folder) and prove it is writable, or raise ``DataDirError``.

    The probe file has a unique name (``.write-test-XXXX``) and is removed again, so two
    processes or threads checking the same folder at once do not trip over each other.
    """
    import tempfile

    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-test-")
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise DataDirError(
            f"The data folder {path} cannot be written ({exc.strerror or exc}). "
            "Choose another folder with --data-dir or STOCKSCANNER_HOME, or fix its permissions."
        ) from exc
    return path
