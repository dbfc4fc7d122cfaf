"""The pre-flight gate dialog: the checklist of every drone about to arm, take off or start its mission.

One dialog for the whole selection, naming each drone: its items (Link, GPS, EKF, Battery, Pre-arm,
Fence, Plan) with OK / WARN / FAIL and the reason. The pilot confirms with the button; it stays
disabled while any blocking item fails, and the first failing reason is written under the list.
The checklists are filled off the GUI thread (``flight.preflight.gather`` reads the vehicle's fence
and mission); this dialog only shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flight.preflight import Checklist

MARK_COLOR = {"OK": "#2e7d32", "WARN": "#ef6c00", "FAIL": "#c62828"}


def _mark(ok: bool, blocking: bool) -> str:
    return "OK" if ok else ("FAIL" if blocking else "WARN")


class PreflightDialog(QDialog):
    """``checklists``: one per drone; ``accepted`` when the pilot confirms (only possible when all pass)."""

    def __init__(self, action: str, checklists: Sequence[Checklist], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action = action
        self.checklists = list(checklists)
        names = ", ".join(f"#{c.sysid}" for c in self.checklists)
        self.setWindowTitle(f"Pre-flight check: {action} {names}")
        self.resize(620, 420)
        lay = QVBoxLayout(self)
        self.heading = QLabel(f"<b>{action.capitalize()} drone{'s' if len(self.checklists) > 1 else ''} {names}</b>"
                              " — confirm the checklist")  # fmt: skip
        lay.addWidget(self.heading)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Item", "", "Detail"])
        self.tree.setRootIsDecorated(True)
        for c in self.checklists:
            top = QTreeWidgetItem([f"Drone #{c.sysid}", _mark(c.ok, True), "ready" if c.ok else c.failing[0].detail])
            top.setForeground(1, QBrush(QColor(MARK_COLOR[_mark(c.ok, True)])))
            self.tree.addTopLevelItem(top)
            for item in c.items:
                mark = _mark(item.ok, item.blocking)
                row = QTreeWidgetItem([item.name, mark, item.detail])
                row.setForeground(1, QBrush(QColor(MARK_COLOR[mark])))
                top.addChild(row)
            top.setExpanded(True)
        self.tree.resizeColumnToContents(0)
        self.tree.resizeColumnToContents(1)
        lay.addWidget(self.tree, 1)
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setStyleSheet("color: #c62828; font-weight: bold")
        blocked = [c for c in self.checklists if not c.ok]
        if blocked:
            self.reason.setText(blocked[0].refusal())
        lay.addWidget(self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = self.buttons.addButton(f"Confirm: {action} {names}",
                                                     QDialogButtonBox.ButtonRole.AcceptRole)  # fmt: skip
        self.confirm_button.setEnabled(not blocked)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checklists)

    def accept(self) -> None:
        if self.passed:  # a blocked gate cannot be confirmed, whoever calls
            super().accept()
