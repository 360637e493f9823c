"""Where the workstation keeps its files.

Precedence: an explicit ``--data-dir`` (``set_data_dir``), then ``STOCKSCANNER_HOME``,
then the platform's user data dir (``platformdirs``). Logs go to ``<home>/logs`` when a
home is set explicitly, else to the platform's user log dir.
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
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


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
    """Create ``path`` (a folder) and prove it is writable, or raise ``DataDirError``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise DataDirError(
            f"The data folder {path} cannot be written ({exc.strerror or exc}). "
            "Choose another folder with --data-dir or STOCKSCANNER_HOME, or fix its permissions."
        ) from exc
    return path
