"""Named parameters in formulas, their ranges and choices, and constraints between them.

A parameterised formula names its parameters in braces::

    crosses_above(sma(close, {fast}), sma(close, {slow}))

``Template(text).substitute({"fast": 10, "slow": 50})`` writes the values in (before the
formula is parsed, so the formula language itself is unchanged and still validates every
result). Parameters are declared as ``name=START:STOP:STEP`` (an inclusive range),
``name=a,b,c`` (choices: numbers or names such as ``sma,ema``) or ``name=VALUE``.

Constraints (``fast < slow``, ``slow >= 2 * fast and fast != 15``) are read by a tiny
expression parser of this module — numbers, parameter names, ``+ - * /``, comparisons,
``and or not`` and parentheses — and never by ``eval``.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

Value = int | float | str
Params = dict[str, Value]

MAX_VALUES = 100_000  # values of one parameter
MAX_COMBINATIONS = 10_000_000  # points of a full grid

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class ParamError(ValueError):
    """A parameter declaration, value, template or constraint is wrong (one sentence)."""


def _number(text: str, what: str) -> int | float:
    t = text.strip()
    try:
        v: int | float = int(t)
    except ValueError:
        try:
            v = float(t)
        except ValueError:
            raise ParamError(f"{what}: {t!r} is not a number") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise ParamError(f"{what}: {t!r} is not a finite number")
    return v


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter and the values a search may give it (in order)."""

    name: str
    values: tuple[Value, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ParamError(f"parameter name {self.name!r} must be a name such as fast or slow_len")
        if not self.values:
            raise ParamError(f"parameter {self.name} has no values")
        if len(set(self.values)) != len(self.values):
            raise ParamError(f"parameter {self.name} lists a value twice")

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)


def parse_param(spec: str) -> Param:
    """``"fast=5:50:5"`` (inclusive range), ``"ma=sma,ema"`` (choices) or ``"fast=10"``.

    A range of whole numbers gives ints, otherwise floats (rounded to 12 significant digits,
    so ``0.1:0.5:0.1`` gives 0.1, 0.2, … 0.5 and not 0.30000000000000004). Raises
    ``ParamError`` for anything else.
    """
    if not isinstance(spec, str) or "=" not in spec:
        raise ParamError(f"a parameter is NAME=START:STOP:STEP or NAME=a,b,c, not {spec!r}")
    name, _, rhs = spec.partition("=")
    name = name.strip()
    rhs = rhs.strip()
    if not _NAME.match(name):
        raise ParamError(f"parameter name {name!r} must be a name such as fast or slow_len")
    if not rhs:
        raise ParamError(f"parameter {name} has no values after '='")
    if ":" in rhs:
        parts = rhs.split(":")
        if len(parts) not in (2, 3):
            raise ParamError(f"parameter {name}: a range is START:STOP or START:STOP:STEP, not {rhs!r}")
        start = _number(parts[0], f"parameter {name} start")
        stop = _number(parts[1], f"parameter {name} stop")
        step = _number(parts[2], f"parameter {name} step") if len(parts) == 3 else 1
        if step <= 0:
            raise ParamError(f"parameter {name}: the step must be positive, not {step}")
        if stop < start:
            raise ParamError(f"parameter {name}: the range {rhs} is empty (stop {stop} < start {start})")
        count = int(math.floor((stop - start) / step + 1e-9)) + 1
        if count > MAX_VALUES:
            raise ParamError(f"parameter {name}: the range {rhs} has {count:,} values (at most {MAX_VALUES:,})")
        if all(isinstance(x, int) for x in (start, stop, step)):
            values: tuple[Value, ...] = tuple(range(int(start), int(stop) + 1, int(step)))
        else:
            values = tuple(float(f"{start + k * step:.12g}") for k in range(count))
        return Param(name, values)
    items = [x.strip() for x in rhs.split(",")]
    if any(not x for x in items):
        raise ParamError(f"parameter {name}: an empty choice in {rhs!r}")
    out: list[Value] = []
    for x in items:
        if _NAME.match(x):
            out.append(x)
        else:
            out.append(_number(x, f"parameter {name} choice"))
    if len(set(out)) != len(out):
        raise ParamError(f"parameter {name} lists a value twice in {rhs!r}")
    return Param(name, tuple(out))


def format_value(v: Value) -> str:
    """How a value is written into a formula (ints plainly, floats with repr)."""
    if isinstance(v, bool):
        raise ParamError(f"a parameter value must be a number or a name, not {v!r}")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ParamError(f"a parameter value must be finite, not {v!r}")
        return repr(v)
    if isinstance(v, str) and _NAME.match(v):
        return v
    raise ParamError(f"a parameter value must be a number or a name, not {v!r}")


@dataclass(frozen=True, slots=True)
class Template:
    """A formula text with ``{name}`` placeholders."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise ParamError(f"a formula must be text, not {type(self.text).__name__}")
        for m in _PLACEHOLDER.finditer(self.text):
            if not _NAME.match(m.group(1).strip()):
                raise ParamError(f"{{{m.group(1)}}} at column {m.start() + 1} is not a parameter name")
        rest = _PLACEHOLDER.sub("", self.text)
        if "{" in rest or "}" in rest:
            raise ParamError("unbalanced '{' or '}' in the formula; parameters are written {name}")

    @property
    def names(self) -> tuple[str, ...]:
        """The parameters the text uses, in order of first use."""
        seen: dict[str, None] = {}
        for m in _PLACEHOLDER.finditer(self.text):
            seen.setdefault(m.group(1).strip(), None)
        return tuple(seen)

    def substitute(self, values: Mapping[str, Value]) -> str:
        """The text with every placeholder replaced. Raises ``ParamError`` naming a
        parameter the text uses that ``values`` lacks."""
        missing = [n for n in self.names if n not in values]
        if missing:
            raise ParamError(f"no value for parameter {missing[0]} used in {self.text!r}")
        return _PLACEHOLDER.sub(lambda m: format_value(values[m.group(1).strip()]), self.text)


# --------------------------------------------------------------------------- constraints

_TOKEN = re.compile(r"\s*(?:(\d+\.\d*|\.\d+|\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|<|>|[-+*/()]))")
MAX_CONSTRAINT = 500  # characters


@dataclass(frozen=True, slots=True)
class _N:
    op: str  # "num", "name", "neg", "not", or a binary operator
    args: tuple["_N", ...] = ()
    value: float = 0.0
    name: str = ""


class _ConstraintParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if m is None:
                raise ParamError(f"constraint {text!r}: unexpected {text[pos:].strip()[:10]!r} at column {pos + 1}")
            col = m.start(m.lastindex or 1) + 1
            if m.group(1):
                self.toks.append(("num", m.group(1), col))
            elif m.group(2):
                w = m.group(2)
                self.toks.append((w if w in ("and", "or", "not") else "name", w, col))
            else:
                self.toks.append(("op", m.group(3), col))
            pos = m.end()
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        t = self.peek()
        if t is None:
            raise ParamError(f"constraint {self.text!r} ends too early")
        self.i += 1
        return t

    def parse(self) -> _N:
        node = self.or_()
        t = self.peek()
        if t is not None:
            raise ParamError(f"constraint {self.text!r}: unexpected {t[1]!r} at column {t[2]}")
        return node

    def or_(self) -> _N:
        n = self.and_()
        while (t := self.peek()) is not None and t[0] == "or":
            self.take()
            n = _N("or", (n, self.and_()))
        return n

    def and_(self) -> _N:
        n = self.not_()
        while (t := self.peek()) is not None and t[0] == "and":
            self.take()
            n = _N("and", (n, self.not_()))
        return n

    def not_(self) -> _N:
        t = self.peek()
        if t is not None and t[0] == "not":
            self.take()
            return _N("not", (self.not_(),))
        return self.cmp()

    def cmp(self) -> _N:
        n = self.add()
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] in ("<", "<=", ">", ">=", "==", "!="):
            self.take()
            n = _N(t[1], (n, self.add()))
        return n

    def add(self) -> _N:
        n = self.mul()
        while (t := self.peek()) is not None and t[0] == "op" and t[1] in "+-" and len(t[1]) == 1:
            self.take()
            n = _N(t[1], (n, self.mul()))
        return n

    def mul(self) -> _N:
        n = self.unary()
        while (t := self.peek()) is not None and t[0] == "op" and t[1] in ("*", "/"):
            self.take()
            n = _N(t[1], (n, self.unary()))
        return n

    def unary(self) -> _N:
        t = self.take()
        if t[0] == "op" and t[1] == "-":
            return _N("neg", (self.unary(),))
        if t[0] == "op" and t[1] == "(":
            n = self.or_()
            c = self.take()
            if c[1] != ")":
                raise ParamError(f"constraint {self.text!r}: expected ')' at column {c[2]}")
            return n
        if t[0] == "num":
            return _N("num", value=float(t[1]))
        if t[0] == "name":
            return _N("name", name=t[1])
        raise ParamError(f"constraint {self.text!r}: unexpected {t[1]!r} at column {t[2]}")


def _names(n: _N) -> set[str]:
    out = {n.name} if n.op == "name" else set()
    for a in n.args:
        out |= _names(a)
    return out


def _eval(n: _N, env: Mapping[str, float]) -> float:
    op = n.op
    if op == "num":
        return n.value
    if op == "name":
        return env[n.name]
    if op == "neg":
        return -_eval(n.args[0], env)
    if op == "not":
        return 0.0 if _eval(n.args[0], env) else 1.0
    if op == "and":
        return 1.0 if (_eval(n.args[0], env) and _eval(n.args[1], env)) else 0.0
    if op == "or":
        return 1.0 if (_eval(n.args[0], env) or _eval(n.args[1], env)) else 0.0
    a, b = _eval(n.args[0], env), _eval(n.args[1], env)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b if b != 0 else math.nan
    return 1.0 if {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op] else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class Expression:
    """A small arithmetic/boolean expression over named numbers (constraints, custom objectives)."""

    text: str
    root: _N
    names: frozenset[str]

    def value(self, env: Mapping[str, float | int | str | None]) -> float:
        """The value with ``env``'s numbers (NaN if a name's value is missing or not a number).

        Raises ``ParamError`` for a name the expression uses that ``env`` does not have.
        """
        num: dict[str, float] = {}
        for k in self.names:
            if k not in env:
                raise ParamError(f"{self.text!r} uses {k!r}, which is not one of: {', '.join(sorted(env))}")
            v = env[k]
            num[k] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan
        return _eval(self.root, num)


def parse_expression(text: str) -> Expression:
    """Parse ``text`` (see the module docstring). Raises ``ParamError`` when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise ParamError("an expression must be non-empty text such as 'fast < slow'")
    if len(text) > MAX_CONSTRAINT:
        raise ParamError(f"an expression is at most {MAX_CONSTRAINT} characters")
    p = _ConstraintParser(text)
    if not p.toks:
        raise ParamError("an expression must be non-empty text such as 'fast < slow'")
    root = p.parse()
    return Expression(text, root, frozenset(_names(root)))


@dataclass(frozen=True, slots=True, eq=False)
class Space:
    """The parameters of a search and the constraints every point must satisfy."""

    params: tuple[Param, ...]
    constraints: tuple[Expression, ...] = ()

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ParamError("a parameter is declared twice")
        for c in self.constraints:
            unknown = sorted(c.names - set(names))
            if unknown:
                raise ParamError(f"constraint {c.text!r} uses {unknown[0]!r}, which is not a parameter "
                                 f"(parameters: {', '.join(names) or 'none'})")

    @classmethod
    def from_specs(cls, params: Sequence[str], constraints: Sequence[str] = ()) -> "Space":
        """From CLI-style texts (``"fast=5:50:5"``, ``"fast < slow"``). Raises ``ParamError``."""
        return cls(tuple(parse_param(s) for s in params), tuple(parse_expression(c) for c in constraints))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def allows(self, point: Mapping[str, Value]) -> bool:
        """True when every constraint holds at ``point`` (a NaN counts as false)."""
        env = {k: v for k, v in point.items()}
        return all(c.value(env) == 1.0 for c in self.constraints)

    def size(self) -> int:
        """Points of the full grid before constraints."""
        return math.prod(len(p.values) for p in self.params)

    def grid(self) -> Iterator[Params]:
        """Every point of the grid that satisfies the constraints, in lexicographic order.

        Raises ``ParamError`` when the grid has more than ``MAX_COMBINATIONS`` points.
        """
        if self.size() > MAX_COMBINATIONS:
            raise ParamError(f"the grid has {self.size():,} points (at most {MAX_COMBINATIONS:,}); "
                             "use --search random or bayes, or coarser steps")
        for combo in itertools.product(*(p.values for p in self.params)):
            point = dict(zip(self.names, combo))
            if self.allows(point):
                yield point

    def check_templates(self, *templates: Template) -> None:
        """Every placeholder must be a declared parameter. Raises ``ParamError`` naming the first that is not."""
        for t in templates:
            for n in t.names:
                if n not in self.names:
                    raise ParamError(f"the formula uses {{{n}}}, which is not a declared parameter "
                                     f"(declare it with --param {n}=START:STOP:STEP)")
