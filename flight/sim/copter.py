"""One simulated copter: a ``CopterState`` and the fixed-step loop over its subsystems.

Pure Python, no sockets: ``flight.sim.peer`` turns MAVLink into calls on this class and reads
its state back out. Everything runs in sim time (``step(dt)``), except the GCS link-loss timer
and the sticks, which use the wall clock (README "Deliberate differences").

Imports go one way: state <- motion/attitude/power/rtl/fence <- actions <- auto <- modes <-
arming <- failsafe <- copter <- peer <- fleet.
"""

from __future__ import annotations

from flight.sim import actions, arming, attitude, auto, failsafe, modes, motion, pilot, power, rtl
from flight.sim.params import Params
from flight.sim.snapshot import truth_of
from flight.sim.state import SEV_INFO, CopterState
from flight.sim.types import VehicleTruth


class Copter:
    """Facade over one copter's state: the commands a ground station can give, and ``step``."""

    def __init__(self, sysid: int, origin: tuple[float, float, float], params: Params) -> None:
        self.state = CopterState.new(sysid, origin, params)

    @property
    def sysid(self) -> int:
        return self.state.sysid

    @property
    def params(self) -> Params:
        return self.state.params

    # ---- commands (True when done; a refusal is announced by STATUSTEXT, as ArduCopter does) ----
    def arm(self, force: bool = False) -> bool:
        return arming.arm(self.state, force)

    def disarm(self, force: bool = False) -> bool:
        return arming.disarm(self.state, force)

    def set_mode(self, name: str) -> bool:
        return modes.set_mode(self.state, name)

    def start_mission(self) -> bool:
        """MAV_CMD_MISSION_START: AUTO, and a mission on the ground may take off (auto_armed)."""
        s = self.state
        if not s.armed or not modes.set_mode(s, "AUTO"):
            return False
        s.auto_armed = True
        if s.auto.state != "running":
            auto.enter(s)
        return True

    def takeoff(self, alt_rel_m: float) -> bool:
        return actions.takeoff(self.state, alt_rel_m)

    def goto(self, lat: float, lon: float, alt: float, frame: int = 3) -> bool:
        return actions.goto(self.state, lat, lon, alt, frame)

    def set_gimbal(self, pitch: float, yaw: float, earth_frame: bool = False) -> None:
        actions.set_gimbal(self.state, pitch, yaw, earth_frame)

    def set_roi(self, lat: float | None, lon: float | None = None, alt_rel: float = 0.0) -> None:
        actions.set_roi(self.state, lat, lon, alt_rel)

    # ---- simulation ----------------------------------------------------------------------
    def step(self, dt: float, wall_now: float) -> None:
        s = self.state
        had_fix, had_ekf, was_booting = s.gps_fix >= 3, s.ekf_ok, s.booting
        s.t += dt
        if was_booting and not s.booting:
            s.text(SEV_INFO, "ArduPilot Ready")
        if not had_fix and s.gps_fix >= 3 and s.home is None:
            actions.set_home_here(s)
        if not had_ekf and s.ekf_ok:
            s.text(SEV_INFO, "EKF3 IMU0 is using GPS")
        failsafe.check(s, wall_now)
        arming.report(s)
        manual = pilot.active(s, wall_now)
        if manual:
            pilot.maybe_takeoff(s)
        if s.armed and s.landed and s.auto_armed and s.mode == "AUTO" and s.nav.kind == "takeoff":
            s.landed = False  # MISSION_START (or throttle) lets a mission's take-off go
        if s.armed and not s.landed:
            if s.mode == "AUTO":
                auto.update(s, dt)
            if manual:
                pilot.fly(s, dt)
                motion.integrate(s, dt)
            else:
                motion.control(s, dt)
                if s.mode == "RTL" and s.nav.stage:
                    rtl.advance(s, dt)
        else:
            motion.stop_on_ground(s)
        power.update(s, dt)
        attitude.update(s, dt)
        self._ground_checks(dt)

    def _ground_checks(self, dt: float) -> None:
        s, k = self.state, self.state.kin
        if k.u <= 0.0 and not s.landed and (k.vu <= 0.0 or not s.armed):
            k.u = 0.0
            motion.stop_on_ground(s)
            s.landed = True
            s.armed_landed_s = 0.0
            if s.armed and s.mode in ("LAND", "RTL", "AUTO"):
                arming.disarm(s)
        if s.armed and s.landed:
            s.armed_landed_s += dt
            if s.armed_landed_s > s.params["DISARM_DELAY"] > 0:
                arming.disarm(s)

    def truth(self) -> VehicleTruth:
        return truth_of(self.state)
