"""python -m bench [--only WORD] [--json PATH]  (see bench/core.py)."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from bench.core import Result, machine_line, registry


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--only", default=None, help="run benchmarks whose name contains WORD")
    p.add_argument("--json", default=None, metavar="PATH", help="write results as JSON")
    args = p.parse_args(argv)
    for mod in sorted(Path(__file__).parent.glob("bench_*.py")):
        importlib.import_module(f"bench.{mod.stem}")
    results: list[Result] = []
    print(machine_line())
    print(f"{'benchmark':44} {'ours':>11} {'peer':>24} {'peer time':>11} {'ratio':>8}")
    for name, fn in sorted(registry().items()):
        if args.only and args.only not in name:
            continue
        try:
            out = fn()
        except Exception as exc:  # noqa: BLE001 - report and go on with the rest
            print(f"{name:44} FAILED: {exc}", file=sys.stderr)
            continue
        for r in out if isinstance(out, list) else [out]:
            results.append(r)
            peer_s = f"{r.peer_s * 1e3:9.2f}ms" if r.peer_s is not None else "-"
            ratio = f"{r.ratio:7.2f}x" if r.ratio is not None else "-"
            print(f"{r.name:44} {r.ours_s * 1e3:9.2f}ms {r.peer or '-':>24} {peer_s:>11} {ratio:>8}"
                  + (f"  {r.note}" if r.note else ""), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([r.to_dict() for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
