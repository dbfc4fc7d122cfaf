"""Navigation targets (``Nav``) and the AUTO mission executor (``MissionRunner``).

ArduPilot conventions: mission seq 0 is home; DO_* commands run as soon as they become current
and the runner moves on to the next NAV_* command in the same step.
"""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from flight.sim import geo

if TYPE_CHECKING:
    from flight.sim.copter import Copter
    from flight.sim.items import Item

SEV_INFO = 6
_NAV_NAMES = MappingProxyType(
    {
        mavlink.MAV_CMD_NAV_WAYPOINT: "WP",
        mavlink.MAV_CMD_NAV_TAKEOFF: "Takeoff",
        mavlink.MAV_CMD_NAV_LAND: "Land",
        mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH: "RTL",
        mavlink.MAV_CMD_NAV_LOITER_TIME: "LoitTime",
        mavlink.MAV_CMD_NAV_LOITER_TURNS: "LoitTurns",
        mavlink.MAV_CMD_NAV_LOITER_UNLIM: "LoitUnlim",
        mavlink.MAV_CMD_NAV_SPLINE_WAYPOINT: "SplineWP",
    }
)


class Nav:
    """What the position controller flies to now (mutable, owned by one Copter)."""

    __slots__ = ("e", "kind", "n", "pass_through", "speed", "stage", "timer", "u", "until", "ve", "vn", "vu")

    def __init__(self, kind: str = "none", n: float = 0.0, e: float = 0.0, u: float = 0.0) -> None:
        self.kind, self.n, self.e, self.u = kind, n, e, u
        self.speed = 0.0
        self.vn = self.ve = self.vu = 0.0
        self.until = 0.0
        self.stage = ""
        self.timer = 0.0
        self.pass_through = False

    @classmethod
    def hold(cls, n: float, e: float, u: float) -> Nav:
        return cls("goto", n, e, u)

    goto = hold

    @classmethod
    def takeoff(cls, n: float, e: float, u: float) -> Nav:
        return cls("takeoff", n, e, u)

    @classmethod
    def land(cls, n: float, e: float) -> Nav:
        return cls("land", n, e, 0.0)

    @classmethod
    def velocity(cls, vn: float, ve: float, vu: float, until: float) -> Nav:
        nav = cls("velocity")
        nav.vn, nav.ve, nav.vu, nav.until = vn, ve, vu, until
        return nav

    @classmethod
    def rtl(cls, c: Copter) -> Nav:
        home_u = c.u_of(0.0, 3)
        rtl_u = max(c.u, home_u + c.params["RTL_ALT"] / 100.0)
        if c.params["FENCE_ENABLE"] and int(c.params["FENCE_TYPE"]) & 1:
            rtl_u = min(rtl_u, home_u + c.params["FENCE_ALT_MAX"] - 2.0)
        nav = cls("goto", c.n, c.e, rtl_u)
        nav.stage = "climb"
        return nav

    def rtl_destination(self, c: Copter) -> tuple[float, float]:
        best = c.home_ne
        best_d = math.hypot(best[0] - c.n, best[1] - c.e)
        for item in c.missions[2]:
            n, e = c.ne_of(item.x, item.y)
            d = math.hypot(n - c.n, e - c.e)
            if d < best_d:
                best, best_d = (n, e), d
        return best

    def advance_rtl(self, c: Copter, dt: float) -> None:
        if self.stage == "climb" and c.u >= self.u - 0.5:
            self.stage = "return"
            self.n, self.e = self.rtl_destination(c)
            self.speed = c.params["RTL_SPEED"] / 100.0
        elif self.stage == "return" and math.hypot(self.n - c.n, self.e - c.e) < 1.0:
            self.stage, self.timer = "loiter", c.params["RTL_LOIT_TIME"] / 1000.0
        elif self.stage == "loiter":
            self.timer -= dt
            if self.timer <= 0:
                final = c.params["RTL_ALT_FINAL"] / 100.0
                if final > 0:
                    self.stage, self.u = "final", c.u_of(final, 3)
                else:
                    self.stage, self.kind = "land", "land"


class MissionRunner:
    """Executes ``copter.missions[0]`` in AUTO."""

    def __init__(self, copter: Copter) -> None:
        self.c = copter
        self.current = 0
        self.finished = False
        self.paused = False
        self.jumps: dict[int, int] = {}
        self.phase = ""
        self.timer = 0.0
        self.angle = 0.0
        self.turned = 0.0

    @property
    def items(self) -> list[Item]:
        return self.c.missions[0]

    def reset(self) -> None:
        self.current, self.finished, self.jumps = 0, False, {}

    def first_nav(self) -> int | None:
        for item in self.items[1:]:
            if item.command < mavlink.MAV_CMD_NAV_LAST:
                return item.command
        return None

    def can_start(self) -> tuple[bool, str | None]:
        if len(self.items) <= 1:
            return False, "Mode change to AUTO failed: no mission"
        c = self.c
        if c.armed and c.landed and self.first_nav() != mavlink.MAV_CMD_NAV_TAKEOFF:
            return False, "Auto: Missing Takeoff Cmd"
        return True, None

    def pause(self) -> None:
        """MAV_CMD_DO_PAUSE_CONTINUE(0): brake and hold, keeping the current item."""
        self.paused = True
        self.c.nav = Nav.hold(*self.c.stopping_point())

    def resume(self) -> None:
        if self.paused and not self.finished and 1 <= self.current < len(self.items):
            self.begin(self.current)

    def start(self, seq: int) -> None:
        if self.finished or seq < 1 or seq >= len(self.items):
            seq, self.jumps, self.finished = 1, {}, False
        self.begin(seq)

    def set_current(self, seq: int) -> bool:
        if not 0 <= seq < max(1, len(self.items)):
            return False
        self.finished = False
        if self.c.mode == "AUTO" and self.c.armed:
            self.begin(max(1, seq))
        else:
            self.current = seq
            self.c.changed.add("mission_current")
        return True

    def begin(self, seq: int) -> None:
        """Make ``seq`` current: run DO commands until a NAV command starts."""
        c = self.c
        self.paused = False
        for _ in range(1000):  # a DO_JUMP loop without NAV commands must not hang the sim
            if seq >= len(self.items):
                self._complete()
                return
            self.current = seq
            c.changed.add("mission_current")
            item = self.items[seq]
            if item.command < mavlink.MAV_CMD_NAV_LAST:
                self._start_nav(seq, item)
                return
            seq = self._do(seq, item)
        self._complete()

    def _complete(self) -> None:
        self.finished = True
        c = self.c
        if not c.landed:
            c.nav = Nav.hold(*c.stopping_point())
        c.text(SEV_INFO, "Mission complete")

    def _target(self, item: Item) -> tuple[float, float, float]:
        c = self.c
        n, e = (c.n, c.e) if item.x == 0 and item.y == 0 else c.ne_of(item.x, item.y)
        u = c.u if item.z == 0 else c.u_of(item.z, item.frame)
        return n, e, u

    def _start_nav(self, seq: int, item: Item) -> None:
        c = self.c
        cmd = item.command
        c.text(SEV_INFO, f"Mission: {seq} {_NAV_NAMES.get(cmd, str(cmd))}")
        self.phase, self.timer, self.turned = "go", 0.0, 0.0
        c.yaw_target = None
        if cmd == mavlink.MAV_CMD_NAV_TAKEOFF:
            c.nav = Nav.takeoff(c.n, c.e, c.u_of(max(item.z, 1.0), item.frame))
            c.landed = False
        elif cmd == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            c.nav = Nav.rtl(c)
        elif cmd == mavlink.MAV_CMD_NAV_LAND:
            n, e, _u = self._target(item)
            c.nav = Nav.land(n, e)
        else:
            n, e, u = self._target(item)
            if cmd == mavlink.MAV_CMD_NAV_LOITER_TURNS:
                self.angle = math.atan2(c.e - e, c.n - n) if math.hypot(c.e - e, c.n - n) > 1 else 0.0
                r = self._radius(item)
                c.nav = Nav.goto(n + r * math.cos(self.angle), e + r * math.sin(self.angle), u)
            else:
                c.nav = Nav.goto(n, e, u)
                c.nav.pass_through = cmd == mavlink.MAV_CMD_NAV_WAYPOINT and item.param1 <= 0 and self._next_is_wp(seq)

    def _next_is_wp(self, seq: int) -> bool:
        for item in self.items[seq + 1 :]:
            if item.command < mavlink.MAV_CMD_NAV_LAST:
                return item.command == mavlink.MAV_CMD_NAV_WAYPOINT
        return False

    def _radius(self, item: Item) -> float:
        r = abs(item.param3) if item.param3 else self.c.params["CIRCLE_RADIUS"] / 100.0
        return max(1.0, r)

    def update(self, dt: float) -> None:
        if self.paused or self.finished or not 1 <= self.current < len(self.items):
            return
        c = self.c
        item = self.items[self.current]
        cmd = item.command
        nav = c.nav
        dist = math.hypot(nav.n - c.n, nav.e - c.e)
        if cmd == mavlink.MAV_CMD_NAV_TAKEOFF:
            if c.u >= nav.u - 0.5:
                self._next()
        elif cmd in (mavlink.MAV_CMD_NAV_LAND, mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH):
            if nav.stage:
                nav.advance_rtl(c, dt)
            # completion happens when the copter lands and disarms (Copter._ground_checks)
        elif cmd == mavlink.MAV_CMD_NAV_LOITER_TURNS:
            self._update_turns(item, dt, dist)
        elif cmd == mavlink.MAV_CMD_NAV_LOITER_UNLIM:
            return
        else:
            radius = (
                item.param2
                if cmd == mavlink.MAV_CMD_NAV_WAYPOINT and item.param2 > 0
                else c.params["WPNAV_RADIUS"] / 100.0
            )
            if self.phase == "go" and dist <= max(0.5, radius) and abs(nav.u - c.u) < 1.0:
                self.phase, self.timer = "hold", item.param1
                c.text(SEV_INFO, f"Reached command #{self.current}")
            if self.phase == "hold":
                self.timer -= dt
                if self.timer <= 0:
                    self._next()

    def _update_turns(self, item: Item, dt: float, dist: float) -> None:
        c = self.c
        if self.phase == "go":
            if dist < 2.0:
                self.phase = "circle"
            return
        r = self._radius(item)
        rate = min(math.radians(c.params["CIRCLE_RATE"]), c.wp_speed() / r)
        step = rate * dt
        self.turned += step
        self.angle += step if item.param3 >= 0 else -step
        cn, ce, _u = self._target(item)
        c.nav.n, c.nav.e = cn + r * math.cos(self.angle), ce + r * math.sin(self.angle)
        c.nav.pass_through = True
        c.yaw_target = geo.wrap_360(math.degrees(math.atan2(ce - c.e, cn - c.n)))
        if self.turned >= abs(item.param1) * 2 * math.pi:
            self._next()

    def _next(self) -> None:
        """The current NAV command is complete (ArduPilot sends MISSION_ITEM_REACHED now)."""
        self.c.reached.append(self.current)
        self.begin(self.current + 1)

    def on_landed(self) -> None:
        if self.c.mode == "AUTO" and not self.finished:
            self.c.reached.append(self.current)
            self._complete()

    def _do(self, seq: int, item: Item) -> int:
        """Run one DO_/CONDITION_ command; returns the next seq."""
        c = self.c
        cmd = item.command
        if cmd == mavlink.MAV_CMD_DO_JUMP:
            target, repeat = int(item.param1), int(item.param2)
            left = self.jumps.get(seq, repeat)
            if repeat < 0:
                return target
            if left > 0:
                self.jumps[seq] = left - 1
                return target
            return seq + 1
        if cmd == mavlink.MAV_CMD_DO_CHANGE_SPEED:
            if 0 < item.param2 <= 50:  # m/s; -1 = no change
                c.speed_override_m_s = item.param2
        elif cmd in (mavlink.MAV_CMD_DO_SET_ROI, mavlink.MAV_CMD_DO_SET_ROI_LOCATION):
            c.set_roi(item.x, item.y, item.z)
        elif cmd == mavlink.MAV_CMD_DO_SET_ROI_NONE:
            c.set_roi(None)
        elif cmd == mavlink.MAV_CMD_DO_MOUNT_CONTROL:
            c.roi = None
            c.set_gimbal(item.param1, item.param3)
        elif cmd == mavlink.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW:
            c.roi = None
            c.set_gimbal(item.param1, item.param2, earth_frame=bool(int(item.x) & 16))
        elif cmd == mavlink.MAV_CMD_DO_DIGICAM_CONTROL:
            if int(item.x) == 1:
                c.trigger_camera()
        elif cmd == mavlink.MAV_CMD_IMAGE_START_CAPTURE:
            c.trigger_camera()
        elif cmd == mavlink.MAV_CMD_CONDITION_YAW:
            base = c.yaw if item.param4 else 0.0
            c.yaw_target = geo.wrap_360(base + item.param1 * (-1 if item.param3 < 0 else 1))
        elif cmd == mavlink.MAV_CMD_DO_SET_HOME:
            if item.param1 == 1:
                c.set_home_here()
            else:
                c.set_home(item.x, item.y, item.z)
        return seq + 1
