"""The import rules of ARCHITECTURE.md: engine/, sync/ and server/ never import Qt;
engine/, sync/ and widgets/ never import app/; engine/ never imports widgets/ or sync/.

Checked three ways: by import-linter's contracts in pyproject.toml (``lint-imports``, also
run by .ci/run), statically here (every import statement, also inside functions), and
dynamically (importing every engine module in a fresh interpreter loads no Qt module).
"""
import ast
import json
import shutil
import subprocess
import sys
import tomllib
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


def _lint_imports(cwd: Path, config: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(pythonpath), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([exe, "--no-cache", "--config", str(config)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_linter_contracts_are_kept():
    r = _lint_imports(REPO, REPO / "pyproject.toml", REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout, r.stdout


def test_import_linter_contracts_catch_violations(tmp_path):
    """Our contracts, over a tree that breaks them (an import inside a function, a relative
    import), must fail."""
    for pkg in ("engine", "sync", "server", "widgets", "app"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "engine" / "qt.py").write_text("def f():\n    from PySide6.QtCore import QObject\n")
    (tmp_path / "engine" / "uses_qt.py").write_text("from . import qt\n")
    (tmp_path / "widgets" / "w.py").write_text("import app.x\n")
    (tmp_path / "app" / "x.py").write_text("")
    (tmp_path / "sync" / "s.py").write_text("from widgets import w\n")
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    lines = ["[tool.importlinter]", 'root_packages = ["engine", "sync", "server", "widgets", "app"]',
             "include_external_packages = true"]
    for c in config["tool"]["importlinter"]["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in c.items()]  # JSON is valid TOML here
    (tmp_path / "contracts.toml").write_text("\n".join(lines) + "\n")
    r = _lint_imports(tmp_path, tmp_path / "contracts.toml", tmp_path)
    assert r.returncode != 0, r.stdout + r.stderr
    for broken in ("engine.qt -> PySide6", "widgets.w -> app.x", "sync.s -> widgets.w"):
        assert broken in r.stdout, r.stdout
