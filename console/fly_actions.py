"""The Fly view's flight controls: the command buttons under the fleet table (arm, take off, mode,
start mission, RTL, land, fly plan), the map's gimbal/ROI/fly-here commands, and running each
blocking vehicle call on the window's ``QThreadPool`` with its outcome back by signal.

A mixin of ``console.main_window.MainWindow`` (it uses the window's services, pool, signals,
selection and status bar). ``MODES``, ``BUTTON_PERMISSION`` and ``MULTI`` are re-exported there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

if TYPE_CHECKING:
    from console.fleet_controls import FleetCommander
    from console.fleet_model import FleetModel
    from console.services import ConsoleServices

MODES = ("GUIDED", "AUTO", "LOITER", "RTL", "LAND", "BRAKE", "ALT_HOLD", "STABILIZE")
BUTTON_PERMISSION = {
    "Arm": "flight.arm", "Disarm": "flight.arm", "Take off": "flight.takeoff", "Set mode": "flight.mode",
    "Start mission": "flight.run", "RTL": "flight.rtl", "Land": "flight.land", "Fly plan…": "flight.run",
}  # fmt: skip
MULTI = ("Arm", "Disarm", "Take off", "Set mode", "Start mission", "RTL", "Land")  # act on every selected drone


class JobSignals(QObject):
    done = Signal(str)
    failed = Signal(str)
    progress = Signal(str)
    mission_path = Signal(int, object)  # sysid, [(lat, lon), ...]


class _Job(QRunnable):
    def __init__(self, label: str, fn: Callable[[Callable[[str], None]], None], signals: JobSignals) -> None:
        super().__init__()
        self.label, self.fn, self.signals = label, fn, signals

    def run(self) -> None:
        try:
            self.fn(self.signals.progress.emit)
        except Exception as exc:  # the status bar shows any failure; the console must stay up
            self.signals.failed.emit(f"{self.label}: {exc}")
        else:
            self.signals.done.emit(f"{self.label}: done")


class FlyActions:
    services: ConsoleServices
    pool: QThreadPool
    signals: JobSignals
    _quiet: JobSignals
    selected: int | None
    selection: list[int]
    commander: FleetCommander
    fleet_model: FleetModel
    _missions_drawn: set[int]

    if TYPE_CHECKING:  # the window's

        def _status(self, text: str) -> None: ...

    def _controls(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.selected_label = QLabel("No drone selected")
        row.addWidget(self.selected_label)
        self.buttons: dict[str, QPushButton] = {}
        self.alt_spin = QDoubleSpinBox()
        self.alt_spin.setRange(2, 120)
        self.alt_spin.setValue(30)
        self.alt_spin.setSuffix(" m")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(MODES)
        for name, slot in (
            ("Arm", lambda: self._act_all("arm", lambda a, s: a.arm(s))),
            ("Disarm", lambda: self._act_all("disarm", lambda a, s: a.disarm(s))),
            ("Take off", lambda: self._act_all("takeoff", lambda a, s: a.takeoff(s, self.alt_spin.value()))),
            ("Set mode", lambda: self._act_all("mode", lambda a, s: a.set_mode(s, self.mode_combo.currentText()))),
            ("Start mission", lambda: self._act_all("mission start", _start_mission)),
            ("RTL", lambda: self._act_all("RTL", lambda a, s: a.rtl(s))),
            ("Land", lambda: self._act_all("land", lambda a, s: a.land(s))),
            ("Fly plan…", self._fly_plan_dialog),
        ):
            btn = QPushButton(name)
            btn.clicked.connect(slot)
            btn.setEnabled(False)
            self.buttons[name] = btn
            row.addWidget(btn)
            if name == "Take off":
                row.addWidget(self.alt_spin)
            if name == "Set mode":
                row.insertWidget(row.count() - 1, self.mode_combo)
        row.addStretch(1)
        return box

    def _act(self, label: str, call: Callable[..., None]) -> None:
        actions, sysid = self.services.actions, self.selected
        if actions is None or sysid is None:
            return
        self._status(f"#{sysid} {label}…")
        self.pool.start(_Job(f"#{sysid} {label}", lambda _progress: call(actions, sysid), self.signals))

    def _act_all(self, label: str, call: Callable[..., None]) -> None:
        """``label`` on every selected drone: one confirmation naming them (the checklist when gated)."""
        self.commander.request(label, self.selection, call)

    def run_job(self, label: str, fn: Callable[[Callable[[str], None]], None], quiet: bool = False) -> None:
        """Run a blocking vehicle call on the pool; the status bar gets its outcome (``quiet``: the log)."""
        if not quiet:
            self._status(f"{label}…")
        self.pool.start(_Job(label, fn, self._quiet if quiet else self.signals))

    def _point_gimbal(self, pitch: float, yaw: float) -> None:
        self._act(f"gimbal {pitch:.0f}°/{yaw:.0f}°", lambda a, s: a.set_gimbal(s, pitch, yaw))

    def _take_photo(self) -> None:
        self._act("photo", lambda a, s: a.take_photo(s))

    def _point_camera_here(self, lat: float, lon: float) -> None:
        self._act(f"camera at {lat:.5f},{lon:.5f}", lambda a, s: a.set_roi(s, lat, lon))

    def _fly_here(self, lat: float, lon: float) -> None:
        state = self.fleet_model.state(self.selected) if self.selected is not None else None
        alt = state.alt_rel_m if state and state.alt_rel_m and state.alt_rel_m > 2 else self.alt_spin.value()
        self._act(f"go to {lat:.5f},{lon:.5f}", lambda a, s: a.goto(s, lat, lon, alt))

    def _fly_plan_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Fly patrol plan", "", "Plans (*.plan *.waypoints *.txt *.geojson *.kml)"
        )
        if path:
            self.fly_plan(Path(path))

    def fly_plan(self, path: Path) -> None:
        actions, sysid = self.services.actions, self.selected
        if actions is None or sysid is None:
            return
        self._missions_drawn.discard(sysid)
        self.pool.start(_Job(f"#{sysid} fly {path.name}", lambda p: actions.fly_plan(sysid, path, p), self.signals))

    def _load_mission_path(self, sysid: int) -> None:
        actions = self.services.actions
        if actions is None:
            return
        emit = self._quiet.mission_path.emit

        def work(_progress: Callable[[str], None]) -> None:
            emit(sysid, list(actions.mission_path(sysid)))

        self.pool.start(_Job(f"#{sysid} mission", work, self._quiet))


def _start_mission(actions: Any, sysid: int) -> None:
    actions.start_mission(sysid)  # on the ground: GUIDED, arm, take off, AUTO; in the air: AUTO
