"""Console behaviour through its public surface: snapshots in, widgets and user intents out."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from console.fleet_model import FleetModel
from console.services import ConsoleServices, FeedFrame
from flight.types import VehicleState

pytestmark = pytest.mark.gui


class Fleet:
    """A FleetSource over states the test controls (the console's whole input)."""

    def __init__(self, states: list[VehicleState]) -> None:
        self.states = {s.sysid: s for s in states}

    def snapshot(self) -> Mapping[int, VehicleState]:
        return dict(self.states)


class RecordingActions:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.threads: set[str] = set()
        self.fail_with = fail_with

    def _rec(self, name: str, *args: object) -> None:
        self.calls.append((name, args))
        self.threads.add(threading.current_thread().name)
        if self.fail_with:
            raise self.fail_with

    def arm(self, sysid: int) -> None:
        self._rec("arm", sysid)

    def disarm(self, sysid: int) -> None:
        self._rec("disarm", sysid)

    def set_mode(self, sysid: int, mode: str) -> None:
        self._rec("mode", sysid, mode)

    def takeoff(self, sysid: int, alt_rel_m: float) -> None:
        self._rec("takeoff", sysid, alt_rel_m)

    def goto(self, sysid: int, lat: float, lon: float, alt: float) -> None:
        self._rec("goto", sysid, lat, lon, alt)

    def rtl(self, sysid: int) -> None:
        self._rec("rtl", sysid)

    def land(self, sysid: int) -> None:
        self._rec("land", sysid)

    def fly_plan(self, sysid: int, path: Path, progress: Callable[[str], None]) -> None:
        progress("waypoint 1/2")
        self._rec("fly_plan", sysid, path)

    def mission_path(self, sysid: int) -> Sequence[tuple[float, float]]:
        return [(52.23, 21.01), (52.231, 21.012)]


def _state(sysid: int, **kw: object) -> VehicleState:
    base = VehicleState(
        sysid=sysid,
        mode="GUIDED",
        lat_deg=52.2297 + 0.001 * sysid,
        lon_deg=21.0122,
        alt_rel_m=20.0,
        heading_deg=90.0,
        battery_pct=80.0,
        gps_fix=3,
        gps_sats=12,
        ekf_ok=True,
        link_ok=True,
        link_age_s=0.2,
    )
    return dataclasses.replace(base, **kw)


class Feed:
    name = "drone-1 camera"

    def __init__(self) -> None:
        self.frame: FeedFrame | None = None

    def latest(self) -> FeedFrame | None:
        return self.frame

    def status(self) -> str:
        return "rtsp://cam/1 unreachable, retrying (attempt 3)"


def test_fleet_model_is_a_valid_qt_model(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = FleetModel()
    model.update(_state(1))
    model.update(_state(2, link_ok=False))
    model.update(_state(1, mode="AUTO"))
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    assert model.data(model.index(0, 1)) == "AUTO"
    assert model.data(model.index(1, 7)) == "LOST"


def test_window_shows_fleet_and_runs_commands_off_the_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    fleet, actions, feed = Fleet([_state(1), _state(2)]), RecordingActions(), Feed()
    win = MainWindow(ConsoleServices(fleet=fleet, actions=actions, feeds=[feed]))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 2, timeout=3000)
    assert win.map.vehicle_ids() == [1, 2]

    fleet.states[2] = _state(2, mode="RTL", link_ok=False)
    qtbot.waitUntil(lambda: win.fleet_model.data(win.fleet_model.index(1, 1)) == "RTL", timeout=3000)

    win.select_vehicle(2)
    assert win.buttons["Arm"].isEnabled()
    win.buttons["Arm"].click()  # the pre-flight gate: drone 2 has no link, so the checklist blocks
    qtbot.waitUntil(lambda: win.commander.dialog is not None, timeout=3000)
    assert not win.commander.dialog.confirm_button.isEnabled()
    assert "Link: no telemetry" in win.commander.dialog.reason.text()
    win.commander.dialog.reject()
    fleet.states[2] = _state(2, mode="RTL")
    qtbot.waitUntil(lambda: win.fleet_model.state(2).link_ok, timeout=3000)
    win.buttons["Arm"].click()
    qtbot.waitUntil(lambda: win.commander.dialog.isVisible() and win.commander.dialog.passed, timeout=3000)
    with qtbot.waitSignal(win.signals.done, timeout=3000):
        win.commander.dialog.confirm_button.click()  # the pilot confirms the checklist
    win.alt_spin.setValue(42)
    win.buttons["Take off"].click()
    qtbot.waitUntil(lambda: win.commander.dialog.action == "takeoff", timeout=3000)
    with qtbot.waitSignal(win.signals.done, timeout=3000):
        win.commander.dialog.confirm_button.click()
    assert actions.calls == [("arm", (2,)), ("takeoff", (2, 42.0))]
    assert threading.current_thread().name not in actions.threads

    with qtbot.waitSignal(win.map.fly_here_requested, timeout=1000):
        win.map.fly_here_requested.emit(52.24, 21.02)
    qtbot.waitUntil(lambda: any(c[0] == "goto" for c in actions.calls), timeout=3000)
    assert ("goto", (2, 52.24, 21.02, 20.0)) in actions.calls

    img = np.zeros((90, 160, 3), np.uint8)
    img[:, :80] = (0, 0, 255)
    feed.frame = FeedFrame(img, "5.0 fps, 2 people")
    qtbot.waitUntil(lambda: win.wall is not None and win.wall.tiles[0].showing_video, timeout=3000)
    win.close()


def test_command_failure_reaches_the_status_bar(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    actions = RecordingActions(fail_with=RuntimeError("arm rejected by vehicle (DENIED): PreArm: GPS: No 3D fix"))
    win = MainWindow(ConsoleServices(fleet=Fleet([_state(1)]), actions=actions))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 1, timeout=3000)
    win.select_vehicle(1)
    win.buttons["Arm"].click()
    qtbot.waitUntil(lambda: win.commander.dialog is not None and win.commander.dialog.passed, timeout=3000)
    with qtbot.waitSignal(win.signals.failed, timeout=3000) as blocker:
        win.commander.dialog.confirm_button.click()
    assert "PreArm: GPS: No 3D fix" in blocker.args[0]
    assert "PreArm" in win.statusBar().currentMessage()
    win.close()


def test_mission_path_is_drawn_for_vehicles_with_a_mission(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    win = MainWindow(ConsoleServices(fleet=Fleet([_state(1, mission_total=2)]), actions=RecordingActions()))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.map.has_mission_path(1), timeout=3000)
    win.close()
