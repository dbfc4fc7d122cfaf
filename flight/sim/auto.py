"""The AUTO mission executor over ``CopterState.missions[0]`` and ``CopterState.auto``.

ArduPilot conventions: mission seq 0 is home; DO_* commands run as soon as they become current
and the executor moves on to the next NAV_* command in the same step.
"""

from __future__ import annotations

import math
from types import MappingProxyType

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from flight.sim import actions, rtl
from flight.sim.attitude import wrap_360
from flight.sim.items import Item
from flight.sim.motion import hold_here
from flight.sim.nav import Nav
from flight.sim.state import SEV_INFO, CopterState

M = mavlink
_NAV_NAMES = MappingProxyType(
    {
        M.MAV_CMD_NAV_WAYPOINT: "WP",
        M.MAV_CMD_NAV_TAKEOFF: "Takeoff",
        M.MAV_CMD_NAV_LAND: "Land",
        M.MAV_CMD_NAV_RETURN_TO_LAUNCH: "RTL",
        M.MAV_CMD_NAV_LOITER_TIME: "LoitTime",
        M.MAV_CMD_NAV_LOITER_TURNS: "LoitTurns",
        M.MAV_CMD_NAV_LOITER_UNLIM: "LoitUnlim",
        M.MAV_CMD_NAV_SPLINE_WAYPOINT: "SplineWP",
    }
)


def _items(s: CopterState) -> list[Item]:
    return s.missions[0]


def reset(s: CopterState) -> None:
    a = s.auto
    a.current, a.state, a.jumps, a.paused = 0, "stopped", {}, False


def first_nav(s: CopterState) -> int | None:
    for item in _items(s)[1:]:
        if item.command < M.MAV_CMD_NAV_LAST:
            return item.command
    return None


def can_start(s: CopterState) -> str | None:
    """Why AUTO cannot be entered now (None: it can). ArduCopter accepts AUTO without a mission."""
    if s.armed and s.landed and first_nav(s) != M.MAV_CMD_NAV_TAKEOFF:
        return "Auto: Missing Takeoff Cmd"
    return None


def pause(s: CopterState) -> None:
    """MAV_CMD_DO_PAUSE_CONTINUE(0): brake and hold, keeping the current item."""
    s.auto.paused = True
    s.nav = hold_here(s)


def resume(s: CopterState) -> None:
    a = s.auto
    if a.paused and a.state == "running" and 1 <= a.current < len(_items(s)):
        begin(s, a.current)


def enter(s: CopterState) -> None:
    """Entering AUTO. Armed: run the mission from the current item (from 1 when done or not
    started). Disarmed: nothing runs; an empty mission counts as complete (AP_Mission)."""
    a = s.auto
    if len(_items(s)) <= 1:
        a.state = "complete"
        s.out.changed.add("mission_current")
        return
    if not s.armed:
        return
    seq = a.current
    if a.state == "complete" or seq < 1 or seq >= len(_items(s)):
        seq, a.jumps = 1, {}
    a.state = "running"
    begin(s, seq)


def leave(s: CopterState) -> None:
    """Leaving AUTO stops a running mission (MISSION_CURRENT says NOT_STARTED)."""
    if s.auto.state == "running":
        s.auto.state = "stopped"
        s.auto.paused = False
        s.out.changed.add("mission_current")


def on_disarm(s: CopterState) -> None:
    """ArduCopter resets the mission on disarm; in AUTO it is at item 1 again, still running."""
    a = s.auto
    a.jumps, a.paused = {}, False
    items = _items(s)
    if s.mode == "AUTO" and len(items) > 1:
        a.current, a.state = 1, "running"
        s.text(SEV_INFO, f"Mission: 1 {_NAV_NAMES.get(items[1].command, str(items[1].command))}")
    else:
        a.current = 0
        if a.state == "running":
            a.state = "stopped"
    s.out.changed.add("mission_current")


def set_current(s: CopterState, seq: int) -> bool:
    if not 0 <= seq < max(1, len(_items(s))):
        return False
    a = s.auto
    if s.mode == "AUTO" and s.armed and a.state == "running":
        begin(s, max(1, seq))
    else:
        a.current = seq
        a.state = "stopped"
        s.out.changed.add("mission_current")
    return True


def begin(s: CopterState, seq: int) -> None:
    """Make ``seq`` current: run DO commands until a NAV command starts."""
    a = s.auto
    items = _items(s)
    a.paused = False
    a.state = "running"
    for _ in range(1000):  # a DO_JUMP loop without NAV commands must not hang the sim
        if seq >= len(items):
            _complete(s)
            return
        a.current = seq
        s.out.changed.add("mission_current")
        item = items[seq]
        if item.command < M.MAV_CMD_NAV_LAST:
            _start_nav(s, seq, item)
            return
        seq = _do(s, seq, item)
    _complete(s)


def _complete(s: CopterState) -> None:
    s.auto.state = "complete"
    if not s.landed:
        s.nav = hold_here(s)
    s.text(SEV_INFO, "Mission complete")


def _target(s: CopterState, item: Item) -> tuple[float, float, float]:
    k = s.kin
    n, e = (k.n, k.e) if item.x == 0 and item.y == 0 else s.ne_of(item.x, item.y)
    u = k.u if item.z == 0 else s.u_of(item.z, item.frame)
    return n, e, u


def _start_nav(s: CopterState, seq: int, item: Item) -> None:
    a, k = s.auto, s.kin
    cmd = item.command
    s.text(SEV_INFO, f"Mission: {seq} {_NAV_NAMES.get(cmd, str(cmd))}")
    a.phase, a.timer, a.turned = "go", 0.0, 0.0
    k.yaw_target = None
    if cmd == M.MAV_CMD_NAV_TAKEOFF:
        s.nav = Nav.takeoff(k.n, k.e, s.u_of(max(item.z, 1.0), item.frame))
        s.landed = s.landed and not s.auto_armed  # on the ground it waits for MISSION_START (auto_armed)
    elif cmd == M.MAV_CMD_NAV_RETURN_TO_LAUNCH:
        s.nav = rtl.start(s)
    elif cmd == M.MAV_CMD_NAV_LAND:
        n, e, _u = _target(s, item)
        s.nav = Nav.land(n, e)
    else:
        n, e, u = _target(s, item)
        if cmd == M.MAV_CMD_NAV_LOITER_TURNS:
            a.angle = math.atan2(k.e - e, k.n - n) if math.hypot(k.e - e, k.n - n) > 1 else 0.0
            r = _radius(s, item)
            s.nav = Nav.goto(n + r * math.cos(a.angle), e + r * math.sin(a.angle), u)
        else:
            s.nav = Nav.goto(n, e, u)
            s.nav.pass_through = cmd == M.MAV_CMD_NAV_WAYPOINT and item.param1 <= 0 and _next_is_wp(s, seq)


def _next_is_wp(s: CopterState, seq: int) -> bool:
    for item in _items(s)[seq + 1 :]:
        if item.command < M.MAV_CMD_NAV_LAST:
            return item.command == M.MAV_CMD_NAV_WAYPOINT
    return False


def _radius(s: CopterState, item: Item) -> float:
    r = abs(item.param3) if item.param3 else s.params["CIRCLE_RADIUS"] / 100.0
    return max(1.0, r)


def update(s: CopterState, dt: float) -> None:
    a, k = s.auto, s.kin
    items = _items(s)
    if a.paused or a.state != "running" or not 1 <= a.current < len(items):
        return
    item = items[a.current]
    cmd = item.command
    nav = s.nav
    dist = math.hypot(nav.n - k.n, nav.e - k.e)
    if cmd == M.MAV_CMD_NAV_TAKEOFF:
        if k.u >= nav.u - 0.5:
            _next(s)
    elif cmd in (M.MAV_CMD_NAV_LAND, M.MAV_CMD_NAV_RETURN_TO_LAUNCH):
        if nav.stage:
            rtl.advance(s, dt)
        # done when the copter lands and disarms (arming.disarm -> on_disarm)
    elif cmd == M.MAV_CMD_NAV_LOITER_TURNS:
        _update_turns(s, item, dt, dist)
    elif cmd == M.MAV_CMD_NAV_LOITER_UNLIM:
        return
    else:
        radius = item.param2 if cmd == M.MAV_CMD_NAV_WAYPOINT and item.param2 > 0 else s.params["WPNAV_RADIUS"] / 100.0
        if a.phase == "go" and dist <= max(0.5, radius) and abs(nav.u - k.u) < 1.0:
            a.phase, a.timer = "hold", item.param1
        if a.phase == "hold":
            a.timer -= dt
            if a.timer <= 0:
                s.text(SEV_INFO, f"Reached command #{a.current}")
                _next(s)


def _update_turns(s: CopterState, item: Item, dt: float, dist: float) -> None:
    a, k = s.auto, s.kin
    if a.phase == "go":
        if dist < 2.0:
            a.phase = "circle"
        return
    r = _radius(s, item)
    rate = min(math.radians(s.params["CIRCLE_RATE"]), s.wp_speed() / r)
    step = rate * dt
    a.turned += step
    a.angle += step if item.param3 >= 0 else -step
    cn, ce, _u = _target(s, item)
    s.nav.n, s.nav.e = cn + r * math.cos(a.angle), ce + r * math.sin(a.angle)
    s.nav.pass_through = True
    k.yaw_target = wrap_360(math.degrees(math.atan2(ce - k.e, cn - k.n)))
    if a.turned >= abs(item.param1) * 2 * math.pi:
        _next(s)


def _next(s: CopterState) -> None:
    """The current NAV command is complete (ArduPilot sends MISSION_ITEM_REACHED now)."""
    s.out.reached.append(s.auto.current)
    begin(s, s.auto.current + 1)


def _do(s: CopterState, seq: int, item: Item) -> int:
    """Run one DO_/CONDITION_ command; returns the next seq."""
    cmd = item.command
    if cmd == M.MAV_CMD_DO_JUMP:
        target, repeat = int(item.param1), int(item.param2)
        left = s.auto.jumps.get(seq, repeat)
        if repeat < 0:
            return target
        if left > 0:
            s.auto.jumps[seq] = left - 1
            return target
        return seq + 1
    if cmd == M.MAV_CMD_DO_CHANGE_SPEED:
        if 0 < item.param2 <= 50:  # m/s; -1 = no change
            s.speed_override_m_s = item.param2
    elif cmd in (M.MAV_CMD_DO_SET_ROI, M.MAV_CMD_DO_SET_ROI_LOCATION):
        actions.set_roi(s, item.x, item.y, item.z)
    elif cmd == M.MAV_CMD_DO_SET_ROI_NONE:
        actions.set_roi(s, None)
    elif cmd == M.MAV_CMD_DO_MOUNT_CONTROL:
        actions.set_gimbal(s, item.param1, item.param3)
    elif cmd == M.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW:
        actions.set_gimbal(s, item.param1, item.param2, earth_frame=bool(int(item.x) & 16))
    elif cmd == M.MAV_CMD_DO_DIGICAM_CONTROL:
        if int(item.x) == 1:
            actions.trigger_camera(s)
    elif cmd == M.MAV_CMD_IMAGE_START_CAPTURE:
        actions.trigger_camera(s)
    elif cmd == M.MAV_CMD_CONDITION_YAW:
        base = s.kin.yaw if item.param4 else 0.0
        s.kin.yaw_target = wrap_360(base + item.param1 * (-1 if item.param3 < 0 else 1))
    elif cmd == M.MAV_CMD_DO_SET_HOME:
        if item.param1 == 1:
            actions.set_home_here(s)
        else:
            actions.set_home(s, item.x, item.y, item.z)
    return seq + 1
