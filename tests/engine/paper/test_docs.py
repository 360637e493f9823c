"""The fill rules are written once: FILL_RULES.md (merged into the README) carries the fill
module's docstring word for word, so the documentation cannot drift from the code's."""
from pathlib import Path

import engine.paper.fills as fills


def test_fill_rules_markdown_is_the_module_docstring():
    md = (Path(fills.__file__).with_name("FILL_RULES.md")).read_text(encoding="utf-8")
    body = fills.__doc__.strip().split("\n", 1)[1]
    assert body in md
    for rule in ("next bar", "gaps through the stop", "never inside the spread", "participation",
                 "square-root", "per_share", "latency", "Reg-T"):
        assert rule.lower() in md.lower()
