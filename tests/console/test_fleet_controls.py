"""Several drones at once (embedded simulator, real links): select two, take off both behind one
checklist, RTL both behind one confirmation; link-lost and failsafe alarms; gimbal and ROI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from console.preflight import PreflightDialog
from console.services import ConsoleServices
from tests.console.test_main_window import Fleet, RecordingActions, _state

pytestmark = pytest.mark.gui
HOME = (52.2297, 21.0122, 100.0)


@pytest.fixture
def two_drones(tmp_path: Path) -> Iterator[tuple[object, object]]:
    from flight import Fleet as LinkFleet
    from flight.sim import SimFleet
    from lookout.config import parse_config
    from lookout.wiring import FleetActions, FleetView

    with SimFleet.start(vehicles=2, home=HOME, speedup=10.0, listen="tcp:127.0.0.1:0", spacing_m=30.0) as sim:
        cfg = parse_config("".join(f'[links.d{i}]\nurl = "{v.url}"\n' for i, v in enumerate(sim.vehicles)))
        fleet = LinkFleet.from_config(cfg.links, tmp_path / "tlogs")
        try:
            view = FleetView(fleet)
            yield sim, ConsoleServices(fleet=view, actions=FleetActions(view))
        finally:
            fleet.close()


def _select_rows(win, rows: list[int]) -> None:  # type: ignore[no-untyped-def]
    sel = QItemSelection()
    for r in rows:
        sel.select(win.fleet_model.index(r, 0), win.fleet_model.index(r, win.fleet_model.columnCount() - 1))
    win.table.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)


def test_select_two_drones_take_off_and_rtl_both(qtbot, two_drones) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    sim, services = two_drones
    win = MainWindow(services)
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    snap = services.fleet.snapshot
    qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 2, timeout=15000)
    qtbot.waitUntil(lambda: all(s.ekf_ok and s.gps_fix >= 3 and s.battery_pct for s in snap().values()), timeout=30000)

    _select_rows(win, [0, 1])  # table multi-select
    assert win.selection == [1, 2] and win.buttons["Take off"].isEnabled()
    assert not win.buttons["Fly plan…"].isEnabled()  # one plan per drone: not for a multi-selection
    win.alt_spin.setValue(12)
    win.buttons["Take off"].click()
    qtbot.waitUntil(lambda: isinstance(win.commander.dialog, PreflightDialog), timeout=15000)
    dialog = win.commander.dialog
    assert [c.sysid for c in dialog.checklists] == [1, 2] and "#1, #2" in dialog.windowTitle()
    assert dialog.passed, dialog.reason.text()
    fence = [i for c in dialog.checklists for i in c.items if i.name == "Fence"]
    assert all(not i.ok and not i.blocking for i in fence)  # no fence on the sim: a warning to confirm
    dialog.confirm_button.click()
    truths = [v.truth for v in sim.vehicles]
    qtbot.waitUntil(lambda: all(t().armed and t().alt_amsl_m - t().home_alt_amsl_m > 8 for t in truths),
                    timeout=40000)  # fmt: skip

    # The map: click drone 1, ctrl-click drone 2.
    win.map.center_on(*HOME[:2])
    win.map.set_zoom(0.3)
    win.map.flush()
    p1, p2 = win.map.vehicle_screen_pos(1), win.map.vehicle_screen_pos(2)
    assert p1 is not None and p2 is not None
    qtbot.mouseClick(win.map.viewport(), Qt.MouseButton.LeftButton, pos=p1.toPoint())
    assert win.selection == [1]
    qtbot.mouseClick(win.map.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     pos=p2.toPoint())  # fmt: skip
    assert win.selection == [1, 2]
    assert {i.row() for i in win.table.selectionModel().selectedRows()} == {0, 1}  # the table follows

    win.buttons["RTL"].click()  # one confirmation naming both
    box = win.commander.dialog
    assert isinstance(box, QMessageBox) and "#1, #2" in box.text()
    accept = next(b for b in box.buttons() if b.text().startswith("RTL"))
    accept.click()
    qtbot.waitUntil(lambda: all(t().mode == "RTL" for t in truths), timeout=15000)
    qtbot.waitUntil(lambda: all(s.mode == "RTL" for s in snap().values()), timeout=5000)
    win.close()


def test_link_lost_and_failsafe_alarms_are_raised_and_shown(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    fleet = Fleet([_state(1), _state(2)])
    win = MainWindow(ConsoleServices(fleet=fleet, actions=RecordingActions()))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 2, timeout=3000)
    win.map.center_on(52.23, 21.01)  # scrolled far from the scene origin
    assert win.alarms.alarms() == [] and not win.alarm_banner.isVisible()

    fleet.states[2] = _state(2, link_age_s=1.8)  # silent for 1.8 s: the link watchdog has not fired yet
    qtbot.waitUntil(lambda: [a.text for a in win.alarms.alarms()] == ["#2 LINK LOST"], timeout=1000)
    assert win.alarm_banner.isVisible() and "#2 LINK LOST" in win.alarm_banner.text()
    assert win.map.rect().contains(win.alarm_banner.geometry())  # on screen over the map, whatever it scrolled
    assert "ALARM" in win.statusBar().currentMessage() and win.alarms.beeps == 1

    fleet.states[1] = _state(1, statustexts=("Battery 1 is low 14.20V used 3100 mAh", "Battery Failsafe"))
    qtbot.waitUntil(lambda: any(a.kind == "failsafe" and a.sysid == 1 for a in win.alarms.alarms()), timeout=1000)
    assert "#1 Battery Failsafe" in win.alarm_banner.text() and win.alarms.beeps == 2

    fleet.states[2] = _state(2)
    fleet.states[1] = _state(1, statustexts=("Battery 1 is low 14.20V used 3100 mAh", "Battery Failsafe",
                                             "Battery Failsafe Cleared"))  # fmt: skip
    qtbot.waitUntil(lambda: win.alarms.alarms() == [], timeout=1000)
    assert not win.alarm_banner.isVisible()
    win.close()


def test_gimbal_roi_and_photo_go_to_the_selected_drone(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    class Actions(RecordingActions):
        def set_gimbal(self, sysid: int, pitch: float, yaw: float) -> None:
            self._rec("gimbal", sysid, pitch, yaw)

        def set_roi(self, sysid: int, lat: float, lon: float) -> None:
            self._rec("roi", sysid, lat, lon)

        def take_photo(self, sysid: int) -> None:
            self._rec("photo", sysid)

    actions = Actions()
    win = MainWindow(ConsoleServices(fleet=Fleet([_state(1), _state(2, gimbal_pitch_deg=-60.0)]), actions=actions))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 2, timeout=3000)
    win.select_vehicle(2)
    win.gimbal.pitch.setValue(-30)
    win.gimbal.yaw.setValue(15)
    with qtbot.waitSignal(win.signals.done, timeout=3000):
        win.gimbal.point_button.click()
    with qtbot.waitSignal(win.signals.done, timeout=3000):
        win.gimbal.photo_button.click()
    with qtbot.waitSignal(win.signals.done, timeout=3000):
        win.map.roi_requested.emit(52.231, 21.013)
    assert actions.calls == [("gimbal", (2, -30.0, 15.0)), ("photo", (2,)), ("roi", (2, 52.231, 21.013))]
    footprint = win.map.footprint(2)  # 20 m up, camera 60° down: a patch on the ground east of the drone
    assert len(footprint) >= 4
    lat2 = _state(2).lat_deg
    assert all(abs(la - lat2) < 0.001 and lo > 21.0122 for la, lo in footprint)
    win.set_selection([1, 2])
    assert not win.gimbal.point_button.isEnabled()  # one drone's camera at a time
    win.close()


def test_video_wall_follows_the_selected_drone_and_fits_its_dock(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow
    from tests.console.test_main_window import Feed

    feeds = []
    for name in ("Street camera: Main St", "Drone #1 gimbal camera", "Drone #2 gimbal camera"):
        f = Feed()
        f.name = name
        feeds.append(f)
    win = MainWindow(ConsoleServices(fleet=Fleet([_state(1), _state(2)]), actions=RecordingActions(), feeds=feeds))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 2, timeout=3000)
    assert win.wall is not None
    win.select_vehicle(2)
    assert win.wall.tiles[0].feed.name == "Drone #2 gimbal camera"
    win.select_vehicle(1)
    assert win.wall.tiles[0].feed.name == "Drone #1 gimbal camera"
    assert win.wall.layout().itemAtPosition(0, 0).widget() is win.wall.tiles[0]
    assert win.wall.best_columns(500, 900) == 1 and win.wall.best_columns(1500, 300) == 3
    win.close()


def test_flight_actions_refuse_arm_takeoff_and_start_past_a_failing_item(two_drones) -> None:  # type: ignore[no-untyped-def]
    """Whoever calls (the Plan view's Start, dispatch's send-drone): the gate's blocking items hold."""
    import time

    from flight.preflight import PreflightRefused

    sim, services = two_drones
    sim.vehicles[0].set_battery_pct(10.0)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        st = services.fleet.snapshot().get(1)
        if st is not None and st.battery_pct is not None and st.battery_pct < 15 and st.ekf_ok:
            break
        time.sleep(0.05)
    for call in (lambda: services.actions.arm(1), lambda: services.actions.takeoff(1, 10.0),
                 lambda: services.actions.start_mission(1)):  # fmt: skip
        with pytest.raises(PreflightRefused, match=r"of vehicle 1: Battery: 10%"):
            call()
    assert not sim.vehicles[0].truth().armed
