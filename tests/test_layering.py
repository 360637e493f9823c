"""The import rules of ARCHITECTURE.md: engine/, sync/ and server/ never import Qt;
engine/, sync/ and widgets/ never import app/; engine/ never imports widgets/ or sync/.

Checked two ways: statically (every import statement, also inside functions) and
dynamically (importing every engine module in a fresh interpreter loads no Qt module).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
QT = ("PySide6", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6")

RULES = {
    "engine": QT + ("app", "widgets", "sync", "server"),
    "sync": QT + ("app", "widgets", "server"),
    "server": QT + ("app", "widgets", "sync"),
    "widgets": ("app",),
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layer_imports_only_downward(layer):
    forbidden = RULES[layer]
    bad = []
    for path in sorted((REPO / layer).rglob("*.py")):
        for lineno, mod in _imports(path):
            if mod.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(REPO)}:{lineno} imports {mod}")
    assert not bad, "layering violated:\n" + "\n".join(bad)


def test_importing_every_engine_module_loads_no_qt():
    mods = sorted(
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in (REPO / "engine").rglob("*.py")
        if "migrations" not in p.parts
    )
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}:\n    importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_static_check_catches_a_violation(tmp_path):
    # The checker itself must be able to fail.
    f = tmp_path / "x.py"
    f.write_text("def f():\n    from PySide6.QtCore import QObject\n")
    assert any(m.startswith("PySide6") for _, m in _imports(f))
