"""What a plan asks of a drone, in the numbers a pilot reads before upload, and where it breaks the rules.

``summarize(plan, cfg, vehicle, battery_pct)`` -> ``MissionFacts``: length, flight time (the
autopilot walk of ``missions.validate.estimate_flight``: DO_JUMP repeats, speed changes, holds),
photos (distance-triggered: every leg flown while DO_SET_CAM_TRIGG_DIST is on, divided by the
trigger distance, plus one at the start of each triggered stretch), energy against the vehicle
profile's usable battery, and battery % needed by the ``[missions]`` drain model (minutes x
``battery_drain_pct_per_min`` + ``battery_reserve_pct``, the model ``flight.plan_check`` refuses
uploads with) against the selected drone's battery %.

``locate_violations(plan, cfg, vehicle, extra_fence)`` -> ``[Violation]``: every line of
``missions.validate.check_plan`` with its kind (fence, nofly, altitude, distance, endurance,
structure) and the map position it is about (an item, or the middle of a leg), so a map can
draw it. Pure: no Qt, no MAVLink.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from missions import mavcmd
from missions.config import MissionsConfig, VehicleProfile
from missions.geo import LocalFrame
from missions.types import MissionItem, Plan
from missions.validate import check_plan, estimate_flight

_ITEM = re.compile(r"^item (\d+) ")
_LEG = re.compile(r"^leg (home|\d+) -> (\d+) ")


@dataclass(frozen=True, slots=True)
class MissionFacts:
    items: int
    waypoints: int  # NAV items with a position
    length_m: float  # math.inf when it loops forever
    flight_time_s: float
    photos: int
    energy_wh: float
    usable_wh: float  # battery_wh x (1 - reserve)
    battery_needed_pct: float | None  # drain model incl. reserve; None when it loops forever
    battery_pct: float | None = None  # the selected drone's, when known
    coverage_pct: float | None = None  # from the planner (PlanSummary), when there is one
    finite: bool = True

    @property
    def battery_ok(self) -> bool | None:
        """False when the drone's battery is below what the plan needs; None when either is unknown."""
        if self.battery_pct is None or self.battery_needed_pct is None:
            return None
        return self.battery_pct >= self.battery_needed_pct

    def lines(self) -> list[str]:
        """The summary as a pilot reads it, one fact per line."""
        if not self.finite:
            return [f"{self.items} items, {self.waypoints} waypoints", "loops forever: no length or flight time"]
        out = [
            f"{self.items} items, {self.waypoints} waypoints",
            f"length {fmt_m(self.length_m)}, flight time {self.flight_time_s / 60:.1f} min",
            f"photos {self.photos}" + ("" if self.coverage_pct is None else f", coverage {self.coverage_pct:.0f}%"),
            f"energy {self.energy_wh:.0f} Wh of {self.usable_wh:.0f} Wh usable",
        ]
        if self.battery_needed_pct is not None:
            has = "no drone selected" if self.battery_pct is None else f"drone has {self.battery_pct:.0f}%"
            out.append(f"battery needed {self.battery_needed_pct:.0f}% ({has})")
        return out


@dataclass(frozen=True, slots=True)
class Violation:
    kind: str  # fence | nofly | altitude | distance | endurance | structure | vehicle
    text: str
    lat_deg: float | None = None
    lon_deg: float | None = None
    item_index: int | None = None  # 0-based index into plan.mission.items


def fmt_m(metres: float) -> str:
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.2f} km"


def _placed(it: MissionItem) -> bool:
    return (it.command in mavcmd.NAV_POSITION_COMMANDS and math.isfinite(it.lat_deg) and math.isfinite(it.lon_deg)
            and not (it.lat_deg == 0 and it.lon_deg == 0))  # fmt: skip


def count_photos(plan: Plan) -> int:
    """Photos a distance trigger takes along the mission (each body pass once per DO_JUMP cycle)."""
    items = plan.mission.items
    trig = 0.0
    travelled = 0.0
    photos = 0
    prev: tuple[float, float] | None = None
    first = next((it for it in items if _placed(it)), None)
    if first is None:
        return 0
    frame = LocalFrame(first.lat_deg, first.lon_deg)  # the metres estimate_flight measures in
    if plan.mission.home is not None:
        prev = frame.point_to_enu(plan.mission.home.lat_deg, plan.mission.home.lon_deg)
    jumps: dict[int, int] = {}
    i = steps = 0
    while 0 <= i < len(items) and steps < 100_000:
        steps += 1
        it = items[i]
        if it.command == mavcmd.DO_SET_CAM_TRIGG_DIST:
            if trig > 0:
                photos += int(travelled / trig + 1e-6)
            trig, travelled = max(it.param1, 0.0), 0.0
            if trig > 0:
                photos += 1  # the trigger fires as it is switched on
        elif it.command == mavcmd.DO_JUMP and it.param2 >= 0:
            left = jumps.setdefault(i, int(it.param2))
            if left > 0:
                jumps[i] = left - 1
                i = int(it.param1) - 1
                continue
        elif _placed(it):
            here = frame.point_to_enu(it.lat_deg, it.lon_deg)
            if prev is not None and trig > 0:
                travelled += math.dist(prev, here)
            prev = here
        i += 1
    if trig > 0:
        photos += int(travelled / trig + 1e-6)
    return photos


def summarize(plan: Plan, cfg: MissionsConfig | None = None, vehicle: VehicleProfile | None = None,
              battery_pct: float | None = None, coverage_pct: float | None = None) -> MissionFacts:
    cfg = cfg or MissionsConfig()
    vehicle = vehicle or cfg.vehicles[cfg.default_vehicle]
    items = plan.mission.items
    est = estimate_flight(plan.mission, vehicle)
    usable = vehicle.battery_wh * (1 - vehicle.reserve_pct / 100)
    wps = sum(1 for it in items if _placed(it))
    if not est.finite:
        return MissionFacts(len(items), wps, math.inf, math.inf, count_photos(plan), math.inf, usable, None,
                            battery_pct, coverage_pct, finite=False)  # fmt: skip
    need = est.time_s / 60 * cfg.battery_drain_pct_per_min + cfg.battery_reserve_pct
    return MissionFacts(len(items), wps, est.length_m, est.time_s, count_photos(plan), est.energy_wh(vehicle), usable,
                        need, battery_pct, coverage_pct)  # fmt: skip


def kind_of(text: str) -> str:
    t = text.lower()
    if "no-fly" in t:
        return "nofly"
    if "geofence" in t or "fence" in t:
        return "fence"
    if "altitude" in t:
        return "altitude"
    if "from home" in t or "distance" in t:
        return "distance"
    if "battery" in t or "loops forever" in t or "endurance" in t:
        return "endurance"
    return "structure"


def locate(plan: Plan, text: str, kind: str | None = None) -> Violation:
    """A ``check_plan`` line with its kind and the position it is about (when it names an item or leg)."""
    items = plan.mission.items
    kind = kind or kind_of(text)
    m = _ITEM.match(text)
    if m:
        i = int(m.group(1)) - 1
        if 0 <= i < len(items) and _placed(items[i]):
            return Violation(kind, text, items[i].lat_deg, items[i].lon_deg, i)
        return Violation(kind, text, item_index=i if 0 <= i < len(items) else None)
    m = _LEG.match(text)
    if m:
        j = int(m.group(2)) - 1
        home = plan.mission.home
        if m.group(1) == "home":
            a = (home.lat_deg, home.lon_deg) if home is not None else None
        else:
            k = int(m.group(1)) - 1
            a = (items[k].lat_deg, items[k].lon_deg) if 0 <= k < len(items) else None
        if a is not None and 0 <= j < len(items):
            return Violation(kind, text, (a[0] + items[j].lat_deg) / 2, (a[1] + items[j].lon_deg) / 2, j)
    return Violation(kind, text)


def locate_violations(plan: Plan, cfg: MissionsConfig | None = None, vehicle: VehicleProfile | None = None,
                      extra_fence: tuple[MissionItem, ...] = ()) -> list[Violation]:
    """Every ``check_plan`` violation, located on the map where it can be."""
    cfg = cfg or MissionsConfig()
    return [locate(plan, text) for text in check_plan(plan, cfg, vehicle, extra_fence)]


__all__ = ["MissionFacts", "Violation", "count_photos", "fmt_m", "kind_of", "locate", "locate_violations",
           "summarize"]
