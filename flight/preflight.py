"""The pre-flight gate: a checklist filled from the vehicle before arming, take-off and mission start.

``evaluate(state, action, ...)`` is pure (a ``VehicleState`` and the facts read from the vehicle in,
a ``Checklist`` out); ``gather(link, sysid, action, plan=...)`` reads those facts over the link (the
vehicle's fence, its mission when starting one) and evaluates. The console shows the checklist for
the pilot to confirm (``console.preflight``); ``lookout fly arm|takeoff|run`` refuse with the first
failing item's line (``Checklist.refusal``). Items: Link, GPS, EKF, Battery, Pre-arm, Fence, Plan.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flight.errors import FlightError
from flight.link import Link
from flight.plan_check import PlanCheck, PlanLimits, check_against_vehicle
from flight.types import VehicleState
from missions.types import MissionItem, Plan

log = logging.getLogger(__name__)
ACTIONS = ("arm", "takeoff", "mission start")
LINK_MAX_AGE_S = 1.5
MIN_SATS = 6


class PreflightRefused(FlightError):
    """A failing pre-flight item: nothing was sent to the vehicle."""

    def __init__(self, checklist: Checklist) -> None:
        self.checklist = checklist
        super().__init__(checklist.refusal())


@dataclass(frozen=True, slots=True)
class CheckItem:
    name: str  # Link | GPS | EKF | Battery | Pre-arm | Fence | Plan
    ok: bool
    detail: str  # what was found; for a failing item, why and how to fix it
    blocking: bool = True  # a failing non-blocking item is a warning the pilot reads and confirms

    def line(self) -> str:
        mark = "OK  " if self.ok else ("FAIL" if self.blocking else "WARN")
        return f"{mark} {self.name}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Checklist:
    sysid: int
    action: str
    items: tuple[CheckItem, ...]

    @property
    def ok(self) -> bool:
        """True when no blocking item fails (warnings are for the pilot to read)."""
        return not self.failing

    @property
    def failing(self) -> tuple[CheckItem, ...]:
        return tuple(i for i in self.items if not i.ok and i.blocking)

    @property
    def warnings(self) -> tuple[CheckItem, ...]:
        return tuple(i for i in self.items if not i.ok and not i.blocking)

    def refusal(self) -> str:
        """One line: the first failing item (what, where, how to fix), or '' when the gate is open."""
        if not self.failing:
            return ""
        first = self.failing[0]
        more = f" (+{len(self.failing) - 1} more)" if len(self.failing) > 1 else ""
        return f"pre-flight check refused {self.action} of vehicle {self.sysid}: {first.name}: {first.detail}{more}"

    def text(self) -> str:
        return "\n".join(i.line() for i in self.items)


def evaluate(state: VehicleState, action: str, *, vehicle_fence: tuple[MissionItem, ...] | None = None,
             plan: Plan | None = None, plan_check: PlanCheck | None = None, min_battery_pct: float = 30.0,
             require_fence: bool = False) -> Checklist:  # fmt: skip
    """The checklist for ``action`` ("arm" | "takeoff" | "mission start") of the vehicle in ``state``.

    ``vehicle_fence``: the fence read from the vehicle (None: not read). ``plan`` / ``plan_check``: the
    plan about to fly and its check against this vehicle (``flight.plan_check.check_against_vehicle``).
    """
    items = [_link(state), _gps(state), _ekf(state), _battery(state, min_battery_pct)]
    if state.prearm_ok is False and not state.armed:
        texts = [t for t in state.statustexts if t.startswith("PreArm")]
        why = texts[-1] if texts else "the vehicle reports failing pre-arm checks"
        items.append(CheckItem("Pre-arm", False, f"{why} (see the vehicle's messages)"))
    else:
        items.append(CheckItem("Pre-arm", True, "armed" if state.armed else "vehicle pre-arm checks pass"
                               if state.prearm_ok else "not reported by the vehicle"))  # fmt: skip
    items.append(_fence(vehicle_fence, plan, require_fence))
    items.append(_plan(action, plan, plan_check))
    return Checklist(state.sysid, action, tuple(items))


def _link(s: VehicleState) -> CheckItem:
    if not s.link_ok or s.link_age_s > LINK_MAX_AGE_S:
        age = "never heard" if s.link_age_s == float("inf") else f"last heard {s.link_age_s:.1f} s ago"
        return CheckItem("Link", False, f"no telemetry ({age}): check the radio and the vehicle's power")
    return CheckItem("Link", True, f"telemetry {s.link_age_s:.1f} s old")


def _gps(s: VehicleState) -> CheckItem:
    if s.gps_fix < 3:
        kind = {0: "no GPS", 1: "no fix", 2: "2D fix"}.get(s.gps_fix, f"fix {s.gps_fix}")
        return CheckItem("GPS", False, f"no 3D fix ({kind}, {s.gps_sats} satellites): wait for a fix in the open")
    if s.gps_sats < MIN_SATS:
        return CheckItem("GPS", False, f"only {s.gps_sats} satellites (need {MIN_SATS}): wait for more")
    hdop = "" if s.gps_hdop is None else f", HDOP {s.gps_hdop:.1f}"
    return CheckItem("GPS", True, f"3D fix, {s.gps_sats} satellites{hdop}")


def _ekf(s: VehicleState) -> CheckItem:
    if not s.ekf_ok:
        return CheckItem("EKF", False, "position estimate not healthy: wait for the EKF to settle (GPS, compass)")
    return CheckItem("EKF", True, "healthy")


def _battery(s: VehicleState, min_pct: float) -> CheckItem:
    if s.battery_pct is None:
        return CheckItem("Battery", False, "level not reported by the vehicle: check the power monitor")
    volts = "" if s.battery_v is None else f", {s.battery_v:.1f} V"
    if s.battery_pct < min_pct:
        return CheckItem("Battery", False, f"{s.battery_pct:.0f}%{volts}, under {min_pct:.0f}%: swap or charge it")
    return CheckItem("Battery", True, f"{s.battery_pct:.0f}%{volts}")


def _fence(vehicle_fence: tuple[MissionItem, ...] | None, plan: Plan | None, required: bool) -> CheckItem:
    if plan is not None and plan.fence:
        return CheckItem("Fence", True, f"{len(plan.fence)} fence items in the plan (uploaded with it)")
    if vehicle_fence is None:
        return CheckItem("Fence", False, "the vehicle's fence could not be read", blocking=required)
    if not vehicle_fence:
        return CheckItem("Fence", False, "no geofence on the vehicle: upload one with the plan", blocking=required)
    return CheckItem("Fence", True, f"{len(vehicle_fence)} fence items loaded on the vehicle")


def _plan(action: str, plan: Plan | None, check: PlanCheck | None) -> CheckItem:
    if plan is None:
        if action == "mission start":
            return CheckItem("Plan", False, "no mission on the vehicle: upload a plan first")
        return CheckItem("Plan", True, "no plan involved")
    if check is None:
        return CheckItem("Plan", False, "the plan was not checked against this vehicle")
    if check.problems:
        more = f" (+{len(check.problems) - 1} more)" if len(check.problems) > 1 else ""
        return CheckItem("Plan", False, f"{check.problems[0].text}{more}")
    return CheckItem("Plan", True, f"validated: {check.summary()}")


def gather(link: Link, sysid: int, action: str, *, plan: Plan | None = None, limits: PlanLimits | None = None,
           min_battery_pct: float = 30.0, require_fence: bool = False,
           read_mission: bool = True, settle_s: float = 2.0) -> Checklist:  # fmt: skip
    """Read what the checklist needs from the vehicle (fence; its mission for "mission start" when no
    ``plan`` is given) and ``evaluate``. Blocks up to a few seconds (mission/fence transfer)."""
    from flight.errors import MissionTransferError
    from flight.mission_transfer import download_fence, download_mission
    from missions.types import Plan as PlanT

    link.wait_state(lambda s: s.battery_pct is not None and s.gps_fix >= 3 and s.ekf_ok and s.link_ok,
                    sysid=sysid, timeout_s=settle_s)  # a link just opened: let the first reports arrive
    state = link.state(sysid)
    fence: tuple[MissionItem, ...] | None
    try:
        fence = download_fence(link, sysid=sysid, item_timeout_s=1.0, retries=2)
    except MissionTransferError as exc:
        log.info("pre-flight: fence of vehicle %d not read: %s", sysid, exc)
        fence = None
    if plan is None and action == "mission start" and read_mission:
        try:
            mission = download_mission(link, sysid=sysid)
            if mission.items:
                plan = PlanT(mission=mission)
        except MissionTransferError as exc:
            log.info("pre-flight: mission of vehicle %d not read: %s", sysid, exc)
    check = None
    if plan is not None:
        check = check_against_vehicle(plan, state, limits, fence or ())
    return evaluate(link.state(sysid), action, vehicle_fence=fence, plan=plan, plan_check=check,
                    min_battery_pct=min_battery_pct, require_fence=require_fence)  # fmt: skip


def require(link: Link, sysid: int, action: str, **kw: object) -> Checklist:
    """``gather`` and raise ``PreflightRefused`` (one line) when a blocking item fails."""
    checklist = gather(link, sysid, action, **kw)  # type: ignore[arg-type]
    if not checklist.ok:
        raise PreflightRefused(checklist)
    return checklist


__all__ = ["ACTIONS", "CheckItem", "Checklist", "PreflightRefused", "evaluate", "gather", "require"]
