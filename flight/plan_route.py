"""Where a plan goes, for ``flight.plan_check``: which items name a place, their altitude above home,
fence containment (ArduPilot's default rule) and the route's length and time (the energy model's input).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from missions.fence import FenceCircle, FencePolygon
from missions.geo import LocalFrame, haversine_m
from missions.types import MissionItem, Plan

NAV_MAX = 100  # MAV_CMD below this are NAV commands
RTL, LAND, TAKEOFF, WAYPOINT = 20, 21, 22, 16
LOITER_UNLIM, LOITER_TURNS, LOITER_TIME = 17, 18, 19
DO_JUMP, DO_CHANGE_SPEED = 177, 178
ROI = frozenset({195, 201})  # DO_SET_ROI_LOCATION, DO_SET_ROI
NO_ALT = frozenset({RTL, LAND})
COORD_FRAMES = frozenset({0, 3, 5, 6, 10, 11})  # GLOBAL, GLOBAL_RELATIVE_ALT(_INT), GLOBAL(_INT), TERRAIN(_INT)
AMSL_FRAMES = frozenset({0, 5})
MAX_STEPS = 100_000
FENCE_RETURN_POINT = 5000  # MAV_CMD_NAV_FENCE_RETURN_POINT: a place, not a boundary


def fmt_distance(m: float) -> str:
    return f"{m / 1000:.1f} km" if m >= 1000 else f"{m:.0f} m"


def located(it: MissionItem) -> bool:
    """Does this item name a place (not 'here', not frameless)?"""
    if it.frame not in COORD_FRAMES:
        return False
    if (it.command < NAV_MAX and it.command != RTL) or it.command in ROI:
        return not (it.lat_deg == 0.0 and it.lon_deg == 0.0)
    return False


def in_range(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0  # False for NaN


def alt_above_home(it: MissionItem, home_amsl_m: float | None) -> float | None:
    if math.isnan(it.alt_m) or it.frame not in COORD_FRAMES:
        return None
    if it.frame in AMSL_FRAMES:
        return None if home_amsl_m is None else it.alt_m - home_amsl_m
    return it.alt_m


class FenceTest:
    """Fence shapes in a local frame; ArduPilot's default rule: inside all inclusions, outside all exclusions."""

    def __init__(self, polys: list[FencePolygon], circles: list[FenceCircle], origin: tuple[float, float]) -> None:
        self.frame = LocalFrame(*origin)
        self.polys = [(p.inclusion, [self.frame.point_to_enu(a, b) for a, b in p.vertices]) for p in polys]
        self.circles = circles

    def breach(self, lat: float, lon: float) -> str | None:
        x, y = self.frame.point_to_enu(lat, lon)
        for k, (inclusion, ring) in enumerate(self.polys, start=1):
            inside = point_in_ring(x, y, ring)
            if inclusion and not inside:
                return f"outside inclusion polygon {k}"
            if not inclusion and inside:
                return f"inside exclusion polygon {k}"
        for k, c in enumerate(self.circles, start=1):
            d = haversine_m(lat, lon, c.lat_deg, c.lon_deg)
            where = f"{fmt_distance(d)} from its centre, radius {fmt_distance(c.radius_m)}"
            if c.inclusion and d > c.radius_m:
                return f"outside inclusion circle {k} ({where})"
            if not c.inclusion and d < c.radius_m:
                return f"inside exclusion circle {k} ({where})"
        return None


def point_in_ring(x: float, y: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        (xi, yi), (xj, yj) = ring[i], ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


@dataclass(frozen=True, slots=True)
class Route:
    length_m: float
    seconds: float


def estimate_route(plan: Plan, start: tuple[float, float], home: tuple[float, float], speed_m_s: float,
                   climb_m_s: float, home_amsl_m: float | None = None, start_alt_m: float = 0.0) -> Route | None:
    """Walk the mission as the autopilot would, from ``start`` back to ``home``; None if it never ends.

    seconds = horizontal metres / speed (DO_CHANGE_SPEED changes it) + vertical metres / climb rate +
    holds (WAYPOINT/LOITER_TIME param1) + loiter turns; DO_JUMP repeats are followed."""
    frame = LocalFrame(*start)
    pos, alt, speed = (0.0, 0.0), start_alt_m, speed_m_s
    length = seconds = 0.0
    items = plan.mission.items
    jumps: dict[int, int] = {}
    i = steps = 0

    def fly_to(p: tuple[float, float], new_alt: float) -> None:
        nonlocal pos, alt, length, seconds
        d = math.dist(pos, p)
        length += d
        seconds += d / speed + abs(new_alt - alt) / climb_m_s
        pos, alt = p, new_alt

    while 0 <= i < len(items):
        steps += 1
        if steps > MAX_STEPS:
            return None
        it = items[i]
        c = it.command
        if c == DO_JUMP and math.isfinite(it.param1) and math.isfinite(it.param2):
            if it.param2 < 0:
                return None
            left = jumps.setdefault(i, int(it.param2))
            if left > 0:
                jumps[i] = left - 1
                i = int(it.param1) - 1  # target seq counts ArduPilot's home as 0
                continue
        elif c == DO_CHANGE_SPEED and it.param2 > 0:
            speed = it.param2
        elif c == LOITER_UNLIM:
            return None
        elif c == RTL:
            break
        elif c == LAND:
            fly_to(frame.point_to_enu(it.lat_deg, it.lon_deg) if located(it) else pos, 0.0)
            return Route(length, seconds)
        elif c < NAV_MAX:
            rel = alt_above_home(it, home_amsl_m)
            target = frame.point_to_enu(it.lat_deg, it.lon_deg) if located(it) and c != TAKEOFF else pos
            fly_to(target, alt if rel is None or (c == TAKEOFF and rel <= 0) else rel)
            if c in (WAYPOINT, LOITER_TIME):
                seconds += max(it.param1, 0.0) if math.isfinite(it.param1) else 0.0
            elif c == LOITER_TURNS:
                radius = abs(it.param3) if math.isfinite(it.param3) and it.param3 else 10.0
                seconds += abs(it.param1) * 2 * math.pi * radius / speed if math.isfinite(it.param1) else 0.0
        i += 1
    fly_to(frame.point_to_enu(*home), alt)  # return home (RTL: the plan's or the one fly_mission sends) ...
    fly_to(pos, 0.0)  # ... and land
    return Route(length, seconds)
