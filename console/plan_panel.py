"""Side-panel parts of the plan view: the drone checklist and the patrol options form.

``DroneList`` keeps one checkable row per vehicle heard (mode, armed, battery); the first one heard
starts checked. ``PatrolForm`` holds the patrol kind and its options and builds ``PlanOptions``;
``changed`` fires on every edit (the view debounces).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
)

from flight.types import VehicleState
from missions.planners.common import Camera, PlanOptions

KINDS = ("coverage", "perimeter", "shoreline", "route", "points")


def spin(lo: float, hi: float, value: float, suffix: str, step: float = 1.0, decimals: int = 0) -> QDoubleSpinBox:
    s = QDoubleSpinBox()
    s.setRange(lo, hi)
    s.setDecimals(decimals)
    s.setSingleStep(step)
    s.setValue(value)
    s.setSuffix(suffix)
    s.setKeyboardTracking(False)
    return s


class DroneList(QGroupBox):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__("Drones (upload goes to every checked one)")
        lay = QVBoxLayout(self)
        self.list = QListWidget()
        self.list.setMaximumHeight(48)
        self.list.itemChanged.connect(lambda _i: self.changed.emit())
        lay.addWidget(self.list)

    def _sysid(self, row: int) -> int:
        return int(self.list.item(row).data(Qt.ItemDataRole.UserRole))

    def update_states(self, states: Mapping[int, VehicleState]) -> bool:
        """Refresh the rows; True when a drone appeared."""
        self.list.blockSignals(True)
        rows = {self._sysid(i): self.list.item(i) for i in range(self.list.count())}
        added = False
        for sysid, st in sorted(states.items()):
            item = rows.get(sysid)
            if item is None:
                item = QListWidgetItem()
                item.setData(Qt.ItemDataRole.UserRole, sysid)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if self.list.count() == 0 else Qt.CheckState.Unchecked)
                self.list.addItem(item)
                added = True
            batt = "?" if st.battery_pct is None else f"{st.battery_pct:.0f}%"
            item.setText(f"#{sysid}  {st.mode}  {'armed' if st.armed else 'disarmed'}  battery {batt}")
        self.list.blockSignals(False)
        return added

    def selected(self) -> list[int]:
        return [self._sysid(i) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]  # fmt: skip

    def check(self, sysids: Sequence[int]) -> None:
        for i in range(self.list.count()):
            on = self._sysid(i) in sysids
            self.list.item(i).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class PatrolForm(QGroupBox):
    changed = Signal()

    def __init__(self) -> None:
        super().__init__("Patrol")
        form = QFormLayout(self)
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.kind.currentTextChanged.connect(lambda _t: self.changed.emit())
        form.addRow("kind", self.kind)
        self.alt = spin(2, 500, 40, " m")
        self.speed = spin(1, 30, 8, " m/s", 0.5, 1)
        self.hfov = spin(10, 150, 70, "° HFOV")
        self.side = spin(0, 90, 30, " % side")
        self.front = spin(0, 90, 70, " % front")
        self.standoff = spin(0, 500, 20, " m standoff")
        self.loiter = spin(0, 3600, 20, " s loiter")
        self.repeat = QSpinBox()
        self.repeat.setRange(1, 50)
        self.repeat.setSuffix(" ×")
        for label, w in (("altitude", self.alt), ("speed", self.speed), ("camera", self.hfov), ("overlap", self.side),
                         ("", self.front), ("shoreline", self.standoff), ("points", self.loiter),
                         ("repeat", self.repeat)):  # fmt: skip
            form.addRow(label, w)
            w.valueChanged.connect(lambda _v: self.changed.emit())

    def set_kind_quietly(self, kind: str) -> None:
        self.kind.blockSignals(True)
        self.kind.setCurrentText(kind)
        self.kind.blockSignals(False)

    def options(self, home: tuple[float, float] | None) -> PlanOptions:
        return PlanOptions(alt_m=self.alt.value(), speed_m_s=self.speed.value(), home=home,
                           camera=Camera(hfov_deg=self.hfov.value()), side_overlap=self.side.value() / 100,
                           front_overlap=self.front.value() / 100, standoff_m=self.standoff.value(),
                           loiter_s=self.loiter.value(), repeat=self.repeat.value())  # fmt: skip
