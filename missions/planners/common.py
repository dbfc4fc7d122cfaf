"""What every planner shares: options, camera footprint, the mission builder and the summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from missions import mavcmd
from missions.errors import PlanningError
from missions.geo import LocalFrame
from missions.types import Home, Mission, MissionItem

REL = mavcmd.FRAME_GLOBAL_RELATIVE_ALT


@dataclass(frozen=True, slots=True)
class Camera:
    """Either FOV (``hfov_deg``/``vfov_deg``) or sensor size + focal length; FOV wins when both given."""

    hfov_deg: float | None = 70.0
    vfov_deg: float | None = None
    sensor_w_mm: float | None = None
    sensor_h_mm: float | None = None
    focal_mm: float | None = None

    def fov_deg(self) -> tuple[float, float]:
        if self.hfov_deg is None:
            if not (self.sensor_w_mm and self.focal_mm):
                raise PlanningError("camera: give hfov_deg, or sensor_w_mm and focal_mm")
            h = math.degrees(2 * math.atan(self.sensor_w_mm / (2 * self.focal_mm)))
            sh = self.sensor_h_mm or self.sensor_w_mm * 0.75
            v = math.degrees(2 * math.atan(sh / (2 * self.focal_mm)))
            return h, v
        if not 1.0 <= self.hfov_deg < 179.0:
            raise PlanningError(f"camera hfov {self.hfov_deg} deg is out of range (1..179)")
        v = self.vfov_deg if self.vfov_deg is not None else math.degrees(
            2 * math.atan(0.75 * math.tan(math.radians(self.hfov_deg) / 2)))
        return self.hfov_deg, v

    def footprint_m(self, alt_m: float) -> tuple[float, float]:
        """Ground footprint (across-track width, along-track height) of a nadir photo at ``alt_m``."""
        h, v = self.fov_deg()
        return 2 * alt_m * math.tan(math.radians(h) / 2), 2 * alt_m * math.tan(math.radians(v) / 2)


@dataclass(frozen=True, slots=True)
class PlanOptions:
    alt_m: float = 50.0
    speed_m_s: float = 10.0
    home: tuple[float, float] | None = None  # lat, lon; default: first point of the place
    camera: Camera = field(default_factory=Camera)
    side_overlap: float = 0.3
    front_overlap: float = 0.7
    sweep_angle_deg: float | None = None  # None: choose the best
    inset_m: float | None = None  # perimeter: default half a footprint
    standoff_m: float = 30.0  # shoreline: distance from the water's edge
    corridor_m: float = 0.0  # route: corridor width (0 = one pass on the centreline)
    loiter_s: float = 30.0  # points: time at each point
    orbit_radius_m: float = 0.0  # points: >0 orbits each point on 8 waypoints instead of hovering over it
    by_priority: bool = False  # points: visit priority-1 points first, then 3, then 5
    repeat: int = 1  # cycles of the patrol body (DO_JUMP)
    on_station_s: float = 0.0  # >0: repeat the body until at least this long on station
    turn_penalty_s: float = 3.0
    climb_m_s: float = 3.0
    descent_m_s: float = 2.0

    def validate(self) -> None:
        checks = [
            (self.alt_m > 0, f"altitude {self.alt_m} m must be > 0"),
            (self.speed_m_s > 0, f"speed {self.speed_m_s} m/s must be > 0"),
            (0 <= self.side_overlap < 0.95, f"side overlap {self.side_overlap} must be in [0, 0.95)"),
            (0 <= self.front_overlap < 0.95, f"front overlap {self.front_overlap} must be in [0, 0.95)"),
            (self.repeat >= 1, f"repeat {self.repeat} must be >= 1"),
            (self.standoff_m >= 0 and self.corridor_m >= 0 and self.loiter_s >= 0, "distances and times must be >= 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise PlanningError(msg)


@dataclass(frozen=True, slots=True)
class PlanSummary:
    kind: str
    length_m: float
    flight_time_s: float
    photos: int
    coverage_pct: float
    cycles: int = 1
    sweep_angle_deg: float | None = None
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind, "length_m": round(self.length_m, 1), "flight_time_s": round(self.flight_time_s, 1),
            "photos": self.photos, "coverage_pct": round(self.coverage_pct, 1), "cycles": self.cycles,
            "sweep_angle_deg": None if self.sweep_angle_deg is None else round(self.sweep_angle_deg, 1),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class BodyStats:
    """What one place's part of a mission achieved (summed over places by the caller)."""

    photos: int = 0
    covered_m2: float = 0.0
    area_m2: float = 0.0
    angle_deg: float | None = None
    notes: tuple[str, ...] = ()

    @property
    def pct(self) -> float:
        return 100.0 * self.covered_m2 / self.area_m2 if self.area_m2 > 0 else 100.0


@dataclass(frozen=True, slots=True)
class PlanResult:
    mission: Mission
    summary: PlanSummary


def frame_for(geom: BaseGeometry, home: tuple[float, float] | None) -> LocalFrame:
    c = geom.centroid
    return LocalFrame(c.y, c.x) if home is None else LocalFrame(home[0], home[1])


def to_local(frame: LocalFrame, geom: BaseGeometry) -> BaseGeometry:
    """lon/lat geometry -> ENU metres (x = east, y = north)."""

    def fn(xy: np.ndarray) -> np.ndarray:
        e, n = frame.to_enu(xy[:, 1], xy[:, 0])
        return np.column_stack([e, n])

    return shapely.transform(geom, fn)


def to_lonlat(frame: LocalFrame, geom: BaseGeometry) -> BaseGeometry:
    def fn(xy: np.ndarray) -> np.ndarray:
        lat, lon = frame.to_geo(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, fn)


class MissionBuilder:
    """Collects items in ENU, converts to lat/lon, tracks the flown path for the summary."""

    def __init__(self, frame: LocalFrame, opts: PlanOptions, home_enu: tuple[float, float]) -> None:
        self.frame = frame
        self.opts = opts
        self.items: list[MissionItem] = []
        self.path: list[tuple[float, float]] = [home_enu]
        self.loiter_s = 0.0
        self.body_start: int | None = None
        self.home_enu = home_enu

    def _ll(self, e: float, n: float) -> tuple[float, float]:
        return self.frame.point_to_geo(e, n)

    def add(self, command: int, params: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
            en: tuple[float, float] | None = None, alt_m: float | None = None, frame: int = REL) -> None:
        lat, lon = self._ll(*en) if en is not None else (0.0, 0.0)
        alt = (self.opts.alt_m if alt_m is None else alt_m) if en is not None else 0.0
        self.items.append(MissionItem(command, frame, *params, lat, lon, alt))

    def takeoff(self) -> None:
        self.add(mavcmd.NAV_TAKEOFF, en=self.home_enu)
        self.add(mavcmd.DO_CHANGE_SPEED, (1.0, self.opts.speed_m_s, -1.0, 0.0), frame=mavcmd.FRAME_MISSION)

    def waypoint(self, e: float, n: float, hold_s: float = 0.0) -> None:
        self.add(mavcmd.NAV_WAYPOINT, (hold_s, 0.0, 0.0, 0.0), en=(e, n))
        self.path.append((e, n))
        self.loiter_s += hold_s

    def loiter(self, e: float, n: float, seconds: float) -> None:
        self.add(mavcmd.NAV_LOITER_TIME, (seconds, 0.0, 0.0, 0.0), en=(e, n))
        self.path.append((e, n))
        self.loiter_s += seconds

    def roi(self, e: float, n: float) -> None:
        self.add(mavcmd.DO_SET_ROI_LOCATION, en=(e, n), alt_m=0.0)

    def roi_none(self) -> None:
        self.add(mavcmd.DO_SET_ROI_NONE, frame=mavcmd.FRAME_MISSION)

    def gimbal(self, pitch_deg: float, yaw_deg: float = 0.0) -> None:
        """DO_MOUNT_CONTROL: param1 pitch, param3 yaw, param7 (alt field) = MAV_MOUNT_MODE_MAVLINK_TARGETING (2)."""
        self.items.append(MissionItem(mavcmd.DO_MOUNT_CONTROL, mavcmd.FRAME_MISSION, pitch_deg, 0.0, yaw_deg, 0.0,
                                      0.0, 0.0, 2.0))

    def trigger_distance(self, metres: float) -> None:
        self.add(mavcmd.DO_SET_CAM_TRIGG_DIST, (metres, 0.0, 1.0 if metres > 0 else 0.0, 0.0),
                 frame=mavcmd.FRAME_MISSION)

    def begin_body(self) -> None:
        self.body_start = len(self.items)

    def path_length(self, start: int = 0) -> float:
        p = np.asarray(self.path[start:], dtype=float)
        return float(np.hypot(*np.diff(p, axis=0).T).sum()) if len(p) > 1 else 0.0

    def turns(self, start: int = 0) -> int:
        p = np.asarray(self.path[start:], dtype=float)
        if len(p) < 3:
            return 0
        d = np.diff(p, axis=0)
        d = d[np.hypot(d[:, 0], d[:, 1]) > 1e-6]
        if len(d) < 2:
            return 0
        a = np.arctan2(d[:, 1], d[:, 0])
        turn = np.abs((np.diff(a) + np.pi) % (2 * np.pi) - np.pi)
        return int((turn > math.radians(30)).sum())

    def finish(self, kind: str, photos: int, coverage_pct: float, home: Home | None,
               sweep_angle_deg: float | None = None, notes: tuple[str, ...] = ()) -> PlanResult:
        """Close the body with DO_JUMP cycles (repeat / time on station), RTL, and summarise."""
        o = self.opts
        if self.body_start is None:
            raise PlanningError("internal: begin_body() was not called")
        path_body_start = 1  # after home
        body_len = self.path_length(path_body_start)
        body_loiter = self.loiter_s
        body_turns = self.turns(path_body_start)
        body_time = body_len / o.speed_m_s + body_loiter + body_turns * o.turn_penalty_s
        # closing leg from the body's end back to its start, flown between cycles
        close = float(np.hypot(self.path[-1][0] - self.path[1][0], self.path[-1][1] - self.path[1][1])) \
            if len(self.path) > 1 else 0.0
        cycles = o.repeat
        if o.on_station_s > 0 and body_time > 0:
            cycles = max(cycles, math.ceil(o.on_station_s / (body_time + close / o.speed_m_s)))
        if cycles > 1:
            # ArduPilot DO_JUMP: param1 = target seq (home is seq 0, so items[i] is seq i + 1), param2 = repeats
            self.add(mavcmd.DO_JUMP, (float(self.body_start + 1), float(cycles - 1), 0.0, 0.0),
                     frame=mavcmd.FRAME_MISSION)
        self.roi_none()
        self.add(mavcmd.NAV_RETURN_TO_LAUNCH, frame=mavcmd.FRAME_MISSION)
        to_body = float(np.hypot(self.path[1][0] - self.home_enu[0], self.path[1][1] - self.home_enu[1])) \
            if len(self.path) > 1 else 0.0
        back = float(np.hypot(self.path[-1][0] - self.home_enu[0], self.path[-1][1] - self.home_enu[1]))
        length = to_body + cycles * body_len + (cycles - 1) * close + back
        t = (length / o.speed_m_s + cycles * (body_loiter + body_turns * o.turn_penalty_s)
             + o.alt_m / o.climb_m_s + o.alt_m / o.descent_m_s)
        summary = PlanSummary(kind, length, t, photos * cycles, coverage_pct, cycles, sweep_angle_deg, notes)
        return PlanResult(Mission(tuple(self.items), home), summary)


def resolve_home(geom_lonlat: BaseGeometry, opts: PlanOptions) -> tuple[LocalFrame, Home | None, tuple[float, float]]:
    """Local frame (at home when given, else at the place's centroid), the Home, and home in ENU."""
    frame = frame_for(geom_lonlat, opts.home)
    if opts.home is None:
        return frame, None, (0.0, 0.0)
    return frame, Home(opts.home[0], opts.home[1], 0.0), (0.0, 0.0)
