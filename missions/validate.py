"""Pre-flight checks of a plan: fence / no-fly, altitude, distance from home, battery, first/last items.

``check_plan`` returns EVERY violation as a one-line string (empty list = OK); nothing stops at the
first problem. ``estimate_flight`` walks the mission like the autopilot would (DO_JUMP repeats,
speed changes, holds, loiters, RTL) to get the time and energy the battery check uses.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from missions import mavcmd
from missions.config import MissionsConfig, VehicleProfile
from missions.errors import MissionError
from missions.fence import fence_shapes
from missions.geo import LocalFrame
from missions.types import Home, Mission, MissionItem, Plan

NAMES = {
    16: "WAYPOINT", 17: "LOITER_UNLIM", 18: "LOITER_TURNS", 19: "LOITER_TIME", 20: "RETURN_TO_LAUNCH", 21: "LAND",
    22: "TAKEOFF", 177: "DO_JUMP", 178: "DO_CHANGE_SPEED", 195: "DO_SET_ROI_LOCATION", 197: "DO_SET_ROI_NONE",
    201: "DO_SET_ROI", 205: "DO_MOUNT_CONTROL", 206: "DO_SET_CAM_TRIGG_DIST",
}
MAX_STEPS = 100_000


def label(i: int, it: MissionItem) -> str:
    return f"item {i + 1} ({NAMES.get(it.command, f'cmd {it.command}')})"


def _has_pos(it: MissionItem) -> bool:
    return math.isfinite(it.lat_deg) and math.isfinite(it.lon_deg) and not (it.lat_deg == 0 and it.lon_deg == 0)


@dataclass(frozen=True, slots=True)
class FlightEstimate:
    time_s: float
    cruise_s: float
    hover_s: float
    length_m: float
    finite: bool = True

    def energy_wh(self, v: VehicleProfile) -> float:
        return (self.cruise_s * v.cruise_power_w + self.hover_s * v.hover_power_w) / 3600.0


def _origin(mission: Mission) -> tuple[float, float] | None:
    if mission.home is not None:
        return mission.home.lat_deg, mission.home.lon_deg
    first = next((it for it in mission.items if _has_pos(it)), None)
    return (first.lat_deg, first.lon_deg) if first else None


def estimate_flight(mission: Mission, v: VehicleProfile) -> FlightEstimate:
    """Walk the items (following DO_JUMP) and add up cruise and hover time."""
    origin = _origin(mission)
    if origin is None:
        return FlightEstimate(0.0, 0.0, 0.0, 0.0)
    frame = LocalFrame(*origin)
    home = frame.point_to_enu(*origin)
    items = mission.items
    pos, alt, speed = home, 0.0, v.cruise_speed_m_s
    cruise = hover = length = 0.0
    jumps: dict[int, int] = {}
    i = steps = 0
    while 0 <= i < len(items):
        steps += 1
        if steps > MAX_STEPS:
            return FlightEstimate(math.inf, math.inf, math.inf, math.inf, finite=False)
        it = items[i]
        c = it.command
        if c == mavcmd.DO_JUMP:
            if it.param2 < 0:  # repeat forever
                return FlightEstimate(math.inf, math.inf, math.inf, math.inf, finite=False)
            left = jumps.setdefault(i, int(it.param2))
            if left != 0:
                jumps[i] = left - 1 if left > 0 else left
                i = int(it.param1) - 1  # target seq counts ArduPilot's home as 0
                continue
        elif c == mavcmd.DO_CHANGE_SPEED and it.param2 > 0:
            speed = it.param2
        elif c == mavcmd.NAV_TAKEOFF:
            hover += max(it.alt_m - alt, 0.0) / v.climb_m_s
            alt = it.alt_m
        elif c == mavcmd.NAV_RETURN_TO_LAUNCH or c == mavcmd.NAV_LAND:
            target = home if c == mavcmd.NAV_RETURN_TO_LAUNCH or not _has_pos(it) else \
                frame.point_to_enu(it.lat_deg, it.lon_deg)
            d = math.dist(pos, target)
            cruise += d / speed
            length += d
            hover += alt / v.descent_m_s
            pos, alt = target, 0.0
            if c == mavcmd.NAV_RETURN_TO_LAUNCH or c == mavcmd.NAV_LAND:
                break
        elif c in mavcmd.NAV_POSITION_COMMANDS and _has_pos(it):
            target = frame.point_to_enu(it.lat_deg, it.lon_deg)
            d = math.hypot(math.dist(pos, target), it.alt_m - alt)
            cruise += d / speed
            length += d
            pos, alt = target, it.alt_m
            if c == mavcmd.NAV_WAYPOINT or c == mavcmd.NAV_LOITER_TIME:
                hover += max(it.param1, 0.0)
            elif c == mavcmd.NAV_LOITER_TURNS:
                cruise += abs(it.param1) * 2 * math.pi * max(abs(it.param3), 10.0) / speed
            elif c == mavcmd.NAV_LOITER_UNLIM:
                return FlightEstimate(math.inf, math.inf, math.inf, math.inf, finite=False)
        i += 1
    return FlightEstimate(cruise + hover, cruise, hover, length)


def _fence_geoms(frame: LocalFrame, fence: tuple[MissionItem, ...]) -> tuple[list[BaseGeometry], list[BaseGeometry]]:
    polys, circles = fence_shapes(fence)
    inc: list[BaseGeometry] = []
    exc: list[BaseGeometry] = []
    for p in polys:
        xy = [frame.point_to_enu(lat, lon) for lat, lon in p.vertices]
        g = shapely.make_valid(Polygon(xy))
        (inc if p.inclusion else exc).append(g)
    for c in circles:
        g = Point(frame.point_to_enu(c.lat_deg, c.lon_deg)).buffer(c.radius_m, 64)
        (inc if c.inclusion else exc).append(g)
    return inc, exc


def _alt_rel(it: MissionItem, home: Home | None) -> float:
    if it.frame == mavcmd.FRAME_GLOBAL:
        return it.alt_m - (home.alt_amsl_m if home else 0.0)
    return it.alt_m


def check_plan(plan: Plan, limits: MissionsConfig | None = None, vehicle: VehicleProfile | None = None,
               extra_fence: tuple[MissionItem, ...] = ()) -> list[str]:
    """Every rule the plan breaks, one line each; [] when it is fit to upload."""
    limits = limits or MissionsConfig()
    vehicle = vehicle or limits.vehicles[limits.default_vehicle]
    m = plan.mission
    out: list[str] = []
    items = m.items
    if not items:
        return ["mission has no items"]
    # first / last / structure
    nav = [(i, it) for i, it in enumerate(items) if it.command in mavcmd.NAV_POSITION_COMMANDS
           or it.command in (mavcmd.NAV_RETURN_TO_LAUNCH,)]
    if not nav or nav[0][1].command != mavcmd.NAV_TAKEOFF:
        first = label(*nav[0]) if nav else "none"
        out.append(f"first navigation item is {first}; a copter mission starts with TAKEOFF (22)")
    last = items[-1]
    if last.command not in (mavcmd.NAV_RETURN_TO_LAUNCH, mavcmd.NAV_LAND):
        out.append(f"last item is {label(len(items) - 1, last)}; end with RETURN_TO_LAUNCH (20) or LAND (21)")
    for i, it in enumerate(items):
        if it.command == mavcmd.DO_JUMP and not (1 <= int(it.param1) <= len(items) and int(it.param1) != i + 1):
            out.append(f"{label(i, it)} jumps to seq {it.param1:g}, outside 1..{len(items)} or to itself")
        if it.command in mavcmd.NAV_POSITION_COMMANDS and it.command != mavcmd.NAV_TAKEOFF and not _has_pos(it):
            out.append(f"{label(i, it)} has no position (lat/lon missing or 0, 0)")
    # altitude and distance
    home = m.home
    origin = _origin(m)
    for i, it in enumerate(items):
        if it.command in mavcmd.NAV_POSITION_COMMANDS:
            alt = _alt_rel(it, home)
            if alt > limits.max_alt_m:
                out.append(f"{label(i, it)} altitude {alt:.0f} m is above the limit {limits.max_alt_m:.0f} m")
    frame = LocalFrame(*origin) if origin else None
    if frame is not None:
        pts: list[tuple[int, tuple[float, float]]] = []
        for i, it in enumerate(items):
            if it.command in mavcmd.NAV_POSITION_COMMANDS and _has_pos(it):
                e, n = frame.point_to_enu(it.lat_deg, it.lon_deg)
                pts.append((i, (e, n)))
                d = math.hypot(e, n)
                if d > limits.max_distance_m:
                    out.append(f"{label(i, it)} is {d:.0f} m from home, limit {limits.max_distance_m:.0f} m")
        # fence and no-fly
        try:
            inc, exc = _fence_geoms(frame, tuple(plan.fence) + tuple(extra_fence))
        except MissionError as err:
            out.append(f"fence is malformed: {err}")
            inc, exc = [], []
        allowed = shapely.union_all(inc).buffer(1e-6) if inc else None
        for i, p in pts:
            if allowed is not None and not allowed.covers(Point(p)):
                out.append(f"{label(i, items[i])} is outside the geofence")
            for k, g in enumerate(exc):
                if g.contains(Point(p)):
                    out.append(f"{label(i, items[i])} is inside no-fly zone {k + 1}")
        seq = [(-1, (0.0, 0.0)), *pts] if home is not None else pts
        legs = list(itertools.pairwise(seq))
        for i, it in enumerate(items):  # the leg a DO_JUMP flies back to its target
            if it.command == mavcmd.DO_JUMP and it.param2 != 0:
                before = [q for q in pts if q[0] < i]
                after = [q for q in pts if q[0] >= int(it.param1) - 1]
                if before and after:
                    legs.append((before[-1], after[0]))
        for (i, a), (j, b) in legs:
            if a == b:
                continue
            leg = LineString([a, b])
            where = f"leg {'home' if i < 0 else i + 1} -> {j + 1}"
            if allowed is not None and not allowed.covers(leg) and allowed.covers(Point(a)) \
                    and allowed.covers(Point(b)):
                out.append(f"{where} leaves the geofence")
            for k, g in enumerate(exc):
                if leg.intersects(g) and not g.contains(Point(a)) and not g.contains(Point(b)):
                    out.append(f"{where} crosses no-fly zone {k + 1}")
    # battery
    est = estimate_flight(m, vehicle)
    if not est.finite:
        out.append("mission loops forever (DO_JUMP repeat -1 or LOITER_UNLIM); endurance cannot be checked")
    elif est.time_s > 0:
        usable_wh = vehicle.battery_wh * (1 - vehicle.reserve_pct / 100)
        need_wh = est.energy_wh(vehicle)
        if need_wh > usable_wh:
            has_s = est.time_s * usable_wh / need_wh
            out.append(f"battery: needs {est.time_s / 60:.1f} minutes, has {has_s / 60:.1f} "
                       f"({usable_wh:.0f} Wh usable of {vehicle.battery_wh:.0f} Wh with "
                       f"{vehicle.reserve_pct:.0f}% reserve)")
    return out
