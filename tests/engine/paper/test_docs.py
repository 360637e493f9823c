"""The fill rules are written once, in the fill module's docstring; the README's
"Paper broker: fill rules" section carries the same text, so the docs cannot drift."""
import re
from pathlib import Path

import engine.paper.fills as fills

README = Path(__file__).resolve().parents[3] / "README.md"


def _words(text: str) -> str:
    text = re.sub(r"^-{3,}$", "", text, flags=re.M).replace("### ", "")
    return " ".join(text.split())


def test_readme_fill_rules_are_the_module_docstring():
    readme = README.read_text(encoding="utf-8")
    assert "## Paper broker: fill rules" in readme
    section = readme.split("## Paper broker: fill rules", 1)[1].split("\n## ", 1)[0]
    body = fills.__doc__.strip().split("\n", 1)[1]
    assert _words(body) in _words(section)
    for rule in ("next bar", "gaps through the stop", "never inside the spread", "participation",
                 "square-root", "per_share", "latency", "Reg-T"):
        assert rule.lower() in section.lower()
