"""Fly a whole plan unattended: the sequence behind ``lookout fly run`` (and the console's "fly plan").

check (the plan against the vehicle: flight.plan_check) -> upload (progress) -> wait for GPS/EKF
-> GUIDED, arm -> take off -> AUTO -> waypoint k/n
-> (RTL if the plan does not end by itself) -> landed and disarmed. Each stage reports through
``progress(RunProgress)``; any failure raises a ``FlightError`` with one clear reason (the
vehicle's own PreArm/failsafe text when it gave one).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flight._mav import mavlink
from flight.commands import arm, disarm, prearm_reasons, rtl, set_mode, takeoff
from flight.errors import CommandRejected, FlightAborted, FlightError
from flight.link import Link
from flight.mission_transfer import upload_plan
from flight.plan_check import PlanLimits, UnsafePlan, check_against_vehicle, check_before_upload
from flight.types import VehicleState
from missions.types import MissionItem, Plan

_NAV_MAX = 100  # MAV_CMD below this are NAV commands (they move the vehicle)
_ENDS_FLIGHT = {mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, mavlink.MAV_CMD_NAV_LAND}
_HOMEWARD_MODES = {"RTL", "LAND", "SMART_RTL", "AUTO_RTL"}
_POSITIONLESS = {mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, mavlink.MAV_CMD_NAV_TAKEOFF, mavlink.MAV_CMD_NAV_LAND,
                 mavlink.MAV_CMD_NAV_LOITER_UNLIM, mavlink.MAV_CMD_NAV_LOITER_TIME}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RunProgress:
    stage: str  # check | upload | ready | arm | takeoff | auto | waypoint | rtl | landing | done
    done: int = 0
    total: int = 0
    text: str = ""


def check_plan_basic(plan: Plan) -> None:
    """Cheap sanity before touching the vehicle (full validation: ``lookout plan check``)."""
    items = plan.mission.items
    if not items:
        raise FlightAborted("check", "the plan has no mission items")
    nav = [it for it in items if it.command < _NAV_MAX]
    if not nav:
        raise FlightAborted("check", "the plan has no navigation items (waypoints, takeoff, RTL)")
    for i, it in enumerate(items, start=1):
        if it.command >= _NAV_MAX or it.command in _POSITIONLESS or it.frame not in (0, 3, 5, 6, 10, 11):
            continue
        if not (-90 <= it.lat_deg <= 90 and -180 <= it.lon_deg <= 180) or (it.lat_deg == 0 and it.lon_deg == 0):
            raise FlightAborted("check", f"item {i}: position {it.lat_deg}, {it.lon_deg} is not a place on Earth")
        if it.frame in (3, 6) and not math.isnan(it.alt_m) and it.alt_m < 0:
            raise FlightAborted("check", f"item {i}: altitude {it.alt_m} m below home")


def takeoff_altitude(items: tuple[MissionItem, ...], default_m: float = 10.0) -> float:
    for it in items:
        if it.command == mavlink.MAV_CMD_NAV_TAKEOFF and it.alt_m > 0:
            return it.alt_m
    for it in items:
        if it.command < _NAV_MAX and it.alt_m > 0 and it.frame in (3, 6):
            return it.alt_m
    return default_m


class _Stop:
    def __init__(self, cancel: threading.Event | None, deadline: float) -> None:
        self.cancel, self.deadline = cancel, deadline

    def left(self, stage: str) -> float:
        if self.cancel is not None and self.cancel.is_set():
            raise FlightAborted(stage, "cancelled by the operator")
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise FlightAborted(stage, "flight timeout reached")
        return remaining


def _last_text(st: VehicleState) -> str:
    return st.statustexts[-1] if st.statustexts else ""


def fly_mission(link: Link, plan: Plan, *, sysid: int | None = None,
                progress: Callable[[RunProgress], None] | None = None, ready_timeout_s: float = 30.0,
                flight_timeout_s: float = 3600.0, link_lost_s: float = 10.0,
                cancel: threading.Event | None = None, limits: PlanLimits | None = None) -> VehicleState:
    """Fly ``plan`` to completion; returns the final snapshot (landed, disarmed).

    Before anything is sent, ``flight.plan_check.check_before_upload`` checks the plan against the
    vehicle as it is (distance, coordinates, altitude, fence, battery; ``limits``, default
    ``PlanLimits()``) and raises ``UnsafePlan`` with nothing uploaded and nothing armed. It waits up
    to ``ready_timeout_s`` for the vehicle's position; a vehicle that has none by then is checked
    against its home or the plan's, and checked again once it is ready, before arming.
    """
    def report(stage: str, done: int = 0, total: int = 0, text: str = "") -> None:
        if progress is not None:
            progress(RunProgress(stage, done, total, text))

    stop = _Stop(cancel, time.monotonic() + flight_timeout_s)
    check_plan_basic(plan)
    report("check", text=f"{len(plan.mission.items)} mission items")
    st = link.wait_vehicle(sysid, timeout_s=min(10.0, stop.left("connect")))
    sid = st.sysid
    if st.armed:
        raise FlightAborted("arm", f"vehicle {sid} is already armed (mode {st.mode}); land and disarm it first")
    checked = check_before_upload(link, plan, sid, limits, wait_s=min(ready_timeout_s, stop.left("check")))
    for note in checked.notes:
        report("check", text=note)
    report("check", text=checked.summary())
    upload_plan(link, plan, sysid=sid, progress=lambda d, t: report("upload", d, t), cancel=cancel)
    report("ready", text="waiting for GPS 3D fix and EKF")
    ready_s = min(ready_timeout_s, stop.left("ready"))
    ready = link.wait_state(lambda s: s.gps_fix >= 3 and s.ekf_ok, sysid=sid, timeout_s=ready_s) is not None
    if not checked.against_vehicle and ready:  # checked before the vehicle knew where it is: again, before arming
        again = check_against_vehicle(plan, link.state(sid), limits, checked.vehicle_fence)
        if again.problems:
            raise UnsafePlan(sid, again.problems, uploaded=True)
        checked = again
    if ready:  # the pre-flight gate (flight.preflight), the same checklist the console shows the pilot
        from flight.preflight import PreflightRefused, evaluate

        gate = evaluate(link.state(sid), "mission start", vehicle_fence=checked.vehicle_fence, plan=plan,
                        plan_check=checked)  # fmt: skip
        if not gate.ok:
            raise PreflightRefused(gate)
        report("check", text="pre-flight checklist passed")
    px4 = link.state(sid).autopilot == "px4"
    if px4:
        arm(link, sid)
    elif ready:
        set_mode(link, "GUIDED", sid)
        arm(link, sid)  # a refusal carries the vehicle's PreArm reason
    else:
        _arm_unready(link, sid)
    report("arm", text="armed")
    items = plan.mission.items
    n = len(items)
    last_wire = n if not px4 else n - 1  # ArduPilot's seq 0 is home
    if not px4:
        alt = takeoff_altitude(items)
        takeoff(link, alt, sid)
        report("takeoff", text=f"taking off to {alt:g} m")
        ok = link.wait_state(lambda s: (s.alt_rel_m or 0.0) >= 0.9 * alt or not s.armed, sysid=sid,
                             timeout_s=min(max(30.0, alt * 3), stop.left("takeoff")))  # fmt: skip
        now = link.state(sid)
        if ok is None or not now.armed:
            raise FlightAborted("takeoff", f"did not reach {alt:g} m (at {now.alt_rel_m or 0:.1f} m, "
                                           f"armed={now.armed}) {_last_text(now)}".rstrip())  # fmt: skip
    set_mode(link, "AUTO", sid)
    report("auto", text="AUTO")
    return _follow(link, sid, n, last_wire, px4, ends_itself=items[-1].command in _ENDS_FLIGHT, stop=stop,
                   link_lost_s=link_lost_s, report=report)  # fmt: skip


def _arm_unready(link: Link, sid: int) -> None:
    """Not ready by our reading. Never arm in a mode that does not hold position: ArduCopter arms in
    STABILIZE with no GPS at all (seen on SITL), motors spinning for a flight that cannot happen. Ask
    for GUIDED first; if the vehicle refuses, its own words (the PreArm texts of its checks, and the
    refusal) are the reason, and nothing was armed."""
    try:
        set_mode(link, "GUIDED", sid)
    except CommandRejected as exc:
        st = link.state(sid)
        why = "; ".join([*prearm_reasons(link, sid), *([exc.reason] if exc.reason else [])])
        raise FlightAborted("arm", f"vehicle {sid} cannot arm for the plan (GPS fix {st.gps_fix}, {st.gps_sats} sats, "
                                   f"EKF {'ok' if st.ekf_ok else 'not ready'}): "
                                   f"{why or 'mode GUIDED ' + exc.result}") from exc  # fmt: skip
    arm(link, sid)  # in GUIDED: a refusal carries the vehicle's PreArm reason


def _follow(link: Link, sid: int, n: int, last_wire: int, px4: bool, *, ends_itself: bool, stop: _Stop,
            link_lost_s: float, report: Callable[..., None]) -> VehicleState:
    offset = 0 if not px4 else 1
    shown = -1
    completed = False
    sent_rtl = False
    lost_since: float | None = None
    auto_mode = "MISSION" if px4 else "AUTO"
    version = -1
    start_reached = link.state(sid).mission_reached_seq  # may be stale from an earlier flight
    seen_progress = False  # seq below the last item seen in AUTO: a stale "last" cannot complete us
    while True:
        st = link.state(sid)
        in_auto = st.mode == auto_mode
        seen_progress = seen_progress or (in_auto and st.mission_seq < last_wire)
        k = max(0, min(n, st.mission_seq + offset))
        if in_auto and seen_progress and k != shown and k >= 1 and not completed:  # ArduCopter resets to 1 on disarm
            shown = k
            report("waypoint", k, n)
        reached_last = st.mission_reached_seq != start_reached and st.mission_reached_seq >= last_wire
        if in_auto and ((seen_progress and st.mission_seq >= last_wire) or reached_last):
            completed = True
        if completed and not ends_itself and st.mode == auto_mode and st.armed and not sent_rtl:
            rtl(link, sid)
            sent_rtl = True
            report("rtl", text="plan complete, returning to launch")
        if st.mode in _HOMEWARD_MODES and not completed and not sent_rtl:
            raise_later = f"vehicle switched to {st.mode} at waypoint {max(shown, 0)}/{n}"
            text = _last_text(st)
            _wait_landed(link, sid, stop, link_lost_s, report)
            raise FlightAborted("flight", f"{raise_later}{': ' + text if text else ''}")
        if not st.armed and st.heartbeat_count > 0:
            if completed:
                report("done", n, n, "landed and disarmed")
                return st
            raise FlightAborted("flight", f"vehicle disarmed at waypoint {max(shown, 0)}/{n} in {st.mode}"
                                          f"{': ' + _last_text(st) if _last_text(st) else ''}")  # fmt: skip
        if st.mode not in (auto_mode, *_HOMEWARD_MODES) and st.armed:
            raise FlightAborted("flight", f"vehicle left AUTO for {st.mode} at waypoint {max(shown, 0)}/{n} "
                                          "(pilot took over?)")  # fmt: skip
        lost_since = _check_link(st, lost_since, link_lost_s, shown, n)
        version = link.wait_update(sid, version, timeout_s=min(0.5, stop.left("flight")))


def _check_link(st: VehicleState, lost_since: float | None, link_lost_s: float, k: int, n: int) -> float | None:
    if st.link_ok:
        return None
    now = time.monotonic()
    if lost_since is None:
        return now
    if now - lost_since > link_lost_s:
        raise FlightAborted("flight", f"no heartbeat for {link_lost_s:g} s at waypoint {max(k, 0)}/{n}; the vehicle "
                                      "continues on its own failsafe")  # fmt: skip
    return lost_since


def _best_effort_disarm(link: Link, sid: int) -> None:
    with contextlib.suppress(FlightError):
        disarm(link, sid)


def _wait_landed(link: Link, sid: int, stop: _Stop, link_lost_s: float, report: Callable[..., None]) -> None:
    report("landing", text="waiting for landing and disarm")
    try:
        while link.wait_state(lambda s: not s.armed, sysid=sid, timeout_s=min(1.0, stop.left("landing"))) is None:
            pass
    except FlightError:
        return
