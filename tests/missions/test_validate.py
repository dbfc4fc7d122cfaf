"""Validation: each rule on its own, all violations listed together, battery message with minutes."""

from __future__ import annotations

from missions import Home, Mission, MissionItem, Plan, fence_items, mavcmd
from missions.config import MissionsConfig, VehicleProfile
from missions.fence import FenceCircle, FencePolygon
from missions.geo import LocalFrame
from missions.validate import check_plan, estimate_flight

F = LocalFrame(47.0, 8.0)


def wp(e: float, n: float, alt: float = 50.0, cmd: int = mavcmd.NAV_WAYPOINT, p1: float = 0.0) -> MissionItem:
    lat, lon = F.point_to_geo(e, n)
    return MissionItem(cmd, 3, p1, 0.0, 0.0, 0.0, lat, lon, alt)


def mission(*body: MissionItem) -> Mission:
    return Mission((wp(0, 0, cmd=mavcmd.NAV_TAKEOFF), *body, MissionItem(mavcmd.NAV_RETURN_TO_LAUNCH, 2)),
                   Home(47.0, 8.0, 400.0))


def square(half: float, inclusion: bool = True, cx: float = 0.0, cy: float = 0.0) -> FencePolygon:
    pts = [(cx - half, cy - half), (cx + half, cy - half), (cx + half, cy + half), (cx - half, cy + half)]
    return FencePolygon(tuple(F.point_to_geo(e, n) for e, n in pts), inclusion)


def test_clean_plan_passes() -> None:
    m = mission(wp(100, 0), wp(100, 100), wp(0, 100))
    assert check_plan(Plan(m, fence_items([square(500)]))) == []


def test_each_rule() -> None:
    cases = [
        (Plan(mission(wp(900, 0)), fence_items([square(500)])), "outside the geofence"),
        (Plan(mission(wp(100, 100)), fence_items([square(500), square(50, False, 100, 100)])), "no-fly zone"),
        (Plan(mission(wp(-200, 0), wp(200, 0)), fence_items([square(50, False)])), "crosses no-fly zone 1"),
        (Plan(mission(wp(100, 0)), fence_items([], [FenceCircle(47.0, 8.0, 50.0)])), "outside the geofence"),
        (Plan(mission(wp(-200, 0), wp(-200, 100), wp(200, 100), wp(200, 0), MissionItem(mavcmd.DO_JUMP, 2, 2.0, 1.0)),
              fence_items([square(50, False)])), "leg 5 -> 2 crosses no-fly zone 1"),
        (Plan(mission(wp(100, 0, alt=300.0))), "above the limit 120 m"),
        (Plan(mission(wp(6000, 0))), "from home, limit 5000 m"),
        (Plan(Mission((wp(10, 0), MissionItem(20, 2)))), "starts with TAKEOFF"),
        (Plan(Mission((wp(0, 0, cmd=22), wp(10, 0)))), "end with RETURN_TO_LAUNCH"),
        (Plan(mission(wp(10, 0), MissionItem(mavcmd.DO_JUMP, 2, 99.0, 1.0))), "jumps to seq 99"),
        (Plan(mission(MissionItem(16, 3, 0, 0, 0, 0, 0.0, 0.0, 50.0))), "has no position"),
        (Plan(Mission()), "no items"),
    ]
    for plan, needle in cases:
        problems = check_plan(plan)
        assert any(needle in p for p in problems), (needle, problems)


def test_battery_needs_and_has_minutes() -> None:
    small = VehicleProfile(battery_wh=20.0, hover_power_w=400.0, cruise_power_w=400.0, reserve_pct=20.0)
    m = mission(wp(0, 0, cmd=mavcmd.NAV_LOITER_TIME, p1=600.0))
    problems = check_plan(Plan(m), MissionsConfig(), small)
    msg = next(p for p in problems if p.startswith("battery"))
    assert "needs 10.7 minutes, has 2.4" in msg  # 600 s loiter + 50/3 s climb + 50/2 s descent; 16 Wh / 400 W


def test_all_violations_listed_not_just_first() -> None:
    m = Mission((wp(7000, 0, alt=500.0), wp(8000, 0, alt=500.0)), None)
    problems = check_plan(Plan(m, fence_items([square(500)])))
    assert len(problems) == 6  # takeoff, last item, 2x altitude, 2x geofence
    kinds = {"TAKEOFF", "RETURN_TO_LAUNCH", "above the limit", "outside the geofence"}
    assert all(any(k in p for p in problems) for k in kinds)


def test_do_jump_repeats_counted_in_time() -> None:
    v = VehicleProfile()
    body = (wp(0, 0, cmd=22), wp(500, 0), wp(500, 500))
    once = Mission((*body, MissionItem(20, 2)), Home(47.0, 8.0))
    thrice = Mission((*body, MissionItem(mavcmd.DO_JUMP, 2, 2.0, 2.0), MissionItem(20, 2)), Home(47.0, 8.0))
    t1, t3 = estimate_flight(once, v).length_m, estimate_flight(thrice, v).length_m
    assert t3 > t1 + 2 * 1000  # two more body laps
    forever = Mission((*body, MissionItem(mavcmd.DO_JUMP, 2, 2.0, -1.0), MissionItem(20, 2)), Home(47.0, 8.0))
    assert any("loops forever" in p for p in check_plan(Plan(forever)))
