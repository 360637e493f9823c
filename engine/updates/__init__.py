"""Auto-update over The Update Framework (TUF), with python-tuf (its reference implementation).

* ``engine.updates.repository`` -- the maintainers' side: keys, the signed metadata of the
  roles root, targets, snapshot, timestamp and the delegated channel roles ``stable`` and
  ``beta``, and the static repository folder (``stockscanner release init|add|sign|rotate|publish``).
* ``engine.updates.client`` -- the workstation's side: ``tuf.ngclient.Updater`` refreshes the
  metadata from the repository (trusting only the root shipped in ``resources/update/root.json``
  and the chain of roots it signs), finds the newest bundle of this platform and channel and
  downloads it, verified against its length and hashes.
* ``engine.updates.install`` -- side-by-side installs (``versions/<v>/stockscanner/``) with a
  ``current.json`` pointer switched atomically only after the new version's ``--version`` ran;
  the previous version stays runnable.

No Qt here (import-linter contract): the feature module ``app/features/updates.py`` runs these
in workers and asks the user.
"""
from __future__ import annotations

import platform as _platform
import re
import sys

CHANNELS = ("stable", "beta")
#: ``stockscanner-<version>-<platform>.tar.gz`` (or ``.zip``), built by installer/build.py.
BUNDLE_RE = re.compile(
    r"^stockscanner-(?P<version>\d+(?:\.\d+){0,3}(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)"
    r"-(?P<platform>(?:linux|windows|macos)-(?:x86_64|arm64))(?P<ext>\.tar\.gz|\.zip)$")


def current_platform() -> str:
    """This machine's bundle platform: ``linux-x86_64``, ``windows-x86_64``, ``macos-arm64`` ..."""
    system = "windows" if sys.platform.startswith("win") else "macos" if sys.platform == "darwin" else "linux"
    machine = _platform.machine().lower()
    arch = {"amd64": "x86_64", "x64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{system}-{arch}"


def parse_bundle_name(name: str) -> tuple[str, str]:
    """``(version, platform)`` of a bundle file name; ``ValueError`` if it breaks the contract."""
    m = BUNDLE_RE.match(name)
    if not m:
        raise ValueError(f"{name!r} is not named stockscanner-<version>-<platform>.tar.gz (or .zip), "
                         "platform one of linux|windows|macos - x86_64|arm64")
    return m.group("version"), m.group("platform")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an update repository (None if it can): https only, plain http only
    to this computer (metadata is verified either way; TLS keeps what is fetched private)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return "is not a URL"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host in ("127.0.0.1", "localhost", "::1"):
        return None
    return "must start with https:// (plain http only for a repository on this computer)"


def pointer_path(channel: str, platform: str) -> str:
    """The TUF target path of a channel's "newest bundle for this platform" pointer."""
    return f"{channel}/latest-{platform}.json"
