"""The Plan view driven like a pilot drives it: mouse clicks on the real map widget, the embedded simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from console.plan_view import PlanView
from console.services import ConsoleServices
from missions import load_plan, save_places
from missions.geo import LocalFrame

pytestmark = pytest.mark.gui
HOME = (52.2297, 21.0122, 100.0)
FRAME = LocalFrame(HOME[0], HOME[1])


@dataclass
class Rig:
    sim: object
    fleet: object
    view: object
    actions: object
    url: str


@pytest.fixture
def rig() -> Iterator[Rig]:
    from flight import Fleet, Link
    from flight.sim import SimFleet
    from lookout.wiring import FleetActions, FleetView

    with SimFleet.start(vehicles=1, home=HOME, speedup=10.0, listen="tcp:127.0.0.1:0") as sim, Fleet() as fleet:
        url = sim.vehicles[0].url
        fleet.add("drone1", Link.open(url, wait_heartbeat_s=5.0))
        view = FleetView(fleet)
        yield Rig(sim, fleet, view, FleetActions(view, actor="console:test"), url)


def _open(qtbot, services: ConsoleServices) -> PlanView:  # type: ignore[no-untyped-def]
    view = PlanView(services)
    qtbot.addWidget(view)
    view.resize(1500, 950)
    view.show()
    qtbot.waitExposed(view)
    view.map.scale(2.0, 2.0)  # 1 m per pixel
    view.map.center_on(*FRAME.point_to_geo(100, 70))
    return view


def _px(view: PlanView, e: float, n: float) -> QPoint:
    return view.map.screen_pos(*FRAME.point_to_geo(e, n)).toPoint()


def _click(view: PlanView, e: float, n: float) -> None:
    QTest.mouseClick(view.map.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, _px(view, e, n))


def _draw(qtbot, view: PlanView, role: str, corners: list[tuple[float, float]], finish: str = "enter") -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(view.draw_buttons[role], Qt.MouseButton.LeftButton)
    assert view.editor.mode == role
    for e, n in corners[:-1]:
        _click(view, e, n)
    if finish == "double":
        e, n = corners[-1]
        _click(view, e, n)
        QTest.mouseDClick(view.map.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                          _px(view, e, n))  # fmt: skip
    else:
        _click(view, *corners[-1])
        QTest.keyClick(view.map, Qt.Key.Key_Return)
    assert view.editor.mode == ""


def _drag(view: PlanView, src: QPoint, dst: QPoint) -> None:
    vp = view.map.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, src)
    QTest.mouseMove(vp, QPoint((src.x() + dst.x()) // 2, (src.y() + dst.y()) // 2))
    QTest.mouseMove(vp, dst)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, dst)


def _settled(view: PlanView) -> bool:
    return not view.busy and not view._debounce.isActive()


AREA = [(40.0, 30.0), (190.0, 30.0), (190.0, 120.0), (40.0, 120.0)]


def test_draw_area_coverage_fix_fence_upload_and_fly_to_completion(qtbot, rig: Rig) -> None:  # type: ignore[no-untyped-def]
    view = _open(qtbot, ConsoleServices(fleet=rig.view, actions=rig.actions))
    qtbot.waitUntil(lambda: view.selected_drones() == [1], timeout=10_000)
    qtbot.waitUntil(lambda: rig.view.snapshot()[1].home_lat_deg is not None, timeout=10_000)

    _draw(qtbot, view, "area", AREA, finish="double")
    assert [s.role for s in view.editor.shapes] == ["area"] and len(view.editor.shapes[0].rings[0]) == 4
    qtbot.waitUntil(lambda: view.mission is not None and _settled(view), timeout=15_000)
    assert view.kind.currentText() == "coverage"
    assert view.facts is not None and view.facts.photos > 0 and view.facts.length_m > 300
    text = view.summary.summary.text()
    assert "photos" in text and "coverage 100%" in text and "drone has" in text
    assert view.violations == () and view.fly_buttons["Upload"].isEnabled()

    # options change the path live: a higher altitude means wider lanes, fewer waypoints
    before = view.facts.waypoints
    view.alt.setValue(60)
    qtbot.waitUntil(lambda: _settled(view) and view.facts is not None and view.facts.waypoints < before, timeout=15_000)
    view.alt.setValue(40)
    qtbot.waitUntil(lambda: _settled(view) and view.facts is not None and view.facts.waypoints == before,
                    timeout=15_000)

    # a geofence that leaves the east part of the area out: reported, drawn, upload refused with the reason
    _draw(qtbot, view, "fence", [(-20, -20), (110, -20), (110, 150), (-20, 150)])
    qtbot.waitUntil(lambda: _settled(view) and any(v.kind == "fence" for v in view.violations), timeout=15_000)
    up = view.fly_buttons["Upload"]
    assert not up.isEnabled() and "fence" in up.toolTip()
    assert view.summary.list.count() == len(view.violations) and "FENCE" in view.summary.list.item(0).text()
    assert all(v.lat_deg is not None for v in view.violations if v.kind == "fence")

    # the pilot drags the fence's east corners past the area: no violation left
    for n in (-20, 150):
        src = _px(view, 110, n)
        assert view.editor.handle_at(src.toPointF())[0] == "vx"
        _drag(view, src, _px(view, 240, n))
    fence = next(s for s in view.editor.shapes if s.role == "fence")
    assert FRAME.point_to_enu(*fence.rings[0][1])[0] == pytest.approx(240, abs=3)
    qtbot.waitUntil(lambda: _settled(view) and view.violations == () and up.isEnabled(), timeout=15_000)

    plan = view.current_plan()
    assert plan is not None and len(plan.fence) == 4
    with qtbot.waitSignal(view.uploaded, timeout=30_000):
        qtbot.mouseClick(up, Qt.MouseButton.LeftButton)
    assert view.progress.value() == view.progress.maximum() == len(plan.mission.items) + len(plan.fence)
    n_items = len(plan.mission.items)
    qtbot.waitUntil(lambda: rig.view.snapshot()[1].mission_total >= n_items, timeout=10_000)

    seen = {"armed": False, "seq": 0}

    def landed_after_mission() -> bool:
        st = rig.view.snapshot()[1]
        if st.armed:
            seen["armed"] = True
            if st.mode == "AUTO":
                seen["seq"] = max(seen["seq"], st.mission_seq)
        return seen["armed"] and not st.armed

    qtbot.mouseClick(view.fly_buttons["Start"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rig.view.snapshot()[1].mode == "AUTO" and rig.view.snapshot()[1].mission_seq >= 4,
                    timeout=60_000)  # fmt: skip
    qtbot.mouseClick(view.fly_buttons["Pause"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rig.view.snapshot()[1].mode == "BRAKE", timeout=10_000)
    qtbot.mouseClick(view.fly_buttons["Resume"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rig.view.snapshot()[1].mode == "AUTO", timeout=10_000)
    qtbot.waitUntil(landed_after_mission, timeout=150_000)
    assert seen["seq"] >= n_items - 1, f"stopped at item {seen['seq']} of {n_items}"
    st = rig.view.snapshot()[1]
    assert abs(st.lat_deg - HOME[0]) < 1e-4 and abs(st.lon_deg - HOME[1]) < 1e-4  # back home (RTL)
    view.shutdown()


def test_a_plan_drawn_and_saved_checks_and_flies_from_the_cli(qtbot, rig: Rig, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from lookout.cli import main

    view = _open(qtbot, ConsoleServices(fleet=rig.view, actions=rig.actions))
    qtbot.waitUntil(lambda: view.selected_drones() == [1], timeout=10_000)
    _draw(qtbot, view, "area", AREA)
    _draw(qtbot, view, "rally", [(10, 10)])
    qtbot.waitUntil(lambda: view.mission is not None and _settled(view) and not view.violations, timeout=15_000)
    path = tmp_path / "drawn.plan"
    view.save_plan(path)
    saved = load_plan(path)
    assert saved.mission.items == view.mission.items and len(saved.rally) == 1
    assert main(["plan", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and f"photos {view.facts.photos}" in out  # the same summary as the Plan view
    view.shutdown()
    rig.fleet.remove("drone1")  # the CLI opens its own link
    rc = main(["--data-dir", str(tmp_path / "data"), "fly", "--connect", rig.url, "--no-tlog", "run", str(path),
               "--ready-timeout", "20", "--timeout", "300"])  # fmt: skip
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "done" in out.out or "landed" in out.out


class _NoFleet:
    def snapshot(self) -> dict[int, object]:
        return {}


def test_waypoints_edit_on_the_map_and_in_the_table(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = _open(qtbot, ConsoleServices(fleet=_NoFleet(), map_center=HOME[:2]))
    view.map.center_on(*FRAME.point_to_geo(100, 70))
    _draw(qtbot, view, "route", [(0, 0), (100, 40), (200, 40)])
    qtbot.waitUntil(lambda: view.mission is not None and _settled(view), timeout=15_000)
    assert view.kind.currentText() == "route"
    view.patrol.repeat.setValue(2)  # a DO_JUMP back to the start of the patrol body
    qtbot.waitUntil(lambda: _settled(view) and any(it.command == 177 for it in view.mission.items), timeout=15_000)

    def jump_target() -> object:
        jump = next(it for it in view.mission.items if it.command == 177)
        return view.mission.items[int(jump.param1) - 1]

    target = jump_target()
    items = view.mission.items
    wps = [i for i, it in enumerate(items) if it.command == 16]
    assert len(wps) >= 2
    # drag the second waypoint 30 m north
    k = wps[1]
    e, n = FRAME.point_to_enu(items[k].lat_deg, items[k].lon_deg)
    _drag(view, _px(view, e, n), _px(view, e, n + 30))
    qtbot.waitUntil(lambda: _settled(view) and view.mission.items[k] != items[k], timeout=5_000)
    moved = view.mission.items[k]
    assert FRAME.point_to_enu(moved.lat_deg, moved.lon_deg)[1] == pytest.approx(n + 30, abs=2)
    assert view.model.rowCount() == len(items)
    # the "+" between the first two waypoints inserts one there
    a, b = view.mission.items[wps[0]], view.mission.items[wps[1]]
    mid = view.map.screen_pos((a.lat_deg + b.lat_deg) / 2, (a.lon_deg + b.lon_deg) / 2).toPoint()
    assert view.editor.handle_at(mid.toPointF())[0] == "mid"
    QTest.mouseClick(view.map.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, mid)
    qtbot.waitUntil(lambda: _settled(view) and len(view.mission.items) == len(items) + 1, timeout=5_000)
    assert view.mission.items[wps[1]].command == 16
    assert jump_target() == target
    # click it, Delete removes it
    ins = view.mission.items[wps[1]]
    QTest.mouseClick(view.map.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view.map.screen_pos(ins.lat_deg, ins.lon_deg).toPoint())  # fmt: skip
    assert view.editor.selected_wp == wps[1] and view.table.currentIndex().row() == wps[1]
    QTest.keyClick(view.map, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: _settled(view) and len(view.mission.items) == len(items), timeout=5_000)
    # the table's Delete removes the speed change before the jump's target: the DO_JUMP is renumbered
    from PySide6.QtWidgets import QPushButton

    assert view.mission.items[1].command == 178
    view.table.selectRow(1)
    delete = next(b for b in view.findChildren(QPushButton) if b.text() == "Delete item")
    qtbot.mouseClick(delete, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _settled(view) and len(view.mission.items) == len(items) - 1, timeout=5_000)
    assert all(it.command != 178 for it in view.mission.items) and jump_target() == target
    items = view.mission.items
    wps = [i for i, it in enumerate(items) if it.command == 16]
    # the table: an altitude over the limit is a violation at that waypoint
    view.model.setData(view.model.index(wps[0], 2), "400")
    qtbot.waitUntil(lambda: _settled(view) and any(v.kind == "altitude" for v in view.violations), timeout=5_000)
    alt = next(v for v in view.violations if v.kind == "altitude")
    assert alt.item_index == wps[0] and not view.fly_buttons["Upload"].isEnabled()
    assert not view.model.setData(view.model.index(wps[0], 1), "NOT_A_COMMAND")
    assert view.model.setData(view.model.index(wps[0], 1), "LOITER_TIME")
    assert view.mission is not None
    qtbot.waitUntil(lambda: _settled(view) and view.mission.items[wps[0]].command == 19, timeout=5_000)
    view.shutdown()


def test_import_places_area_with_hole_and_river_shoreline(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from shapely.geometry import LineString, Polygon

    from missions import Place

    def ll(e: float, n: float) -> tuple[float, float]:
        lat, lon = FRAME.point_to_geo(e, n)
        return lon, lat

    shell = [ll(0, 0), ll(200, 0), ll(200, 150), ll(0, 150)]
    hole = [ll(80, 50), ll(120, 50), ll(120, 100), ll(80, 100)]
    f = tmp_path / "places.geojson"
    save_places([Place("area", "park", Polygon(shell, [hole]))], f)
    view = _open(qtbot, ConsoleServices(fleet=_NoFleet()))
    view.import_places(f)
    assert len(view.editor.shapes[0].rings) == 2  # the hole came in
    qtbot.waitUntil(lambda: view.mission is not None and _settled(view), timeout=15_000)
    assert view.kind.currentText() == "coverage" and view.facts is not None and view.facts.photos > 0
    view.clear()
    river = tmp_path / "river.geojson"
    save_places([Place("water", "river", LineString([ll(-100, 20), ll(100, 60), ll(300, 40)]), width_m=30.0)], river)
    view.import_places(river)
    assert view.editor.shapes[0].role == "river" and view.editor.shapes[0].width_m == 30.0
    qtbot.waitUntil(lambda: view.mission is not None and _settled(view), timeout=15_000)
    assert view.kind.currentText() == "shoreline" and not view.error
    # open a saved plan back: the same mission
    out = tmp_path / "river.waypoints"
    view.save_plan(out)
    mission = view.mission
    view.clear()
    view.open_plan(out)
    qtbot.waitUntil(lambda: _settled(view) and view.mission is not None, timeout=5_000)
    assert len(view.mission.items) == len(mission.items)
    # a bad file is one message and changes nothing
    bad = tmp_path / "bad.plan"
    bad.write_text("{not json")
    view._guard(lambda: view.open_plan(bad))
    assert "bad.plan" in view.status.text() and len(view.mission.items) == len(mission.items)
    view.shutdown()


def test_main_window_has_a_plan_tab(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QTabWidget

    from console.main_window import MainWindow

    win = MainWindow(ConsoleServices(fleet=_NoFleet()))
    qtbot.addWidget(win)
    tabs = win.centralWidget()
    assert isinstance(tabs, QTabWidget)
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Fly", "Plan"]
    assert isinstance(win.plan_view, PlanView)
    win.show()
    tabs.setCurrentWidget(win.plan_view)
    assert win.plan_view.fly_buttons["Upload"].isVisible()
    win.close()


def test_an_operator_sees_the_plan_but_cannot_upload_or_fly(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow
    from dispatch.roles import Actor, Role

    win = MainWindow(ConsoleServices(fleet=_NoFleet()), actor=Actor("ann", Role.OPERATOR))
    qtbot.addWidget(win)
    win.show()
    win.centralWidget().setCurrentWidget(win.plan_view)
    buttons = win.plan_view.fly_buttons
    assert not any(buttons[n].isVisible() for n in ("Upload", "Start", "Pause", "Resume"))
    assert win.plan_view.draw_buttons["area"].isVisible()
    win.close()


def test_key_points_patrol_follows_the_loiter_time(qtbot) -> None:  # type: ignore[no-untyped-def]
    view = _open(qtbot, ConsoleServices(fleet=_NoFleet()))
    for e, n in ((20, 20), (150, 40), (90, 120)):
        qtbot.mouseClick(view.draw_buttons["point"], Qt.MouseButton.LeftButton)
        _click(view, e, n)  # a point ends with its click
    assert [s.role for s in view.editor.shapes] == ["point"] * 3
    qtbot.waitUntil(lambda: view.mission is not None and _settled(view), timeout=15_000)
    assert view.kind.currentText() == "points"
    before = view.facts.flight_time_s
    view.patrol.loiter.setValue(60)
    qtbot.waitUntil(lambda: _settled(view) and view.facts.flight_time_s > before + 100, timeout=15_000)
    view.shutdown()


def test_an_opened_plan_with_a_no_fly_circle_shows_it_and_blocks_upload(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from missions import FenceCircle, Home, Mission, MissionItem, Plan, fence_items, mavcmd, save_plan

    pts = [FRAME.point_to_geo(e, n) for e, n in ((0, 80), (100, 80), (100, 0))]
    items = (MissionItem(mavcmd.NAV_TAKEOFF, 3, 0, 0, 0, 0, HOME[0], HOME[1], 30.0),
             *(MissionItem(mavcmd.NAV_WAYPOINT, 3, 0, 0, 0, 0, lat, lon, 30.0) for lat, lon in pts),
             MissionItem(mavcmd.NAV_RETURN_TO_LAUNCH, 2))  # fmt: skip
    fence = fence_items(circles=[FenceCircle(*pts[1], 25.0, inclusion=False)])
    path = tmp_path / "nofly.plan"
    save_plan(Plan(Mission(items, Home(*HOME)), fence), path)
    view = _open(qtbot, ConsoleServices(fleet=_NoFleet(), actions=object()))
    view.open_plan(path)
    qtbot.waitUntil(lambda: _settled(view) and view.mission is not None, timeout=5_000)
    nofly = [v for v in view.violations if v.kind == "nofly"]
    assert nofly and nofly[0].item_index == 2
    assert view.editor._circles == [(pts[1][0], pts[1][1], 25.0, False)]
    assert not view.fly_buttons["Upload"].isEnabled()
    # moving the waypoint out of the circle fixes it; the circle goes back out with the plan
    view.move_waypoint(2, *FRAME.point_to_geo(20, 20))
    qtbot.waitUntil(lambda: _settled(view) and not any(v.kind == "nofly" for v in view.violations), timeout=5_000)
    plan = view.current_plan()
    assert plan is not None and plan.fence == fence
    view.shutdown()


def test_upload_goes_to_every_checked_drone_with_progress(qtbot) -> None:  # type: ignore[no-untyped-def]
    from flight import Fleet, Link
    from flight.sim import SimFleet
    from lookout.wiring import FleetActions, FleetView

    with SimFleet.start(vehicles=2, home=HOME, speedup=5.0, listen="tcp:127.0.0.1:0") as sim, Fleet() as fleet:
        for k, v in enumerate(sim.vehicles):
            fleet.add(f"drone{k + 1}", Link.open(v.url, wait_heartbeat_s=5.0))
        source = FleetView(fleet)
        view = _open(qtbot, ConsoleServices(fleet=source, actions=FleetActions(source, actor="console:test")))
        qtbot.waitUntil(lambda: view.drone_list.list.count() == 2, timeout=10_000)
        assert view.selected_drones() == [1]  # the first heard starts checked, the others do not
        view.check_drones([1, 2])
        _draw(qtbot, view, "area", AREA)
        qtbot.waitUntil(lambda: view.mission is not None and _settled(view) and not view.violations, timeout=15_000)
        assert "#1, #2" in view.fly_buttons["Upload"].toolTip()
        done: list[int] = []
        view.uploaded.connect(done.append)
        qtbot.mouseClick(view.fly_buttons["Upload"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: sorted(done) == [1, 2], timeout=30_000)
        n = len(view.mission.items)
        qtbot.waitUntil(lambda: all(source.snapshot()[s].mission_total >= n for s in (1, 2)), timeout=10_000)
        view.shutdown()


def test_import_places_from_google_earth_kml(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def coords(pts: list[tuple[float, float]]) -> str:
        return " ".join(f"{lon},{lat},0" for lat, lon in (FRAME.point_to_geo(e, n) for e, n in pts))

    ring = [(0, 0), (150, 0), (150, 100), (0, 100), (0, 0)]
    kml = tmp_path / "park.kml"
    kml.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>park</name><Polygon><outerBoundaryIs><LinearRing><coordinates>{coords(ring)}</coordinates>
</LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>bridge</name><Point><coordinates>{coords([(75, 150)])}</coordinates></Point></Placemark>
</Document></kml>""")
    view = _open(qtbot, ConsoleServices(fleet=_NoFleet()))
    view.import_places(kml)
    assert [(s.role, s.name) for s in view.editor.shapes] == [("area", "park"), ("point", "bridge")]
    assert len(view.editor.shapes[0].rings[0]) == 4  # the closing vertex is not a handle of its own
    qtbot.waitUntil(lambda: view.mission is not None and _settled(view), timeout=15_000)
    assert view.kind.currentText() == "coverage" and not view.error
    view.kind.setCurrentText("points")
    qtbot.waitUntil(lambda: _settled(view) and view.facts is not None and view.facts.photos == 0, timeout=15_000)
    view.shutdown()
