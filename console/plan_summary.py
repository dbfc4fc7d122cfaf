"""The plan's numbers and its violations, as the plan view shows them beside the map.

``PlanSummaryPanel.show_result(facts, violations, notes)`` fills a summary label (length, flight
time, photos, coverage, energy, battery needed vs the selected drone's) and a list with one row
per violation, tinted by kind; clicking a row emits ``violation_clicked(Violation)`` so the view
centres the map on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from missions.summary import MissionFacts, Violation

KIND_LABEL = {"fence": "FENCE", "nofly": "NO-FLY", "altitude": "ALTITUDE", "distance": "DISTANCE",
              "endurance": "ENDURANCE", "structure": "PLAN", "vehicle": "DRONE", "battery": "ENDURANCE"}  # fmt: skip


class PlanSummaryPanel(QWidget):
    violation_clicked = Signal(object)  # Violation

    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel("No plan yet: draw or import a place, then choose the patrol.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.heading = QLabel("")
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setMaximumHeight(100)
        self.list.setVisible(False)
        self.list.itemClicked.connect(self._clicked)
        lay.addWidget(self.summary)
        lay.addWidget(self.heading)
        lay.addWidget(self.list)
        self._violations: list[Violation] = []

    def show_result(self, facts: MissionFacts | None, violations: Sequence[Violation],
                    notes: Sequence[str] = ()) -> None:
        lines = facts.lines() if facts is not None else ["No plan yet."]
        if facts is not None and facts.battery_ok is False:
            lines[-1] = f"<b style='color:#d32f2f'>{lines[-1]}</b>"
        lines += [f"<i>{n}</i>" for n in notes]
        self.summary.setText("<br>".join(lines))
        self._violations = list(violations)
        self.list.clear()
        for v in violations:
            item = QListWidgetItem(f"{KIND_LABEL.get(v.kind, v.kind.upper())}: {v.text}")
            item.setForeground(QBrush(QColor("#d32f2f")))
            self.list.addItem(item)
        n = len(violations)
        self.list.setVisible(n > 0)
        self.heading.setText("<b style='color:#2e7d32'>No violations: fit to upload</b>" if n == 0 else
                             f"<b style='color:#d32f2f'>{n} violation{'s' if n != 1 else ''}</b>")  # fmt: skip

    def violations(self) -> list[Violation]:
        return list(self._violations)

    def _clicked(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if 0 <= row < len(self._violations):
            self.violation_clicked.emit(self._violations[row])
