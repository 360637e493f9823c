"""Named parameters, ranges, choices and constraints."""
from __future__ import annotations

import pytest

from engine.research.params import ParamError, Space, Template, parse_expression, parse_param


def test_range_is_inclusive_and_floats_are_clean() -> None:
    assert parse_param("fast=5:50:5").values == (5, 10, 15, 20, 25, 30, 35, 40, 45, 50)
    assert parse_param("k=0.1:0.5:0.1").values == (0.1, 0.2, 0.3, 0.4, 0.5)
    assert parse_param("ma=sma,ema").values == ("sma", "ema")
    assert parse_param("n=14").values == (14,)


@pytest.mark.parametrize("spec, words", [
    ("fast", "NAME=START:STOP:STEP"), ("fast=50:5", "empty"), ("fast=5:50:0", "step must be positive"),
    ("1x=5", "must be a name"), ("fast=a:b", "not a number"), ("fast=5,5", "twice"), ("fast=0:1e9", "at most"),
])
def test_bad_declarations_say_why(spec: str, words: str) -> None:
    with pytest.raises(ParamError, match=words):
        parse_param(spec)


def test_substitution_and_missing_or_unknown_parameters() -> None:
    t = Template("crosses_above(sma(close, {fast}), sma(close, { slow }))")
    assert t.names == ("fast", "slow")
    assert t.substitute({"fast": 10, "slow": 50}) == "crosses_above(sma(close, 10), sma(close, 50))"
    with pytest.raises(ParamError, match="no value for parameter slow"):
        t.substitute({"fast": 10})
    with pytest.raises(ParamError, match="not a declared parameter"):
        Space.from_specs(["fast=5:10"]).check_templates(t)
    with pytest.raises(ParamError, match="not a parameter name"):
        Template("sma(close, {1+1})")
    with pytest.raises(ParamError, match="unbalanced"):
        Template("sma(close, {fast)")


def test_constraints_filter_the_grid() -> None:
    s = Space.from_specs(["fast=5:20:5", "slow=10:30:10"], ["fast < slow"])
    pts = list(s.grid())
    assert {(p["fast"], p["slow"]) for p in pts} == {
        (5, 10), (5, 20), (5, 30), (10, 20), (10, 30), (15, 20), (15, 30), (20, 30)}
    s2 = Space.from_specs(["fast=5:20:5", "slow=10:30:10"], ["slow >= 2 * fast and not fast == 15"])
    assert [(p["fast"], p["slow"]) for p in s2.grid()] == [(5, 10), (5, 20), (5, 30), (10, 20), (10, 30)]


def test_constraint_parser_never_executes_code() -> None:
    for bad in ("__import__('os').system('true')", "fast.__class__", "fast < slow; x", "lambda: 1", "[fast]"):
        with pytest.raises(ParamError):
            Space.from_specs(["fast=1:3", "slow=1:3"], [bad])
    with pytest.raises(ParamError, match="not a parameter"):
        Space.from_specs(["fast=1:3"], ["fast < slow"])
    assert parse_expression("(1 + 2) * 3 - -1 == 10").value({}) == 1.0
    assert parse_expression("fast / 0 > 1").value({"fast": 1}) == 0.0  # NaN is false
