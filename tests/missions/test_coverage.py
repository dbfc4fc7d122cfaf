"""Coverage planner properties on random polygons (hypothesis): no gap wider than the footprint, every item
inside the area's buffered polygon and the fence; plus sweep-angle and entry-point behaviour."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box

from missions import Plan, fence_items, mavcmd
from missions.fence import FencePolygon
from missions.geo import LocalFrame
from missions.planners.common import PlanOptions, to_lonlat
from missions.planners.coverage import plan_coverage
from missions.validate import check_plan

ALT = 40.0


def star(radii: list[float], hole: bool) -> Polygon:
    n = len(radii)
    ang = np.linspace(0, 2 * math.pi, n, endpoint=False)
    shell = [(r * math.cos(a), r * math.sin(a)) for r, a in zip(radii, ang, strict=True)]
    holes = []
    if hole:
        r = 0.3 * min(radii)
        holes = [[(r * math.cos(a), r * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 6, endpoint=False)]]
    return Polygon(shell, holes)


def enu_items(res, frame: LocalFrame):
    out = []
    for it in res.mission.items:
        if it.command == mavcmd.NAV_WAYPOINT:
            out.append(frame.point_to_enu(it.lat_deg, it.lon_deg))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    radii=st.lists(st.floats(150, 900), min_size=5, max_size=12),
    hole=st.booleans(),
    lat=st.floats(-70, 70),
    lon=st.floats(-179.5, 179.5),
    overlap=st.floats(0.0, 0.6),
    angle=st.one_of(st.none(), st.floats(0, 179)),
)
def test_random_polygons_no_gap_items_inside(radii, hole, lat, lon, overlap, angle) -> None:
    poly = star(radii, hole)
    frame = LocalFrame(lat, lon)
    home_enu = (0.0, poly.bounds[1] - 150.0)
    home = frame.point_to_geo(*home_enu)
    opts = PlanOptions(alt_m=ALT, home=home, side_overlap=overlap, sweep_angle_deg=angle)
    res = plan_coverage(to_lonlat(frame, poly), opts)
    width, _ = opts.camera.footprint_m(ALT)
    # the planner's frame is at home; re-project the polygon there so the comparison is exact
    hframe = LocalFrame(*home)
    area = shapely.transform(to_lonlat(frame, poly), lambda xy: np.column_stack(hframe.to_enu(xy[:, 1], xy[:, 0])))
    pts = enu_items(res, hframe)
    assert len(pts) >= 2
    lanes = LineString(pts)  # lanes + transits (the camera triggers on both)
    # 1) no gap: every point of the area is within half a footprint of a lane
    minx, miny, maxx, maxy = area.bounds
    gx, gy = np.meshgrid(np.linspace(minx, maxx, 60), np.linspace(miny, maxy, 60))
    samples = shapely.points(gx.ravel(), gy.ravel())
    inside = samples[shapely.contains(area, samples)]
    dist = shapely.distance(lanes, inside)
    assert float(dist.max()) <= width / 2 + 0.05
    # 2) every waypoint, and every leg between them, within the area buffered by half a footprint
    buffered = area.buffer(width / 2 + 1.0, quad_segs=16)  # 1 m: arcs are chords, lane ends sit at W/2
    assert all(buffered.covers(Point(p)) for p in pts)
    assert buffered.covers(lanes)
    # 3) ... and inside a fence around area + home: check_plan finds no fence problem
    hull = shapely.union_all([area, Point(0, 0).buffer(5)]).convex_hull.buffer(width / 2 + 1)
    ring = [hframe.point_to_geo(x, y) for x, y in list(hull.exterior.coords)[:-1]]
    problems = check_plan(Plan(res.mission, fence_items([FencePolygon(tuple(ring))])))
    assert not [p for p in problems if "fence" in p]
    assert res.summary.coverage_pct > 99.0


def test_sweep_follows_long_side_of_a_rotated_strip() -> None:
    frame = LocalFrame(48.0, 11.0)
    strip = affinity.rotate(box(-600, -100, 600, 100), 30, origin=(0, 0))
    res = plan_coverage(to_lonlat(frame, strip), PlanOptions(alt_m=ALT, home=(48.0, 11.0)))
    assert res.summary.sweep_angle_deg is not None
    assert abs(((res.summary.sweep_angle_deg - 30) + 90) % 180 - 90) < 1.0
    forced = plan_coverage(to_lonlat(frame, strip), PlanOptions(alt_m=ALT, home=(48.0, 11.0), sweep_angle_deg=120))
    assert res.summary.flight_time_s < forced.summary.flight_time_s  # fewer turns wins
    assert len(res.mission.items) < len(forced.mission.items)


def test_entry_corner_nearest_home() -> None:
    frame = LocalFrame(-33.0, 151.0)
    square = box(0, 0, 800, 800)
    for corner in [(-50, -50), (850, -50), (850, 850), (-50, 850)]:
        home = frame.point_to_geo(*corner)
        res = plan_coverage(to_lonlat(frame, square), PlanOptions(alt_m=ALT, home=home))
        hframe = LocalFrame(*home)
        first = enu_items(res, hframe)[0]
        assert math.hypot(*first) < 150, (corner, first)


def test_items_sequence_and_camera() -> None:
    frame = LocalFrame(52.0, 13.0)
    res = plan_coverage(to_lonlat(frame, box(0, 0, 500, 300)), PlanOptions(alt_m=ALT, home=(52.0, 13.0), repeat=3))
    cmds = [it.command for it in res.mission.items]
    assert cmds[0] == mavcmd.NAV_TAKEOFF and cmds[-1] == mavcmd.NAV_RETURN_TO_LAUNCH
    assert mavcmd.DO_SET_CAM_TRIGG_DIST in cmds and mavcmd.DO_MOUNT_CONTROL in cmds
    jump = next(it for it in res.mission.items if it.command == mavcmd.DO_JUMP)
    assert jump.param2 == 2  # 3 cycles = body + 2 repeats
    target = res.mission.items[int(jump.param1) - 1]  # seq counts home as 0
    assert target.command in (mavcmd.DO_MOUNT_CONTROL, mavcmd.DO_SET_CAM_TRIGG_DIST)
    assert res.summary.cycles == 3 and res.summary.photos > 0


def test_transit_between_cells_stays_inside_a_u_shape() -> None:
    frame = LocalFrame(45.0, 7.0)
    u = Polygon([(0, 0), (1000, 0), (1000, 1000), (800, 1000), (800, 200), (200, 200), (200, 1000), (0, 1000)])
    res = plan_coverage(to_lonlat(frame, u), PlanOptions(alt_m=ALT, home=(45.0, 7.0), sweep_angle_deg=0.0))
    width, _ = PlanOptions().camera.footprint_m(ALT)
    pts = enu_items(res, LocalFrame(45.0, 7.0))
    assert u.buffer(width / 2 + 1.0, quad_segs=16).covers(LineString(pts))
    assert not u.buffer(width / 2).covers(LineString([(100, 900), (900, 900)]))  # the shortcut it must avoid
