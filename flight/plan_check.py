"""Check a plan against the vehicle as it is, before anything is uploaded or armed.

``lookout plan check`` judges a plan file against its own planned home; this module judges it
against the vehicle that is about to fly it (its ``VehicleState``: position, home, battery) and,
when the plan carries no fence, the fence already on the vehicle. ``check_against_vehicle`` returns
every problem; ``require_safe`` raises ``UnsafePlan`` (one line, naming the item and the numbers)
so ``lookout fly run``/``upload`` and ``flight.autorun.fly_mission`` stop before the upload.

Checks (limits in ``PlanLimits``, from ``[missions]`` in the config):

- **Coordinates:** every located item (NAV commands, ROI, fence vertices, rally points) has a
  latitude in -90..90 and a longitude in -180..180 (NaN is out of range). (0, 0) on a NAV command
  means "where the vehicle is" to ArduPilot and is not a place.
- **Distance:** the first and every located item is at most ``max_distance_m`` from the vehicle's
  position and from its home. When the vehicle has no position yet, its home is used, else the
  plan's planned home (a note says so): a vehicle without a position cannot fly AUTO anyway.
- **Altitude:** every NAV item's altitude above home (relative frames as written, AMSL frames
  minus the vehicle's home altitude, terrain frames as written) is within ``min_alt_m..max_alt_m``.
  LAND and RETURN_TO_LAUNCH carry no altitude of their own and are skipped.
- **Fence:** the plan's fence, or the vehicle's when the plan has none. As ArduPilot's default
  (``FENCE_OPTIONS`` without INCLUSION_UNION): every located NAV item inside *every* inclusion
  polygon/circle and outside every exclusion one. Only the items are tested, not the legs between
  them (``lookout plan check --fence`` tests legs).
- **Battery:** a simple energy model. The route starts at the vehicle, follows the items in order
  (DO_JUMP repeats, DO_CHANGE_SPEED, holds, loiter turns) and ends home (RTL, or the RTL
  ``fly_mission`` sends after a plan that does not end by itself). minutes = horizontal metres /
  speed + vertical metres / climb rate + holds; needed % = minutes x ``drain_pct_per_min`` +
  ``reserve_pct``; refused when the vehicle's own battery % is lower. A plan that loops forever
  (DO_JUMP repeat -1, LOITER_UNLIM) has no end to budget for: noted, not refused (the vehicle's
  battery failsafe ends it). An unknown battery % is noted, not refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from flight._mav import command_name
from flight.errors import UnsafePlan
from flight.link import Link
from flight.plan_route import (
    AMSL_FRAMES,
    COORD_FRAMES,
    FENCE_RETURN_POINT,
    NAV_MAX,
    NO_ALT,
    TAKEOFF,
    FenceTest,
    alt_above_home,
    estimate_route,
    fmt_distance,
    in_range,
    located,
)
from flight.types import VehicleState
from missions.errors import MissionError
from missions.fence import fence_shapes
from missions.geo import haversine_m
from missions.types import MissionItem, Plan

if TYPE_CHECKING:
    from missions.config import MissionsConfig



@dataclass(frozen=True, slots=True)
class PlanLimits:
    """What a plan may ask of a vehicle. Built from ``[missions]`` by the CLI (``lookout.commands.fly``)."""

    max_distance_m: float = 5000.0
    max_alt_m: float = 120.0
    min_alt_m: float = 0.0
    speed_m_s: float = 10.0  # planned ground speed until a DO_CHANGE_SPEED
    climb_m_s: float = 3.0  # climb and descent rate
    drain_pct_per_min: float = 4.0  # battery % used per minute of flight
    reserve_pct: float = 25.0  # battery % that must be left on landing

    @classmethod
    def from_config(cls, cfg: MissionsConfig) -> PlanLimits:
        """The ``[missions]`` limits; speed and climb rate of its default vehicle profile."""
        profile = cfg.vehicles[cfg.default_vehicle]
        return cls(max_distance_m=cfg.max_distance_m, max_alt_m=cfg.max_alt_m, min_alt_m=cfg.min_alt_m,
                   speed_m_s=profile.cruise_speed_m_s, climb_m_s=profile.climb_m_s,
                   drain_pct_per_min=cfg.battery_drain_pct_per_min, reserve_pct=cfg.battery_reserve_pct)


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One reason to refuse: ``kind`` is coordinates | distance | altitude | fence | battery."""

    kind: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class PlanCheck:
    """The result: ``problems`` (each a refusal reason) and ``notes`` (what could not be checked)."""

    problems: tuple[PlanProblem, ...] = ()
    notes: tuple[str, ...] = ()
    route_m: float | None = None  # None: the plan loops forever or has no start point
    minutes: float | None = None
    battery_needed_pct: float | None = None
    battery_pct: float | None = None
    measured_from: str = ""  # "the vehicle" | "the vehicle's home" | "the plan's home" | "" (distances not checked)
    vehicle_fence: tuple[MissionItem, ...] = ()  # the vehicle's fence it was checked against

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def against_vehicle(self) -> bool:
        """Were distances measured from where the vehicle is (or its home), not only the file's home?"""
        return self.measured_from in ("the vehicle", "the vehicle's home")

    def summary(self) -> str:
        """One human line: route, time, battery needed vs what the vehicle has."""
        if self.route_m is None or self.minutes is None:
            return "route length not known (loops forever or no start point)"
        text = f"route {fmt_distance(self.route_m)}, about {self.minutes:.1f} min"
        if self.battery_needed_pct is not None:
            has = "?" if self.battery_pct is None else f"{self.battery_pct:.0f}%"
            text += f", needs {self.battery_needed_pct:.0f}% battery (vehicle has {has})"
        return text


def _name(command: int) -> str:
    name = command_name(command)
    return name[4:] if name.startswith("NAV_") else name


def _label(i: int, it: MissionItem) -> str:
    return f"item {i + 1} ({_name(it.command)})"  # 1-based = ArduPilot's wire seq (home is 0)


def _known(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0) or not in_range(lat, lon):
        return None
    return (lat, lon)


@dataclass(frozen=True, slots=True)
class _Refs:
    start: tuple[float, float] | None  # where the route starts (vehicle, else its home, else planned home)
    refs: tuple[tuple[str, tuple[float, float]], ...]  # (what, point) the distance limit is measured from
    home: tuple[float, float] | None  # where RTL goes
    home_amsl_m: float | None


def _references(plan: Plan, st: VehicleState, notes: list[str]) -> _Refs:
    pos = _known(st.lat_deg, st.lon_deg)
    home = _known(st.home_lat_deg, st.home_lon_deg)
    refs: list[tuple[str, tuple[float, float]]] = []
    if pos is not None:
        refs.append(("the vehicle", pos))
    if home is not None and (pos is None or haversine_m(*pos, *home) > 1.0):
        refs.append(("the vehicle's home", home))
    home_amsl = st.home_alt_amsl_m if home is not None else None
    if not refs:
        ph = plan.mission.home
        planned = _known(ph.lat_deg, ph.lon_deg) if ph is not None else None
        if planned is not None and ph is not None:
            refs.append(("the plan's home", planned))
            home, home_amsl = planned, ph.alt_amsl_m
            notes.append(f"vehicle {st.sysid} reports no position or home yet (GPS fix {st.gps_fix}): "
                         "distances measured from the plan's planned home")  # fmt: skip
        else:
            notes.append(f"vehicle {st.sysid} reports no position or home yet (GPS fix {st.gps_fix}) and the "
                         "plan has no planned home: distances not checked")  # fmt: skip
    start = refs[0][1] if refs else None
    return _Refs(start, tuple(refs), home if home is not None else start, home_amsl)


def check_against_vehicle(plan: Plan, state: VehicleState, limits: PlanLimits | None = None,
                          vehicle_fence: tuple[MissionItem, ...] = ()) -> PlanCheck:
    """Every reason ``plan`` must not be sent to the vehicle in ``state`` (empty ``problems`` = fly it)."""
    limits = limits or PlanLimits()
    problems: list[PlanProblem] = []
    notes: list[str] = []
    refs = _references(plan, state, notes)
    groups = (("", plan.mission.items), ("fence ", plan.fence), ("rally ", plan.rally))
    for prefix, items in groups:
        for i, it in enumerate(items):
            where = f"{prefix}{_label(i, it)}"
            placed = located(it) or (prefix != "" and it.frame in COORD_FRAMES)
            if placed and not in_range(it.lat_deg, it.lon_deg):
                problems.append(PlanProblem(
                    "coordinates", f"{where}: position {it.lat_deg:g}, {it.lon_deg:g} is not on Earth "
                    "(latitude -90..90, longitude -180..180; are lat and lon swapped?)"))  # fmt: skip
                continue
            if not placed:
                continue
            for what, ref in refs.refs:
                d = haversine_m(it.lat_deg, it.lon_deg, *ref)
                if d > limits.max_distance_m:
                    problems.append(PlanProblem(
                        "distance", f"{where}: {fmt_distance(d)} from {what} "
                        f"(limit {fmt_distance(limits.max_distance_m)}): is this plan for another site?"))  # fmt: skip
                    break
    for i, it in enumerate(plan.mission.items):
        if it.command >= NAV_MAX or it.command in NO_ALT:
            continue
        rel = alt_above_home(it, refs.home_amsl_m)
        if rel is None:
            if it.frame in AMSL_FRAMES and not math.isnan(it.alt_m):
                notes.append(f"{_label(i, it)}: AMSL altitude not checked (vehicle home altitude unknown)")
            continue
        if rel > limits.max_alt_m:
            problems.append(PlanProblem("altitude", f"{_label(i, it)}: altitude {rel:.1f} m above home is over "
                                                    f"the limit {limits.max_alt_m:g} m"))  # fmt: skip
        elif rel < limits.min_alt_m and not (it.command == TAKEOFF and rel == 0):
            problems.append(PlanProblem("altitude", f"{_label(i, it)}: altitude {rel:.1f} m above home is under "
                                                    f"the limit {limits.min_alt_m:g} m"))  # fmt: skip
    _check_fence(plan, vehicle_fence, refs, problems)
    return _battery(plan, state, limits, refs, problems, notes)


def _check_fence(plan: Plan, vehicle_fence: tuple[MissionItem, ...], refs: _Refs,
                 problems: list[PlanProblem]) -> None:
    fence_items = tuple(it for it in (plan.fence or vehicle_fence) if it.command != FENCE_RETURN_POINT)
    whose = "the plan's" if plan.fence else "the vehicle's"
    if not fence_items:
        return
    try:
        polys, circles = fence_shapes(fence_items)
    except MissionError as exc:
        problems.append(PlanProblem("fence", f"{whose} fence is malformed: {exc}"))
        return
    origin = refs.start or (fence_items[0].lat_deg, fence_items[0].lon_deg)
    if not in_range(*origin):
        return  # the coordinate check above already refused it
    fence = FenceTest(polys, circles, origin)
    for i, it in enumerate(plan.mission.items):
        if located(it) and it.command < NAV_MAX and in_range(it.lat_deg, it.lon_deg):
            why = fence.breach(it.lat_deg, it.lon_deg)
            if why is not None:
                problems.append(PlanProblem("fence", f"{_label(i, it)}: {it.lat_deg:.6f}, {it.lon_deg:.6f} is {why} "
                                                     f"of {whose} fence"))


def _battery(plan: Plan, st: VehicleState, limits: PlanLimits, refs: _Refs, problems: list[PlanProblem],
             notes: list[str]) -> PlanCheck:
    def done(route_m: float | None = None, minutes: float | None = None, need: float | None = None) -> PlanCheck:
        return PlanCheck(tuple(problems), tuple(notes), route_m, minutes, need, st.battery_pct,
                         refs.refs[0][0] if refs.refs else "")  # fmt: skip

    if refs.start is None or refs.home is None or any(p.kind in ("coordinates", "distance") for p in problems):
        return done()  # no route to budget for, or one that is not this site's
    route = estimate_route(plan, refs.start, refs.home, limits.speed_m_s, limits.climb_m_s, refs.home_amsl_m,
                           max(st.alt_rel_m or 0.0, 0.0))
    if route is None:
        notes.append("the plan loops forever (DO_JUMP repeat -1 or LOITER_UNLIM): battery for the whole route not "
                     "checked; the vehicle's battery failsafe ends it")  # fmt: skip
        return done()
    minutes = route.seconds / 60.0
    need = minutes * limits.drain_pct_per_min + limits.reserve_pct
    if st.battery_pct is None:
        notes.append(f"vehicle {st.sysid} reports no battery level: battery for the route not checked")
    elif st.battery_pct < need:
        problems.append(PlanProblem(
            "battery", f"battery: the route ({fmt_distance(route.length_m)}, about {minutes:.1f} min at "
            f"{limits.drain_pct_per_min:g}%/min) needs {need:.0f}% including the {limits.reserve_pct:g}% "
            f"reserve; vehicle {st.sysid} has {st.battery_pct:.0f}%"))  # fmt: skip
    return done(route.length_m, minutes, need)


def require_safe(plan: Plan, state: VehicleState, limits: PlanLimits | None = None,
                 vehicle_fence: tuple[MissionItem, ...] = ()) -> PlanCheck:
    """``check_against_vehicle``, raising ``UnsafePlan`` (nothing sent yet) when anything is wrong."""
    result = check_against_vehicle(plan, state, limits, vehicle_fence)
    if result.problems:
        raise UnsafePlan(state.sysid, result.problems)
    return result


def _complete(st: VehicleState) -> bool:
    return st.battery_pct is not None and _known(st.home_lat_deg, st.home_lon_deg) is not None


def check_before_upload(link: Link, plan: Plan, sysid: int, limits: PlanLimits | None = None, *,
                        wait_s: float = 10.0) -> PlanCheck:
    """What ``lookout fly upload/run`` do before sending anything: wait (up to ``wait_s``) for the
    vehicle's position, then up to 2 s more for its battery and home, read its fence when the plan
    has none, then ``require_safe``. Raises ``UnsafePlan``; a fence that cannot be read becomes a
    note. A vehicle with no position yet is checked against its home, else the plan's (see
    ``PlanCheck.against_vehicle``: ``fly_mission`` checks again before arming)."""
    from flight.errors import MissionTransferError
    from flight.mission_transfer import download_fence

    link.wait_state(lambda s: _known(s.lat_deg, s.lon_deg) is not None, sysid=sysid, timeout_s=wait_s)
    if not _complete(link.state(sysid)):
        link.wait_state(_complete, sysid=sysid, timeout_s=min(2.0, wait_s))
    vehicle_fence: tuple[MissionItem, ...] = ()
    fence_note = ""
    if not plan.fence:
        try:
            vehicle_fence = download_fence(link, sysid=sysid, item_timeout_s=1.0, retries=2)
        except MissionTransferError as exc:
            fence_note = f"the vehicle's fence could not be read ({exc}): not checked"
    result = replace(require_safe(plan, link.state(sysid), limits, vehicle_fence), vehicle_fence=vehicle_fence)
    if fence_note:
        result = replace(result, notes=(*result.notes, fence_note))
    return result


__all__ = ["PlanCheck", "PlanLimits", "PlanProblem", "UnsafePlan", "check_against_vehicle", "check_before_upload",
           "estimate_route", "require_safe"]
