"""The diagnostics zip: logs, settings and health results with secrets removed.

``redact(text)`` replaces, in this order: PEM blocks (``-----BEGIN … KEY-----`` … ``END``),
JSON Web Tokens (three base64url parts, the first starting ``eyJ``), ``Bearer <token>``,
the value of any ``name=value`` / ``name: value`` / ``"name": "value"`` whose name contains
password, passwd, pwd, secret, token, key, auth, cookie or credential, and e-mail addresses.
Each becomes ``[REDACTED]`` (``[REDACTED-EMAIL]`` for an address). What is redacted errs on
the side of too much: a diagnostics file is read by strangers.
"""
from __future__ import annotations

import json
import platform
import re
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.S)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}")
_NAMED = re.compile(
    r"""(?ix)
    ( [\w.\-/]*? (?:password|passwd|pwd|secret|token|key|auth|cookie|credential) [\w.\-/]* ["']? \s* [=:] \s* ["']? )
    ( [^\s"'&,;}\]]+ )
    """)
_EMAIL = re.compile(r"[\w.+%-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def redact(text: str) -> str:
    """``text`` with tokens, passwords, keys and e-mail addresses replaced (module docstring)."""
    text = _PEM.sub(REDACTED, text)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _NAMED.sub(lambda m: m.group(1) + REDACTED, text)
    return _EMAIL.sub("[REDACTED-EMAIL]", text)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def write_zip(out: Path, *, log_files: Iterable[Path], settings_file: Path | None,
              health: list[dict[str, Any]], extra: dict[str, str] | None = None) -> Path:
    """Write the diagnostics zip ``out``: ``logs/<name>``, ``settings.ini``, ``health.json``
    and ``system.txt``, every text through ``redact``. Returns ``out``.

    Raises ``FileExistsError`` if ``out`` exists and ``OSError`` if it cannot be written.
    """
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose another file")
    from engine import __version__

    system = (f"stockscanner {__version__}\npython {sys.version.split()[0]}\n"
              f"platform {platform.platform()}\n")
    tmp = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(set(log_files)):
            if f.is_file():
                zf.writestr(f"logs/{f.name}", redact(_read(f)))
        if settings_file is not None and settings_file.is_file():
            zf.writestr("settings.ini", redact(_read(settings_file)))
        zf.writestr("health.json", redact(json.dumps({"checks": health}, indent=2)))
        zf.writestr("system.txt", redact(system))
        for name, text in (extra or {}).items():
            zf.writestr(name, redact(text))
    tmp.replace(out)
    return out
