"""Tokenizer and recursive-descent parser of the formula language.

The grammar (lowest precedence first)::

    formula    := or_expr EOF
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := additive (("<" | "<=" | ">" | ">=" | "==" | "!=") additive)?
    additive   := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | power
    power      := primary ("**" unary)?              (right-associative: 2**3**2 = 2**9)
    primary    := NUMBER | "true" | "false" | FIELD | CUSTOM_NAME | NAME "(" args ")" | "(" or_expr ")"

Identifiers are case-insensitive (``RSI(Close)`` is ``rsi(close)``). Nothing here calls
``eval``/``exec`` or Python's ``ast``: text becomes a tree of ``Node`` over a whitelist of
fields and functions (``engine.formula.functions``), and only that tree is evaluated.

Limits that keep hostile input harmless: at most ``MAX_LENGTH`` characters and
``MAX_DEPTH`` levels of nesting (custom indicators included); every violation is a
``FormulaError`` with its column.
"""
from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from engine.formula.errors import FormulaError, summarise_chain
from engine.formula.functions import CONTEXT_ONLY, FIELDS, FUNCTIONS, KEYWORDS, MAX_PERIOD, FunctionSpec

MAX_LENGTH = 10_000
MAX_DEPTH = 120  # levels of the tree (evaluation recurses this deep)
MAX_NESTING = 40  # parentheses / calls / unary operators inside each other (the parser recurses)
_DIGITS = frozenset("0123456789")
MAX_CUSTOM_NESTING = 32

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_OPS = ("**", "<=", ">=", "==", "!=", "+", "-", "*", "/", "<", ">", "(", ")", ",")
_MISTAKES = {
    "&&": ("'&&' is not an operator", "and"),
    "||": ("'||' is not an operator", "or"),
    "&": ("'&' is not an operator", "and"),
    "|": ("'|' is not an operator", "or"),
    "!": ("'!' is not an operator", "not"),
    "=": ("'=' is not a comparison", "=="),
    "^": ("'^' is not an operator", "**"),
    "%": ("'%' is not an operator", None),
}


class CycleError(FormulaError):
    """Custom indicators that refer to themselves (reported once, not nested per level)."""


class InCustomError(FormulaError):
    """A problem inside a custom indicator used by the formula: ``path`` is the chain of
    custom indicators from the one the formula names to the one whose text is wrong,
    ``reason`` and ``inner_column`` the problem in that text."""

    def __init__(self, path: tuple[str, ...], reason: str, inner_column: int, column: int,
                 suggestion: str | None, text: str) -> None:
        self.path = path
        self.reason = reason
        self.inner_column = inner_column
        if len(path) == 1:
            where = f"in custom indicator '{path[0]}'"
        else:
            where = f"in custom indicator '{path[-1]}' (used through {summarise_chain(path)})"
        super().__init__(f"{where}: {reason} (column {inner_column} of its formula)", column, suggestion, text)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num" | "name" | "op" | "end"
    text: str
    column: int  # 1-based
    value: float = 0.0


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raises ``FormulaError`` at the first character that fits none."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is too long ({len(text)} characters, at most {MAX_LENGTH})",
                           MAX_LENGTH + 1, text=text[:200])
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        col = i + 1
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            m = _NUMBER_RE.match(text, i)
            assert m is not None
            end = m.end()
            if end < n and (text[end].isalpha() or text[end] == "_" or text[end] == "."):
                raise FormulaError(f"malformed number '{text[i:end + 1]}'", col, text=text)
            value = float(m.group())
            if not math.isfinite(value):
                raise FormulaError(f"number '{m.group()[:20]}{'…' if end - i > 20 else ''}' is too large", col,
                                   text=text)
            out.append(Token("num", m.group(), col, value))
            i = end
            continue
        if ch.isascii() and (ch.isalpha() or ch == "_"):
            m = _NAME_RE.match(text, i)
            assert m is not None
            out.append(Token("name", m.group().lower(), col))
            i = m.end()
            continue
        for op in _OPS:
            if text.startswith(op, i):
                out.append(Token("op", op, col))
                i += len(op)
                break
        else:
            two = text[i:i + 2]
            for bad in (two, ch):
                if bad in _MISTAKES:
                    msg, sug = _MISTAKES[bad]
                    raise FormulaError(msg, col, sug, text=text)
            if ch == ".":
                raise FormulaError("unexpected '.': formulas have no attributes or methods", col, text=text)
            raise FormulaError(f"unexpected character {_show_char(ch)}", col, text=text)
    out.append(Token("end", "", n + 1))
    return out


class Node:
    """One interned node of a parsed formula (identical sub-expressions are one object).

    ``kind``: "num" | "field" | "neg" | "not" | "bin" | "call". ``op`` is the operator or
    function/field name, ``args`` the child nodes (series arguments), ``params`` the
    constant arguments (periods, band widths) and ``value`` a number literal's value.
    """

    __slots__ = ("kind", "op", "args", "params", "value", "is_bool", "depth", "lookback", "uid", "spec")

    def __init__(self, kind: str, op: str, args: tuple[Node, ...], params: tuple[float, ...], value: float,
                 is_bool: bool, lookback: int, uid: int, spec: FunctionSpec | None) -> None:
        self.kind = kind
        self.op = op
        self.args = args
        self.params = params
        self.value = value
        self.is_bool = is_bool
        self.depth: int = 1 + max((a.depth for a in args), default=0)
        self.lookback = lookback
        self.uid = uid
        self.spec = spec

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.op!r}, #{self.uid})"

    def _pieces(self) -> list[str | Node]:
        """This node's canonical text as literal strings and child nodes, in order."""
        if self.kind == "num":
            v = self.value
            if self.is_bool:
                return ["true" if v == 1 else "false"]
            return [f"({_fmt(v)})" if v < 0 else _fmt(v)]
        if self.kind == "field":
            return [self.op]
        if self.kind == "neg":
            return ["(-", self.args[0], ")"]
        if self.kind == "not":
            return ["(not ", self.args[0], ")"]
        if self.kind == "bin":
            return ["(", self.args[0], f" {self.op} ", self.args[1], ")"]
        assert self.spec is not None
        out: list[str | Node] = [f"{self.op}("]
        ai = pi = 0
        for i, p in enumerate(self.spec.params):
            if i:
                out.append(", ")
            if p.kind == "series":
                out.append(self.args[ai])
                ai += 1
            else:
                out.append(_fmt(self.params[pi]))
                pi += 1
        out.append(")")
        return out

    def text_length(self, memo: dict[int, int] | None = None) -> int:
        """Length of ``to_text()`` in characters, computed once per distinct node (so a
        formula whose custom indicators use each other twice per level costs linear time,
        although its text doubles with every level)."""
        memo = {} if memo is None else memo
        hit = memo.get(self.uid)
        if hit is None:
            hit = sum(len(x) if isinstance(x, str) else x.text_length(memo) for x in self._pieces())
            memo[self.uid] = hit
        return hit

    def to_text(self, limit: int | None = None) -> str:
        """Canonical formula text of this node (fully parenthesised, defaults filled in).

        Raises ``ValueError`` when the text would be longer than ``limit`` characters
        (checked before any text is built).
        """
        if limit is not None:
            n = self.text_length()
            if n > limit:
                raise ValueError(f"the text would be {n:,} characters long (at most {limit:,})")
        parts: list[str] = []
        stack: list[str | Node] = [self]
        while stack:  # iterative: the expanded tree may be far deeper than it is wide
            x = stack.pop()
            if isinstance(x, str):
                parts.append(x)
            else:
                stack.extend(reversed(x._pieces()))
        return "".join(parts)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))


class Builder:
    """Interns nodes so that equal sub-expressions are one object (the evaluation cache key)."""

    def __init__(self) -> None:
        self._table: dict[tuple[object, ...], Node] = {}

    def make(self, kind: str, op: str, args: tuple[Node, ...] = (), params: tuple[float, ...] = (),
             value: float = 0.0, *, is_bool: bool = False, own_lookback: int = 0,
             spec: FunctionSpec | None = None) -> Node:
        key = (kind, op, tuple(a.uid for a in args), params, value, is_bool)
        node = self._table.get(key)
        if node is None:
            lb = own_lookback + max((a.lookback for a in args), default=0)
            node = Node(kind, op, args, params, value, is_bool, lb, len(self._table), spec)
            self._table[key] = node
        return node

    @property
    def size(self) -> int:
        return len(self._table)


def suggest(name: str, candidates: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The closest known name to ``name`` (difflib), or None."""
    m = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return m[0] if m else None


class Parser:
    """Recursive-descent parser producing interned ``Node`` trees (see module docstring).

    ``custom`` maps custom indicator names (lower-case) to their formula text; a reference
    is parsed in place (so its sub-expressions share the evaluation cache). ``_stack``
    holds the custom indicators being expanded, to report cycles. ``extra`` adds functions
    only some evaluators compute (``functions.ALERT_FUNCTIONS``: ``sentiment``); one whose
    parameters all have defaults may also be written bare (``sentiment`` = ``sentiment(1)``).
    Custom indicators never see ``extra`` (they are shared with scans and charts).
    """

    def __init__(self, text: str, custom: Mapping[str, str] | None, builder: Builder,
                 stack: tuple[str, ...] = (), custom_nodes: dict[str, Node] | None = None,
                 depth0: int = 0, extra: Mapping[str, FunctionSpec] | None = None) -> None:
        self.extra = dict(extra or {})
        self.text = text
        self.custom = {k.lower(): v for k, v in (custom or {}).items()}
        self.b = builder
        self.stack = stack
        self.custom_nodes = custom_nodes if custom_nodes is not None else {}
        self.toks = tokenize(text)
        self.pos = 0
        self.depth = depth0
        self.used_custom: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def err(self, message: str, column: int, suggestion: str | None = None) -> FormulaError:
        return FormulaError(message, column, suggestion, text=self.text)

    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def next(self) -> Token:
        t = self.toks[self.pos]
        self.pos += 1
        return t

    def at_op(self, *ops: str) -> bool:
        t = self.tok
        return t.kind == "op" and t.text in ops

    def at_kw(self, kw: str) -> bool:
        t = self.tok
        return t.kind == "name" and t.text == kw

    def expect_op(self, op: str, what: str) -> Token:
        t = self.tok
        if t.kind == "op" and t.text == op:
            return self.next()
        raise self.err(f"expected {what}, found {_describe(t)}", t.column)

    def enter(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.err(f"formula is nested too deeply (more than {MAX_NESTING} levels of parentheses, "
                           "calls or signs)", column)

    def check(self, node: Node, column: int) -> Node:
        if node.depth > MAX_DEPTH:
            raise self.err(f"formula is nested too deeply (more than {MAX_DEPTH} levels)", column)
        return node

    def names(self) -> set[str]:
        return set(FUNCTIONS) | set(FIELDS) | set(KEYWORDS) | set(self.custom) | set(self.extra)

    # ------------------------------------------------------------------ grammar
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.err("the formula is empty", 1)
        node = self.or_expr()
        t = self.tok
        if t.kind != "end":
            if t.kind == "op" and t.text == ")":
                raise self.err("unbalanced parentheses: ')' has no matching '('", t.column)
            raise self.err(f"unexpected {_describe(t)} after the end of the formula", t.column)
        return node

    def or_expr(self) -> Node:
        left = self.and_expr()
        while self.at_kw("or"):
            col = self.next().column
            right = self.and_expr()
            left = self.check(self.b.make("bin", "or", (left, right), is_bool=True), col)
        return left

    def and_expr(self) -> Node:
        left = self.not_expr()
        while self.at_kw("and"):
            col = self.next().column
            right = self.not_expr()
            left = self.check(self.b.make("bin", "and", (left, right), is_bool=True), col)
        return left

    def not_expr(self) -> Node:
        if self.at_kw("not"):
            col = self.next().column
            self.enter(col)
            inner = self.not_expr()
            self.depth -= 1
            return self.check(self.b.make("not", "not", (inner,), is_bool=True), col)
        return self.comparison()

    def comparison(self) -> Node:
        left = self.additive()
        if self.at_op(*COMPARISONS):
            t = self.next()
            right = self.additive()
            if self.at_op(*COMPARISONS):
                c = self.tok.column
                raise self.err("comparisons cannot be chained; write 'a < b and b < c'", c)
            return self.check(self.b.make("bin", t.text, (left, right), is_bool=True), t.column)
        return left

    def additive(self) -> Node:
        left = self.term()
        while self.at_op("+", "-"):
            t = self.next()
            right = self.term()
            left = self.check(self.b.make("bin", t.text, (left, right)), t.column)
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.at_op("*", "/"):
            t = self.next()
            right = self.unary()
            left = self.check(self.b.make("bin", t.text, (left, right)), t.column)
        return left

    def unary(self) -> Node:
        if self.at_op("-", "+"):
            t = self.next()
            self.enter(t.column)
            inner = self.unary()
            self.depth -= 1
            if t.text == "+":
                return inner
            if inner.kind == "num" and not inner.is_bool:
                return self.b.make("num", "num", value=-inner.value)
            return self.check(self.b.make("neg", "-", (inner,)), t.column)
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.at_op("**"):
            t = self.next()
            self.enter(t.column)
            exp = self.unary()
            self.depth -= 1
            return self.check(self.b.make("bin", "**", (base, exp)), t.column)
        return base

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.next()
            return self.b.make("num", "num", value=t.value)
        if t.kind == "op" and t.text == "(":
            self.next()
            self.enter(t.column)
            if self.at_op(")"):
                raise self.err("empty parentheses", self.tok.column)
            inner = self.or_expr()
            self.depth -= 1
            if not self.at_op(")"):
                u = self.tok
                if u.kind == "end":
                    raise self.err("unbalanced parentheses: '(' is never closed", t.column)
                raise self.err(f"expected ')' to close the '(' at column {t.column}, found {_describe(u)}",
                               u.column)
            self.next()
            return inner
        if t.kind == "name":
            return self.name()
        if t.kind == "end":
            raise self.err("the formula ends too early: a value is missing", t.column)
        if t.text == ")":
            raise self.err("unbalanced parentheses: ')' has no matching '('" if self._unmatched_close()
                           else "a value is missing before ')'", t.column)
        raise self.err(f"a value is missing before {_describe(t)}", t.column)

    def _unmatched_close(self) -> bool:
        depth = 0
        for tk in self.toks[: self.pos + 1]:
            if tk.kind == "op" and tk.text == "(":
                depth += 1
            elif tk.kind == "op" and tk.text == ")":
                depth -= 1
        return depth < 0

    def name(self) -> Node:
        t = self.next()
        name = t.text
        is_call = self.at_op("(")
        if name in ("true", "false") and not is_call:
            return self.b.make("num", "num", value=1.0 if name == "true" else 0.0, is_bool=True)
        if name in KEYWORDS:
            raise self.err(f"'{name}' needs a value on its left" if name != "not" else "misplaced 'not'",
                           t.column)
        if name in FIELDS:
            if is_call:
                raise self.err(f"'{name}' is a field, not a function: write {name} without parentheses",
                               self.tok.column)
            return self.b.make("field", name)
        if name in self.custom:
            if is_call:
                raise self.err(f"custom indicator '{name}' takes no arguments: write {name}", self.tok.column)
            return self.expand_custom(name, t.column)
        if name in self.extra:
            spec = self.extra[name]
            if not is_call:
                if spec.min_args:
                    raise self.err(f"'{name}' is a function: write {spec.signature()}", t.column)
                defaults = tuple(float(p.default) for p in spec.params if p.default is not None)
                node = self.b.make("call", spec.name, (), defaults, is_bool=spec.returns_bool,
                                   own_lookback=spec.lookback(defaults), spec=spec)
                return self.check(node, t.column)
            return self.call(spec, t)
        if name in CONTEXT_ONLY:
            raise self.err(CONTEXT_ONLY[name], t.column)
        if name in FUNCTIONS:
            spec = FUNCTIONS[name]
            if not is_call:
                raise self.err(f"'{name}' is a function: write {spec.signature()}", t.column)
            return self.call(spec, t)
        kind = "function" if is_call else "name"
        raise self.err(f"unknown {kind} '{name}'", t.column, suggest(name, self.names()))

    def expand_custom(self, name: str, column: int) -> Node:
        if len(self.stack) >= MAX_CUSTOM_NESTING:
            raise self.err(f"custom indicators are nested too deeply (more than {MAX_CUSTOM_NESTING})", column)
        if name in self.stack:
            cycle = summarise_chain((*self.stack[self.stack.index(name):], name))
            raise CycleError(f"custom indicator '{name}' refers to itself ({cycle})", column, text=self.text)
        self.used_custom.add(name)
        cached = self.custom_nodes.get(name)
        if cached is not None:
            return self.check(cached, column)
        self.enter(column)
        sub = Parser(self.custom[name], self.custom, self.b, (*self.stack, name), self.custom_nodes, self.depth)
        try:
            node = sub.parse()
        except CycleError as exc:
            raise CycleError(exc.message, column, text=self.text) from None
        except InCustomError as exc:  # deeper down: one message naming the path, not one per level
            raise InCustomError((name, *exc.path), exc.reason, exc.inner_column, column, exc.suggestion,
                                self.text) from None
        except FormulaError as exc:
            raise InCustomError((name,), exc.message, exc.column, column, exc.suggestion, self.text) from None
        self.depth -= 1
        self.used_custom |= sub.used_custom
        self.custom_nodes[name] = node
        return self.check(node, column)

    def call(self, spec: FunctionSpec, name_tok: Token) -> Node:
        open_tok = self.next()  # "("
        self.enter(open_tok.column)
        args: list[tuple[Node, int]] = []
        if not self.at_op(")"):
            while True:
                col = self.tok.column
                if self.at_op(",", ")"):
                    raise self.err(f"an argument of {spec.name} is missing", col)
                args.append((self.or_expr(), col))
                if self.at_op(","):
                    self.next()
                    continue
                break
        if not self.at_op(")"):
            u = self.tok
            if u.kind == "end":
                raise self.err(f"unbalanced parentheses: '(' of {spec.name} is never closed", open_tok.column)
            raise self.err(f"expected ',' or ')' in the arguments of {spec.name}, found {_describe(u)}", u.column)
        close_tok = self.next()
        self.depth -= 1
        n_max, n_min = len(spec.params), spec.min_args
        if not n_min <= len(args) <= n_max:
            want = f"{n_max}" if n_min == n_max else f"{n_min} to {n_max}"
            plural = "" if n_max == 1 and n_min == 1 else "s"
            col = args[n_max][1] if len(args) > n_max else close_tok.column
            raise self.err(f"{spec.name} takes {want} argument{plural} ({spec.signature()}), got {len(args)}", col)
        series: list[Node] = []
        params: list[float] = []
        for i, p in enumerate(spec.params):
            if i < len(args):
                node, col = args[i]
            else:
                assert p.default is not None
                params.append(float(p.default))
                continue
            if p.kind == "series":
                series.append(node)
                continue
            if node.kind != "num" or node.is_bool:
                raise self.err(f"'{p.name}' of {spec.name} must be a constant number, not an expression", col)
            v = node.value
            if p.kind == "period":
                if not math.isfinite(v) or not float(v).is_integer():
                    raise self.err(f"period '{p.name}' of {spec.name} must be a whole number, got {_fmt(v)}", col)
                if v < p.minimum:
                    raise self.err(f"period '{p.name}' of {spec.name} must be at least {p.minimum}, got {_fmt(v)}",
                                   col)
                if v > MAX_PERIOD:
                    raise self.err(f"period '{p.name}' of {spec.name} is too large (at most {MAX_PERIOD})", col)
            elif not math.isfinite(v) or v <= 0:
                raise self.err(f"'{p.name}' of {spec.name} must be a positive number, got {_fmt(v)}", col)
            params.append(float(v))
        own = spec.lookback(params)
        node = self.b.make("call", spec.name, tuple(series), tuple(params), is_bool=spec.returns_bool,
                           own_lookback=own, spec=spec)
        return self.check(node, name_tok.column)


def _show_char(ch: str) -> str:
    """A character for a message, quoted once: ``'@'``, ``"'"``, ``U+00A0 (no-break space)``."""
    if ch == "'":
        return '"\'"'
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}'"
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" ({name.lower()})" if name else "")


def _describe(t: Token) -> str:
    if t.kind == "end":
        return "the end of the formula"
    if t.kind == "num":
        return f"number '{t.text}'"
    if t.kind == "name":
        return f"'{t.text}'"
    return f"'{t.text}'"
