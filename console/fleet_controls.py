"""Acting on several drones at once, the pre-flight gate, alarms, and the selected drone's gimbal.

``FleetCommander.request(action, sysids)`` runs one vehicle command per selected drone on the
window's thread pool, after ONE confirmation that names them all: for arm / take off / start mission
that confirmation is the pre-flight checklist (``console.preflight.PreflightDialog``, filled off the
GUI thread by ``FlightActions.preflight`` or, without it, from the snapshot); for RTL / land of
several drones a question naming them. Dialogs are opened non-modally (``open()``), so the console
keeps polling while the pilot reads them.

``AlarmMonitor.update(snapshots)`` raises link-lost (no telemetry for 1.5 s) and failsafe alarms
(the vehicle's "... Failsafe" texts, "Fence Breached", critical battery) on the next poll: within
2 s of the event. An alarm shows in a red banner over the map and in the status bar, and beeps once.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QWidget,
)

from console.preflight import PreflightDialog
from flight.preflight import Checklist, evaluate
from flight.types import VehicleState

log = logging.getLogger(__name__)
LINK_ALARM_S = 1.5
FAILSAFE_HOLD_S = 30.0
GATED = ("arm", "takeoff", "mission start")
ALARM_WORDS = ("Failsafe", "Fence Breached", "is critical", "EKF variance")


@dataclass(frozen=True, slots=True)
class Alarm:
    sysid: int
    kind: str  # "link" | "failsafe"
    text: str


def _new_texts(before: tuple[str, ...], now: tuple[str, ...]) -> tuple[str, ...]:
    """Texts of ``now`` that were not in ``before`` (a bounded, newest-last window)."""
    for k in range(min(len(before), len(now)), 0, -1):
        if before[-k:] == now[:k]:
            return now[k:]
    return now if before != now else ()


class AlarmMonitor(QObject):
    """Link-lost and failsafe alarms per drone; ``changed`` when the set of alarms changes."""

    changed = Signal()

    def __init__(self, beep: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._beep = beep or QApplication.beep
        self._texts: dict[int, tuple[str, ...]] = {}
        self._failsafe: dict[int, tuple[str, float]] = {}
        self._links: set[int] = set()
        self.beeps = 0

    def update(self, states: Mapping[int, VehicleState]) -> None:
        now = time.monotonic()
        before = set(self.alarms())
        for sysid, st in states.items():
            age = st.link_age_s
            lost = not st.link_ok or (math.isfinite(age) and age > LINK_ALARM_S)
            (self._links.add if lost else self._links.discard)(sysid)
            prev = self._texts.get(sysid)
            self._texts[sysid] = st.statustexts
            if prev is None:
                continue  # first sight: old texts are history, not news
            for text in _new_texts(prev, st.statustexts):
                if "Cleared" in text:
                    self._failsafe.pop(sysid, None)
                elif any(w in text for w in ALARM_WORDS):
                    self._failsafe[sysid] = (text, now)
        for sysid, (_text, t) in list(self._failsafe.items()):
            if now - t > FAILSAFE_HOLD_S:
                del self._failsafe[sysid]
        after = set(self.alarms())
        if after != before:
            if after - before:
                self.beeps += 1
                self._beep()
            self.changed.emit()

    def alarms(self) -> list[Alarm]:
        out = [Alarm(s, "link", f"#{s} LINK LOST") for s in sorted(self._links)]
        out += [Alarm(s, "failsafe", f"#{s} {text}") for s, (text, _t) in sorted(self._failsafe.items())]
        return out

    def acknowledge(self) -> None:
        """The pilot saw the failsafe texts (link alarms stay while the link is down)."""
        if self._failsafe:
            self._failsafe.clear()
            self.changed.emit()


class AlarmBanner(QLabel):
    """A red bar at the top of the map while any alarm is active; a click acknowledges failsafes."""

    def __init__(self, parent: QWidget, monitor: AlarmMonitor) -> None:
        super().__init__(parent)
        self.monitor = monitor
        self.setStyleSheet("background: #c62828; color: white; font: bold 12pt 'DejaVu Sans'; padding: 6px 12px;")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setToolTip("click to acknowledge failsafe messages")
        self.hide()
        monitor.changed.connect(self.refresh)

    def refresh(self) -> None:
        alarms = self.monitor.alarms()
        if not alarms:
            self.hide()
            return
        self.setText("  ·  ".join(a.text for a in alarms))
        parent = self.parentWidget()
        width = parent.width() if parent is not None else 600
        self.setFixedWidth(max(200, width - 40))
        self.adjustSize()
        self.move(20, 8)
        self.show()
        self.raise_()

    def mousePressEvent(self, event: Any) -> None:
        self.monitor.acknowledge()


class FleetCommander(QObject):
    """One command for several drones, behind one confirmation (the checklist for gated actions)."""

    checklists_ready = Signal(str, object, object)  # action, [Checklist], run callback

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: QMessageBox | PreflightDialog | None = None  # the open confirmation, for tests and tours
        self.checklists_ready.connect(self._show_checklists)

    def request(self, action: str, sysids: Sequence[int], call: Callable[[Any, int], None]) -> None:
        actions = self.window.services.actions
        ids = sorted(set(sysids))
        if actions is None or not ids:
            return

        def run() -> None:
            for sid in ids:
                self.window.run_job(f"#{sid} {action}", lambda _p, sid=sid: call(actions, sid))

        if action in GATED:
            self._gate(action, ids, run)
        elif len(ids) > 1:
            names = ", ".join(f"#{s}" for s in ids)
            box = QMessageBox(QMessageBox.Icon.Question, f"{action} {names}",
                              f"{action.upper()} drones {names}?", QMessageBox.StandardButton.Cancel,
                              self.window)  # fmt: skip
            ok = box.addButton(f"{action.upper()} {names}", QMessageBox.ButtonRole.AcceptRole)
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            box.buttonClicked.connect(lambda b: run() if b is ok else None)
            self.dialog = box
            box.open()
        else:
            run()

    def _gate(self, action: str, ids: list[int], run: Callable[[], None]) -> None:
        actions = self.window.services.actions
        gather = getattr(actions, "preflight", None)
        if gather is None:  # no vehicle access to read fence/mission: judge from the snapshot alone
            states = [self.window.fleet_model.state(s) for s in ids]
            self._show_checklists(action, [evaluate(st, action) for st in states if st is not None], run)
            return
        self.window.status(f"pre-flight check of {', '.join(f'#{s}' for s in ids)}…")

        def work(_progress: Callable[[str], None]) -> None:
            self.checklists_ready.emit(action, [gather(sid, action) for sid in ids], run)

        self.window.run_job(f"pre-flight {action}", work, quiet=True)

    def _show_checklists(self, action: str, checklists: list[Checklist], run: Callable[[], None]) -> None:
        dialog = PreflightDialog(action, checklists, self.window)
        dialog.accepted.connect(run)
        blocked = [c for c in checklists if not c.ok]
        if blocked:
            self.window.error(blocked[0].refusal())
        self.dialog = dialog
        dialog.open()


class GimbalControls(QWidget):
    """Pitch/yaw of the selected drone's gimbal, and "take photo"; ROI comes from the map's menu."""

    def __init__(self, point: Callable[[float, float], None], photo: Callable[[], None]) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Gimbal"))
        self.pitch = QDoubleSpinBox()
        self.pitch.setRange(-90, 20)
        self.pitch.setValue(-45)
        self.pitch.setSuffix("° pitch")
        self.yaw = QDoubleSpinBox()
        self.yaw.setRange(-180, 180)
        self.yaw.setSuffix("° yaw")
        self.point_button = QPushButton("Point gimbal")
        self.point_button.clicked.connect(lambda: point(self.pitch.value(), self.yaw.value()))
        self.photo_button = QPushButton("Take photo")
        self.photo_button.clicked.connect(photo)
        for w in (self.pitch, self.yaw, self.point_button, self.photo_button):
            row.addWidget(w)
        row.addStretch(1)

    def set_enabled(self, on: bool) -> None:
        for w in (self.pitch, self.yaw, self.point_button, self.photo_button):
            w.setEnabled(on)
