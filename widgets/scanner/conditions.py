"""One row of the scanner's condition builder: ``left  op  right`` and a remove button; and
``rows_from_formula``, which says whether a formula preset can be shown as rows."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QToolButton, QWidget

from engine.scanner import OPERATORS, Condition, Group

OP_LABELS = {"crosses_above": "crosses above", "crosses_below": "crosses below"}
_COMPARE = ("<=", ">=", "==", "!=", "<", ">")  # two-character ones first


def _split_top(text: str, word: str) -> list[str]:
    """``text`` split at ``word`` (" and "/" or ") outside parentheses."""
    parts, depth, start, i, low = [], 0, 0, 0, text.lower()
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and low.startswith(word, i):
            parts.append(text[start:i])
            i += len(word)
            start = i
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _unwrap(text: str) -> str:
    """``(a < b)`` → ``a < b`` when the outer parentheses wrap the whole text."""
    t = text.strip()
    while t.startswith("(") and t.endswith(")"):
        depth = 0
        for i, ch in enumerate(t):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0 and i < len(t) - 1:
                return t
        t = t[1:-1].strip()
    return t


def _condition(text: str) -> Condition | None:
    t = _unwrap(text)
    for op in ("crosses_above", "crosses_below"):
        if t.startswith(op + "(") and t.endswith(")"):
            args = _split_top(t[len(op) + 1:-1], ",")
            if len(args) == 2 and all(args):
                return Condition(args[0], op, args[1])
            return None
    depth, i = 0, 0
    while i < len(t):
        ch = t[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for op in _COMPARE:
                if t.startswith(op, i):
                    left, right = t[:i].strip(), t[i + len(op):].strip()
                    if not left or not right or any(o in right for o in _COMPARE):
                        return None  # a chained or half comparison is not one row
                    if left.lower().startswith("not ") or " and " in right.lower() or " or " in right.lower():
                        return None  # 'not a < 1' is not '(not a) < 1'
                    return Condition(_unwrap(left), op, _unwrap(right))
        i += 1
    return None


def rows_from_formula(text: str) -> Group | None:
    """The condition rows a formula is, if it is comparisons (or crossings) joined all by
    ``and`` or all by ``or`` at the top level; None when it cannot be shown as rows."""
    for mode in ("and", "or"):
        parts = _split_top(text, f" {mode} ")
        other = " or " if mode == "and" else " and "
        if any(len(_split_top(_unwrap(p), other)) > 1 for p in parts):
            continue  # mixed and/or at one level: not one join of rows
        conds = [_condition(p) for p in parts]
        if conds and all(c is not None for c in conds):
            return Group(mode, tuple(c for c in conds if c is not None))
    return None


class ConditionRow(QWidget):
    """``left  op  right`` with a remove button; ``changed`` on every edit. A new row is
    visibly empty (italic prompts) and ``is_empty`` until a side is filled."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, condition: Condition | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = QLineEdit(placeholderText="choose an indicator or field…")
        self.left.setObjectName("conditionLeft")
        self.left.setToolTip("e.g. rsi(close, 14), close, sma(close, 50)")
        self.op = QComboBox()
        self.op.setObjectName("conditionOp")
        for o in OPERATORS:
            self.op.addItem(OP_LABELS.get(o, o), o)
        self.op.setCurrentIndex(OPERATORS.index("<"))
        self.right = QLineEdit(placeholderText="a number or formula…")
        self.right.setObjectName("conditionRight")
        self.right.setToolTip("e.g. 30, sma(close, 200)")
        self.remove = QToolButton(text="✕", toolTip="Remove this condition")
        self.remove.setAutoRaise(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.op.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        lay.addWidget(self.left, 1)
        lay.addWidget(self.op)
        lay.addWidget(self.right, 1)
        lay.addWidget(self.remove)
        if condition is not None:
            self.set_condition(condition)
        for edit in (self.left, self.right):
            edit.textChanged.connect(lambda _t, e=edit: self._style_empty(e))
            edit.textChanged.connect(self.changed)
            self._style_empty(edit)
        self.op.currentIndexChanged.connect(self.changed)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))

    @staticmethod
    def _style_empty(edit: QLineEdit) -> None:
        """An empty side shows its prompt in italics, so it never reads as a real value."""
        f = edit.font()
        if f.italic() != (not edit.text()):
            f.setItalic(not edit.text())
            edit.setFont(f)

    def is_empty(self) -> bool:
        """Nothing typed on either side yet: the row is ignored (not part of the filter)."""
        return not self.left.text().strip() and not self.right.text().strip()

    def set_condition(self, c: Condition) -> None:
        self.left.setText(c.left)
        i = self.op.findData(c.op)
        self.op.setCurrentIndex(max(i, 0))
        self.right.setText(str(c.right))
        self.left.setCursorPosition(0)
        self.right.setCursorPosition(0)

    def condition(self) -> Condition:
        return Condition(self.left.text().strip(), str(self.op.currentData()), self.right.text().strip())
