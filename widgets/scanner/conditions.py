"""One row of the scanner's condition builder: ``left  op  right`` and a remove button."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QToolButton, QWidget

from engine.scanner import OPERATORS, Condition

OP_LABELS = {"crosses_above": "crosses above", "crosses_below": "crosses below"}


class ConditionRow(QWidget):
    """``left  op  right`` with a remove button; ``changed`` on every edit."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, condition: Condition | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = QLineEdit(placeholderText="rsi(close, 14)")
        self.left.setObjectName("conditionLeft")
        self.op = QComboBox()
        self.op.setObjectName("conditionOp")
        for o in OPERATORS:
            self.op.addItem(OP_LABELS.get(o, o), o)
        self.op.setCurrentIndex(OPERATORS.index("<"))
        self.right = QLineEdit(placeholderText="30")
        self.right.setObjectName("conditionRight")
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
        self.left.textChanged.connect(self.changed)
        self.right.textChanged.connect(self.changed)
        self.op.currentIndexChanged.connect(self.changed)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))

    def set_condition(self, c: Condition) -> None:
        self.left.setText(c.left)
        i = self.op.findData(c.op)
        self.op.setCurrentIndex(max(i, 0))
        self.right.setText(str(c.right))
        self.left.setCursorPosition(0)
        self.right.setCursorPosition(0)

    def condition(self) -> Condition:
        return Condition(self.left.text().strip(), str(self.op.currentData()), self.right.text().strip())
