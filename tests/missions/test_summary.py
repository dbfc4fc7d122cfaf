"""missions.summary: the numbers the plan view shows, and violations placed on the map."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import Polygon

from missions import FencePolygon, Home, Mission, MissionItem, Place, Plan, PlanOptions, fence_items, mavcmd, plan
from missions.config import MissionsConfig
from missions.geo import LocalFrame
from missions.summary import kind_of, locate, locate_violations, summarize

LAT0, LON0 = 52.2297, 21.0122
FRAME = LocalFrame(LAT0, LON0)


def _wp(e: float, n: float, alt: float = 30.0) -> MissionItem:
    lat, lon = FRAME.point_to_geo(e, n)
    return MissionItem(mavcmd.NAV_WAYPOINT, 3, 0, 0, 0, 0, lat, lon, alt)


def _mission(*body: MissionItem) -> Mission:
    return Mission((MissionItem(mavcmd.NAV_TAKEOFF, 3, 0, 0, 0, 0, LAT0, LON0, 30.0), *body,
                    MissionItem(mavcmd.NAV_RETURN_TO_LAUNCH, 2)), Home(LAT0, LON0, 100.0))


def test_photos_count_every_trigger_distance_along_the_triggered_legs() -> None:
    trig_on = MissionItem(mavcmd.DO_SET_CAM_TRIGG_DIST, 2, 10.0, 0, 1, 0)
    trig_off = MissionItem(mavcmd.DO_SET_CAM_TRIGG_DIST, 2, 0.0, 0, 0, 0)
    facts = summarize(Plan(_mission(_wp(0, 100), trig_on, _wp(100, 100), trig_off, _wp(100, 0))))
    assert facts.photos == 11  # one as the trigger turns on, then one every 10 m of the 100 m leg
    assert facts.waypoints == 4 and facts.items == 7
    assert facts.length_m == pytest.approx(100 + 100 + 100 + 100, rel=0.02)  # three legs and RTL


def test_battery_needed_follows_the_drain_model_and_compares_with_the_drone() -> None:
    cfg = MissionsConfig(battery_drain_pct_per_min=4.0, battery_reserve_pct=25.0)
    facts = summarize(Plan(_mission(_wp(0, 3000), _wp(3000, 3000))), cfg, battery_pct=30.0)
    assert facts.battery_needed_pct == pytest.approx(facts.flight_time_s / 60 * 4.0 + 25.0)
    assert facts.battery_ok is False
    assert any("drone has 30%" in line for line in facts.lines())
    assert summarize(Plan(_mission(_wp(0, 50))), cfg, battery_pct=99.0).battery_ok is True
    assert summarize(Plan(_mission(_wp(0, 50))), cfg).battery_ok is None


def test_an_endless_loop_has_no_length_and_says_so() -> None:
    loop = MissionItem(mavcmd.DO_JUMP, 2, 2, -1, 0, 0)
    facts = summarize(Plan(_mission(_wp(0, 50), loop)))
    assert not facts.finite and math.isinf(facts.length_m) and facts.battery_needed_pct is None
    assert "loops forever" in " ".join(facts.lines())


def test_coverage_plan_summary_matches_the_planner_on_length() -> None:
    sw, ne = FRAME.point_to_geo(40, 40), FRAME.point_to_geo(240, 140)
    area = Polygon([(sw[1], sw[0]), (ne[1], sw[0]), (ne[1], ne[0]), (sw[1], ne[0])])
    result = plan("coverage", [Place("area", "park", area)], PlanOptions(alt_m=30, home=(LAT0, LON0)))
    facts = summarize(Plan(result.mission), coverage_pct=result.summary.coverage_pct)
    assert facts.photos >= result.summary.photos > 0  # the trigger also fires on the turns between lanes
    assert facts.length_m == pytest.approx(result.summary.length_m, rel=0.15)
    assert facts.coverage_pct == pytest.approx(100.0)


def test_violations_are_located_on_their_item_or_leg() -> None:
    fence = fence_items([FencePolygon(tuple(FRAME.point_to_geo(e, n) for e, n in
                                            ((-50, -50), (80, -50), (80, 80), (-50, 80))))])
    p = Plan(_mission(_wp(0, 60), _wp(200, 60), _wp(0, 0, alt=500)), fence=fence)
    found = locate_violations(p)
    kinds = {v.kind for v in found}
    assert {"fence", "altitude"} <= kinds
    outside = next(v for v in found if v.kind == "fence" and v.text.startswith("item 3"))
    assert outside.item_index == 2 and outside.lat_deg == p.mission.items[2].lat_deg
    alt = next(v for v in found if v.kind == "altitude")
    assert alt.item_index == 3 and alt.lat_deg is not None
    leg = locate(p, "leg 2 -> 3 leaves the geofence")
    a, b = p.mission.items[1], p.mission.items[2]
    assert leg.item_index == 2 and leg.lon_deg == pytest.approx((a.lon_deg + b.lon_deg) / 2)
    assert locate(p, "mission has no items").lat_deg is None


@pytest.mark.parametrize(("text", "kind"), [
    ("item 3 (WAYPOINT) is inside no-fly zone 1", "nofly"),
    ("leg 2 -> 3 leaves the geofence", "fence"),
    ("item 4 (WAYPOINT) altitude 500 m is above the limit 120 m", "altitude"),
    ("item 4 (WAYPOINT) is 9000 m from home, limit 5000 m", "distance"),
    ("battery: needs 21.6 minutes, has 16.2 (98 Wh usable of 130 Wh with 25% reserve)", "endurance"),
    ("last item is item 3 (WAYPOINT); end with RETURN_TO_LAUNCH (20) or LAND (21)", "structure"),
])  # fmt: skip
def test_kinds(text: str, kind: str) -> None:
    assert kind_of(text) == kind
