"""Perimeter, shoreline, route and points planners; TSP quality against the exact optimum; repeat/on-station."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LineString, Point

from missions import mavcmd
from missions.geo import LocalFrame
from missions.places import load_places
from missions.planners import tsp
from missions.planners.api import PLAN_KINDS, plan
from missions.planners.common import PlanOptions, to_local

HOME = (51.999, 13.0)


def _enu(frame: LocalFrame, items, commands) -> list[tuple[float, float]]:
    return [frame.point_to_enu(it.lat_deg, it.lon_deg) for it in items if it.command in commands]


@pytest.mark.parametrize("kind", PLAN_KINDS)
def test_every_kind_takes_off_and_returns(places_file: Path, kind: str) -> None:
    res = plan(kind, load_places(places_file), PlanOptions(home=HOME))
    cmds = [it.command for it in res.mission.items]
    assert cmds[0] == mavcmd.NAV_TAKEOFF and cmds[-1] == mavcmd.NAV_RETURN_TO_LAUNCH
    assert res.summary.length_m > 0 and res.summary.flight_time_s > res.summary.length_m / 10
    assert 0 <= res.summary.coverage_pct <= 100


def test_perimeter_inset_and_camera_inward(places_file: Path) -> None:
    places = load_places(places_file)
    park = next(p for p in places if p.name == "Park")
    res = plan("perimeter", [park], PlanOptions(home=HOME, inset_m=20.0))
    frame = LocalFrame(*HOME)
    area = to_local(frame, park.geometry)
    wps = _enu(frame, res.mission.items, {mavcmd.NAV_WAYPOINT})
    shell = LineString(area.exterior.coords)
    assert all(shell.distance(Point(p)) == pytest.approx(20.0, abs=0.6) for p in wps)
    assert all(area.contains(Point(p)) for p in wps)
    rois = _enu(frame, res.mission.items, {mavcmd.DO_SET_ROI_LOCATION})
    assert len(rois) == len(wps) - 1
    assert all(area.contains(Point(r)) and shell.distance(Point(r)) > 20.0 for r in rois)  # looking inward


def test_shoreline_lake_standoff_and_gimbal_on_water(places_file: Path) -> None:
    lake = next(p for p in load_places(places_file) if p.name == "Lake")
    res = plan("shoreline", [lake], PlanOptions(home=HOME, standoff_m=25.0))
    frame = LocalFrame(*HOME)
    water = to_local(frame, lake.geometry)
    wps = _enu(frame, res.mission.items, {mavcmd.NAV_WAYPOINT})
    assert all(water.distance(Point(p)) == pytest.approx(25.0, abs=1.0) for p in wps)
    rois = _enu(frame, res.mission.items, {mavcmd.DO_SET_ROI_LOCATION})
    assert rois and all(water.buffer(0.5).covers(Point(r)) for r in rois)


def test_shoreline_river_both_banks(places_file: Path) -> None:
    river = next(p for p in load_places(places_file) if p.name == "River")
    res = plan("shoreline", [river], PlanOptions(home=HOME, standoff_m=30.0))
    frame = LocalFrame(*HOME)
    line = to_local(frame, river.geometry)
    wps = _enu(frame, res.mission.items, {mavcmd.NAV_WAYPOINT})
    half = river.width_m / 2 + 30.0
    assert all(line.distance(Point(p)) == pytest.approx(half, abs=1.0) for p in wps)
    a, b = np.asarray(line.coords[0]), np.asarray(line.coords[-1])
    d = b - a
    side = [np.sign(d[0] * (p[1] - a[1]) - d[1] * (p[0] - a[0])) for p in wps]
    assert 1 in side and -1 in side


def test_route_corridor_passes(places_file: Path) -> None:
    road = [p for p in load_places(places_file) if p.kind == "route"]
    one = plan("route", road, PlanOptions(home=HOME))
    wide = plan("route", road, PlanOptions(home=HOME, corridor_m=200.0, alt_m=40.0))
    frame = LocalFrame(*HOME)
    line = to_local(frame, road[0].geometry)
    assert all(line.distance(Point(p)) < 1.0 for p in _enu(frame, one.mission.items, {mavcmd.NAV_WAYPOINT}))
    far = [line.distance(Point(p)) for p in _enu(frame, wide.mission.items, {mavcmd.NAV_WAYPOINT})]
    assert max(far) < 100.0 and max(far) > 50.0
    assert wide.summary.photos > 0 and wide.summary.length_m > 2 * one.summary.length_m


def test_points_loop_priority_loiter_orbit(places_file: Path) -> None:
    places = load_places(places_file)
    res = plan("points", places, PlanOptions(home=HOME, by_priority=True, loiter_s=45.0))
    frame = LocalFrame(*HOME)
    loiters = [it for it in res.mission.items if it.command == mavcmd.NAV_LOITER_TIME]
    assert len(loiters) == 4 and all(it.param1 == 45.0 for it in loiters)
    pts = {p.name: p for p in places if p.kind == "point"}
    order = [min(pts.values(), key=lambda p: Point(p.geometry.x, p.geometry.y).distance(
        Point(it.lon_deg, it.lat_deg))).priority for it in loiters]
    assert order == sorted(order)  # priority 1 first, then 3, then 5
    orbit = plan("points", places, PlanOptions(home=HOME, orbit_radius_m=40.0))
    wps = _enu(frame, orbit.mission.items, {mavcmd.NAV_WAYPOINT})
    assert len(wps) == 4 * 9


def test_repeat_and_time_on_station(places_file: Path) -> None:
    places = load_places(places_file)
    once = plan("points", places, PlanOptions(home=HOME))
    station = plan("points", places, PlanOptions(home=HOME, on_station_s=3600))
    jump = next(it for it in station.mission.items if it.command == mavcmd.DO_JUMP)
    assert station.summary.cycles == jump.param2 + 1 > 1
    assert station.summary.flight_time_s >= 3600 > once.summary.flight_time_s


@pytest.mark.parametrize("seed", range(6))
def test_tsp_close_to_exact_optimum(seed: int) -> None:
    xy = np.random.default_rng(seed).uniform(0, 2000, (10, 2))
    best, _ = tsp.held_karp(xy)
    tour = tsp.solve(xy)
    assert sorted(tour) == list(range(10)) and tour[0] == 0
    assert tsp.tour_length(tour, tsp.distance_matrix(xy)) <= best * 1.05 + 1e-6


def test_tsp_improves_on_nearest_neighbour() -> None:
    xy = np.random.default_rng(7).uniform(0, 3000, (40, 2))
    d = tsp.distance_matrix(xy)
    assert tsp.tour_length(tsp.solve(xy), d) < tsp.tour_length(tsp.nearest_neighbour(d), d)
