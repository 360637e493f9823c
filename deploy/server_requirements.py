"""Print the service's requirements (the ``server`` extra of pyproject.toml), one a line.

``deploy/Dockerfile`` and ``deploy/setup-debian.sh`` install these and then the project with
``--no-deps``: the service without Qt, numpy or pandas. Standard library only (Python 3.11+).

    python deploy/server_requirements.py [PYPROJECT] > requirements-server.txt
"""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def server_requirements(pyproject: Path) -> list[str]:
    with pyproject.open("rb") as f:
        data = tomllib.load(f)
    reqs = data["project"]["optional-dependencies"]["server"]
    if not reqs:
        raise SystemExit(f"{pyproject} has an empty [project.optional-dependencies] server list")
    return [str(r) for r in reqs]


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "pyproject.toml"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    print("\n".join(server_requirements(path)))
