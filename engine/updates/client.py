"""The workstation's side: find and download the newest bundle with ``tuf.ngclient.Updater``.

Trust starts at the root shipped with the program (``resources/update/root.json``, passed as
``bootstrap``); the Updater follows the chain of newer roots the repository signs (each
signed by its predecessor's threshold), refuses expired, rolled-back, mixed or unsigned
metadata, and downloads a target only up to its signed length and only if its hashes match
(TUF specification §5). The cache (``metadata/``) keeps the newest trusted versions, so a
repository that later serves older metadata is refused (rollback).

What is found: each channel role lists, per platform, ``<channel>/latest-<platform>.json`` (a
small signed pointer naming the bundle) and the bundles
``<channel>/stockscanner-<version>-<platform>.tar.gz`` with ``custom`` metadata
``{"version", "platform", "notes"}``. The beta channel also sees stable releases.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version
from tuf.api import exceptions as tuf_errors
from tuf.api.metadata import TargetFile
from tuf.ngclient import Updater, UpdaterConfig

from engine.updates import CHANNELS, current_platform, parse_bundle_name, pointer_path, url_problem

log = logging.getLogger(__name__)

#: the pointer is a few hundred bytes; anything longer is refused before it is read.
POINTER_MAX = 4096


class UpdateError(Exception):
    """The check or download did not complete (network, repository down, bad settings)."""


class UpdateRefused(UpdateError):
    """The repository served something TUF's verification refuses (a possible attack):
    expired, rolled back, unsigned or foreign-signed metadata, a wrong length or hash."""


@dataclass(frozen=True)
class Offer:
    """A newer version available for this platform on a channel."""

    version: str
    platform: str
    channel: str
    target_path: str
    notes: str
    length: int
    sha256: str


def _parse_version(v: str) -> Version:
    try:
        return Version(v)
    except InvalidVersion as exc:
        raise UpdateRefused(f"the repository names an invalid version {v!r}") from exc


class UpdateClient:
    """One update check: ``check()`` then, for an offer, ``download(offer)``.

    ``url`` is the repository's base (``<url>/metadata/`` and ``<url>/targets/``); ``cache_dir``
    is this device's TUF cache (metadata) and downloads; ``root`` the bootstrap root bytes.
    """

    def __init__(self, url: str, cache_dir: str | Path, channel: str, *, root: bytes,
                 current_version: str, platform: str | None = None) -> None:
        if channel not in CHANNELS:
            raise UpdateError(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
        url = url.strip().rstrip("/")
        problem = url_problem(url)
        if problem:
            raise UpdateError(f"the update URL {problem}")
        self.url = url
        self.cache_dir = Path(cache_dir)
        self.channel = channel
        self.root = root
        self.current = _parse_version(current_version)
        self.platform = platform or current_platform()
        self._updater: Updater | None = None

    @property
    def metadata_dir(self) -> Path:
        return self.cache_dir / "metadata"

    @property
    def downloads_dir(self) -> Path:
        return self.cache_dir / "downloads"

    def _new_updater(self) -> Updater:
        self.metadata_dir.mkdir(parents=True, exist_ok=True)
        self.downloads_dir.mkdir(parents=True, exist_ok=True)
        return Updater(str(self.metadata_dir), f"{self.url}/metadata/", str(self.downloads_dir),
                       f"{self.url}/targets/", config=UpdaterConfig(app_user_agent="StockScanner"),
                       bootstrap=self.root)

    def refresh(self) -> Updater:
        """Refresh the top-level metadata (root chain, timestamp, snapshot, targets)."""
        try:
            updater = self._new_updater()
            updater.refresh()
        except (tuf_errors.RepositoryError, tuf_errors.DownloadLengthMismatchError) as exc:
            raise UpdateRefused(f"update metadata refused ({type(exc).__name__}): {exc}") from exc
        except (tuf_errors.DownloadError, OSError) as exc:
            raise UpdateError(f"cannot reach the update repository ({type(exc).__name__}): {exc}") from exc
        self._updater = updater
        return updater

    def check(self) -> Offer | None:
        """The newest version above the running one for this platform and channel, or None."""
        updater = self.refresh()
        best: Offer | None = None
        channels = ("beta", "stable") if self.channel == "beta" else ("stable",)
        for ch in channels:
            offer = self._channel_offer(updater, ch)
            if offer and (best is None or _parse_version(offer.version) > _parse_version(best.version)):
                best = offer
        if best is None or _parse_version(best.version) <= self.current:
            return None
        return best

    def _channel_offer(self, updater: Updater, channel: str) -> Offer | None:
        try:
            info = updater.get_targetinfo(pointer_path(channel, self.platform))
            if info is None:
                return None
            if info.length > POINTER_MAX:
                raise UpdateRefused(f"the {channel} pointer is {info.length} bytes")
            path = updater.find_cached_target(info) or updater.download_target(info)
            pointer = json.loads(Path(path).read_bytes())
            target = str(pointer["target"])
            version, platform = parse_bundle_name(target.rpartition("/")[2])
            if (not target.startswith(f"{channel}/") or platform != self.platform
                    or version != str(pointer["version"])):
                raise UpdateRefused(f"the {channel} pointer names {target}, not a {self.platform} bundle "
                                    f"of version {pointer['version']}")
            tf = updater.get_targetinfo(target)
        except (tuf_errors.RepositoryError, tuf_errors.DownloadLengthMismatchError) as exc:
            raise UpdateRefused(f"update refused ({type(exc).__name__}): {exc}") from exc
        except (tuf_errors.DownloadError, OSError) as exc:
            raise UpdateError(f"cannot download from the update repository ({type(exc).__name__}): {exc}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise UpdateRefused(f"the {channel} pointer is malformed: {exc}") from exc
        if tf is None:
            raise UpdateRefused(f"the {channel} pointer names {target}, which the {channel} role does not list")
        custom = tf.custom if isinstance(tf.custom, dict) else {}
        if str(custom.get("version")) != version:
            raise UpdateRefused(f"{target}: its metadata says version {custom.get('version')!r}")
        return Offer(version=version, platform=platform, channel=channel, target_path=target,
                     notes=str(custom.get("notes", "")), length=int(tf.length), sha256=str(tf.hashes.get("sha256", "")))

    def download(self, offer: Offer) -> Path:
        """Download (or find in the cache) the offer's bundle, verified against its signed
        length and hashes; the path of the verified file."""
        updater = self._updater or self.refresh()
        try:
            info: TargetFile | None = updater.get_targetinfo(offer.target_path)
            if info is None:
                raise UpdateRefused(f"{offer.target_path} is no longer listed")
            dest = str(self.downloads_dir / offer.target_path.rpartition("/")[2])
            cached = updater.find_cached_target(info, dest)
            return Path(cached or updater.download_target(info, dest))
        except (tuf_errors.RepositoryError, tuf_errors.DownloadLengthMismatchError) as exc:
            raise UpdateRefused(f"the bundle was refused ({type(exc).__name__}): {exc}") from exc
        except (tuf_errors.DownloadError, OSError) as exc:
            raise UpdateError(f"cannot download the bundle ({type(exc).__name__}): {exc}") from exc
