"""One simulated copter: kinematics, battery, GPS/EKF warm-up, modes, arming and failsafes.

Pure Python, no sockets: ``flight.sim.peer`` turns MAVLink into calls on this class and reads
its state back out. Everything runs in sim time (``step(dt)``), except the GCS link-loss timer,
which uses the wall clock so a ground station heartbeating at 1 Hz is not declared lost at high
``speedup`` (documented in README).
"""

from __future__ import annotations

import math

from flight.sim import attitude, geo, pilot, safety
from flight.sim.auto import MissionRunner, Nav
from flight.sim.items import Item
from flight.sim.params import Params
from flight.sim.snapshot import truth_of
from flight.sim.types import COPTER_MODES, VehicleTruth

GPS_FIX_AFTER_S = 3.0  # sim seconds from boot to a 3D fix
EKF_OK_AFTER_S = 4.5  # ... and to an EKF using GPS
CELLS = 4
NEEDS_POSITION = frozenset({"GUIDED", "AUTO", "LOITER", "RTL", "BRAKE"})
ARMABLE = frozenset({"STABILIZE", "ALT_HOLD", "GUIDED", "LOITER"})
SEV_CRITICAL, SEV_WARNING, SEV_NOTICE, SEV_INFO = 2, 4, 5, 6
FORCE_MAGIC = 21196


def _valid_latlon(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180


def valid_speed(speed: float) -> bool:
    return math.isfinite(speed) and 0 < speed <= 50


class Copter:
    """State and behaviour of one simulated ArduCopter."""

    def __init__(self, sysid: int, origin: tuple[float, float, float], params: Params) -> None:
        self.sysid = sysid
        self.params = params
        self.origin = origin  # lat, lon, ground alt AMSL (flat terrain)
        self.t = 0.0
        self.n = self.e = self.u = 0.0
        self.vn = self.ve = self.vu = 0.0
        self.an = self.ae = 0.0
        self.yaw = 0.0
        self.roll = self.pitch = 0.0
        self.yaw_target: float | None = None
        self.mode = "STABILIZE"
        self.armed = False
        self.landed = True
        self.armed_landed_s = 0.0
        self.home: tuple[float, float, float] | None = None
        self.home_ne = (0.0, 0.0)
        self.gps_override: int | None = None
        self.consumed_mah = 0.0
        self.current_a = 0.0
        self.distance_m = 0.0
        self.missions: dict[int, list[Item]] = {0: [], 1: [], 2: []}  # by MAV_MISSION_TYPE
        self.runner = MissionRunner(self)
        self.nav = Nav()  # what the position controller is doing now
        self.speed_override_m_s: float | None = None
        self.roi: tuple[float, float, float] | None = None  # n, e, u
        self.gimbal_pitch = -60.0
        self.gimbal_yaw = 0.0  # body frame
        self.gimbal_yaw_earth = False
        self.camera_triggers = 0
        self.failsafe = ""
        self.batt_fs_done = False
        self.batt_crit_done = False
        self.fence_breached = 0
        self.gcs_seen = False
        self.gcs_last_wall = 0.0
        self.gcs_failsafe = False
        self.ekf_failsafe = False
        self.sticks = (0.0, 0.0, 0.5, 0.0)  # forward, right, throttle, yaw (flight.sim.pilot)
        self.sticks_wall = -1e9
        self.texts: list[tuple[int, str]] = []
        self.reached: list[int] = []
        self.changed: set[str] = set()  # "home", "mission_current", "camera"

    # ---- derived state -------------------------------------------------------------------
    @property
    def gps_fix(self) -> int:
        if self.gps_override is not None:
            return self.gps_override
        if self.params["SIM_GPS_DISABLE"]:
            return 0
        return 3 if self.t >= GPS_FIX_AFTER_S else (1 if self.t >= 1.0 else 0)

    @property
    def ekf_ok(self) -> bool:
        return self.gps_fix >= 3 and self.t >= EKF_OK_AFTER_S

    @property
    def battery_pct(self) -> float:
        cap = max(1.0, self.params["BATT_CAPACITY"])
        return max(0.0, min(100.0, 100.0 * (1.0 - self.consumed_mah / cap)))

    @property
    def voltage(self) -> float:
        return CELLS * (3.3 + 0.9 * self.battery_pct / 100.0) - 0.01 * self.current_a

    @property
    def latlon(self) -> tuple[float, float]:
        return geo.offset_deg(self.origin[0], self.origin[1], self.n, self.e)

    @property
    def alt_amsl(self) -> float:
        return self.origin[2] + self.u

    @property
    def alt_rel(self) -> float:
        return self.alt_amsl - (self.home[2] if self.home else self.origin[2])

    @property
    def wind(self) -> tuple[float, float]:
        spd, frm = self.params["SIM_WIND_SPD"], math.radians(self.params["SIM_WIND_DIR"])
        return -spd * math.cos(frm), -spd * math.sin(frm)

    def wp_speed(self) -> float:
        if self.speed_override_m_s:
            return self.speed_override_m_s
        return max(0.2, self.params["WPNAV_SPEED"] / 100.0)

    def text(self, severity: int, text: str) -> None:
        self.texts.append((severity, text[:50]))

    def ne_of(self, lat: float, lon: float) -> tuple[float, float]:
        return geo.ne_of(self.origin[0], self.origin[1], lat, lon)

    def u_of(self, alt: float, frame: int) -> float:
        """Height above the origin ground for an item/command altitude in ``frame``."""
        if frame in (0, 5):  # MAV_FRAME_GLOBAL(_INT): AMSL
            return alt - self.origin[2]
        return alt + (self.home[2] if self.home else self.origin[2]) - self.origin[2]

    # ---- commands ------------------------------------------------------------------------
    def arm(self, force: bool = False) -> tuple[bool, str | None]:
        if self.armed:
            return True, None
        if not force:
            failure = safety.prearm_failure(self)
            if failure:
                return False, failure
            if self.mode not in ARMABLE and not (self.mode == "AUTO" and int(self.params["AUTO_OPTIONS"]) & 1):
                return False, "Arm: Mode not armable"
        self.armed = True
        self.armed_landed_s = 0.0
        self.batt_fs_done = self.batt_crit_done = False
        if self.gps_fix >= 3:
            self.set_home_here()
        self.text(SEV_INFO, "Arming motors")
        return True, None

    def disarm(self, force: bool = False, reason: str = "Disarming motors") -> tuple[bool, str | None]:
        if not self.armed:
            return True, None
        if not self.landed and not force:
            return False, "Disarm: vehicle is flying"
        self.armed = False
        self.nav = Nav()
        if not self.landed:  # forced disarm in the air: it falls; keep it simple, put it down
            self.u, self.vn, self.ve, self.vu, self.landed = 0.0, 0.0, 0.0, 0.0, True
        self.text(SEV_INFO, reason)
        return True, None

    def set_home_here(self) -> None:
        lat, lon = self.latlon
        self.set_home(lat, lon, self.alt_amsl)

    def set_home(self, lat: float, lon: float, alt_amsl: float) -> None:
        if not _valid_latlon(lat, lon) or not math.isfinite(alt_amsl):
            return
        self.home = (lat, lon, alt_amsl)
        self.home_ne = self.ne_of(lat, lon)
        self.changed.add("home")

    def set_mode(self, name: str, reason: str = "") -> tuple[bool, str | None]:
        if name not in COPTER_MODES:
            return False, f"Mode change to {name} failed: unknown mode"
        if name in NEEDS_POSITION and not self.ekf_ok:
            return False, f"Mode change to {name} failed: requires position"
        if name == "AUTO":
            ok, why = self.runner.can_start()
            if not ok:
                return False, why
        self.mode = name
        self.yaw_target = None
        self.speed_override_m_s = None  # like wp_nav init: each mode starts at WPNAV_SPEED
        if name in ("LOITER", "BRAKE", "GUIDED"):
            self.nav = Nav.hold(*self.stopping_point())
        elif name == "RTL":
            self.nav = Nav.rtl(self)
        elif name == "LAND":
            self.nav = Nav.land(self.n, self.e)
        elif name == "AUTO":
            self.runner.start(self.runner.current)
        else:  # STABILIZE / ALT_HOLD: hold this altitude, no position hold
            self.nav = Nav("none", self.n, self.e, self.u)
        if reason:
            self.text(SEV_WARNING, f"{reason}: {name}")
        return True, None

    def stopping_point(self) -> tuple[float, float, float]:
        a = max(0.5, self.params["WPNAV_ACCEL"] / 100.0)
        sp = math.hypot(self.vn, self.ve)
        k = sp / (2 * a) if sp > 0.01 else 0.0
        return self.n + self.vn * k, self.e + self.ve * k, max(self.u, 0.0)

    def takeoff(self, alt_rel: float) -> tuple[bool, str | None]:
        if not math.isfinite(alt_rel) or not 0 < alt_rel < 10_000:
            return False, None
        if self.mode not in ("GUIDED",) or not self.armed:
            return False, None
        if not self.landed:
            return False, None
        target_u = self.u_of(max(alt_rel, 1.0), 3)
        self.nav = Nav.takeoff(self.n, self.e, target_u)
        self.landed = False
        return True, None

    def goto(self, lat: float, lon: float, alt: float, frame: int = 3) -> bool:
        if self.mode != "GUIDED" or not self.armed or self.landed or not _valid_latlon(lat, lon):
            return False
        n, e = self.ne_of(lat, lon)
        self.nav = Nav.goto(n, e, self.u_of(alt, frame) if math.isfinite(alt) else self.u)
        return True

    def set_velocity(self, vn: float, ve: float, vd: float) -> bool:
        if self.mode != "GUIDED" or not self.armed or self.landed:
            return False
        if not all(math.isfinite(x) and abs(x) < 100 for x in (vn, ve, vd)):
            return False
        self.nav = Nav.velocity(vn, ve, -vd, self.t + 3.0)
        return True

    def set_roi(self, lat: float | None, lon: float | None = None, alt_rel: float = 0.0) -> None:
        if lat is None or (lat == 0 and lon == 0) or not _valid_latlon(lat, lon or 0.0):
            self.roi = None
            return
        alt_rel = alt_rel if math.isfinite(alt_rel) else 0.0
        n, e = self.ne_of(lat, lon or 0.0)
        self.roi = (n, e, self.u_of(alt_rel, 3))

    def set_gimbal(self, pitch: float, yaw: float, earth_frame: bool = False) -> None:
        pitch = pitch if math.isfinite(pitch) else self.gimbal_pitch
        yaw = yaw if math.isfinite(yaw) else self.gimbal_yaw
        self.gimbal_pitch = max(-90.0, min(20.0, pitch))
        self.gimbal_yaw = geo.wrap_180(yaw)
        self.gimbal_yaw_earth = earth_frame

    def trigger_camera(self) -> None:
        self.camera_triggers += 1
        self.changed.add("camera")

    # ---- simulation ----------------------------------------------------------------------
    def step(self, dt: float, wall_now: float) -> None:
        had_fix = self.gps_fix >= 3
        self.t += dt
        if not had_fix and self.gps_fix >= 3:
            self.text(SEV_INFO, "EKF3 IMU0 is using GPS")
            if self.home is None:
                self.set_home_here()
        safety.check_failsafes(self, wall_now)
        manual = pilot.active(self, wall_now)
        if manual:
            pilot.maybe_takeoff(self)
        if self.armed and not self.landed:
            if self.mode == "AUTO":
                self.runner.update(dt)
            if manual:
                pilot.fly(self, dt)
                self._integrate(dt)
            else:
                self._control(dt)
        else:
            self._decay(dt)
        self._battery(dt)
        attitude.update(self, dt)
        self._ground_checks(dt)

    def _control(self, dt: float) -> None:
        nav = self.nav
        wn, we = self.wind
        if nav.kind == "none":  # STABILIZE / ALT_HOLD with centred sticks: drift with the wind
            self._accel_to(wn, we, 0.3, dt)
            self._vert_to(nav.u, dt)
        elif nav.kind == "velocity":
            if self.t > nav.until:
                self.nav = Nav.hold(*self.stopping_point())
            else:
                self._accel_to(nav.vn, nav.ve, self.params["WPNAV_ACCEL"] / 100.0, dt)
                self._vert_speed(nav.vu, dt)
        else:
            speed = nav.speed if nav.speed else self.wp_speed()
            self._fly_to(nav.n, nav.e, speed, dt)
            if nav.kind == "land":
                self._land_descent(dt)
            else:
                self._vert_to(nav.u, dt)
        self._integrate(dt)
        if self.mode == "RTL" and self.nav.stage:
            self.nav.advance_rtl(self, dt)

    def _integrate(self, dt: float) -> None:
        self.n += self.vn * dt
        self.e += self.ve * dt
        self.u += self.vu * dt
        self.distance_m += math.hypot(self.vn, self.ve) * dt

    def _fly_to(self, tn: float, te: float, speed: float, dt: float) -> None:
        a = max(0.5, self.params["WPNAV_ACCEL"] / 100.0)
        dn, de = tn - self.n, te - self.e
        d = math.hypot(dn, de)
        if d < 1e-6 or (d < 0.05 and math.hypot(self.vn, self.ve) < 0.2):
            self.n, self.e, self.vn, self.ve, self.an, self.ae = tn, te, 0.0, 0.0, 0.0, 0.0
            return
        vmax = min(speed, d / dt) if self.nav.pass_through else min(speed, math.sqrt(2 * a * d) * 0.95, d / dt)
        self._accel_to(dn / d * vmax, de / d * vmax, a, dt)

    def _accel_to(self, vn: float, ve: float, a: float, dt: float) -> None:
        dvn, dve = vn - self.vn, ve - self.ve
        dv = math.hypot(dvn, dve)
        lim = a * dt
        if dv > lim:
            dvn, dve = dvn * lim / dv, dve * lim / dv
        self.an, self.ae = dvn / dt, dve / dt
        self.vn += dvn
        self.ve += dve

    def _vert_to(self, tu: float, dt: float) -> None:
        az = max(0.3, self.params["WPNAV_ACCEL_Z"] / 100.0)
        dz = tu - self.u
        if abs(dz) < 0.02 and abs(self.vu) < 0.1:
            self.u, self.vu = tu, 0.0
            return
        up, dn = self.params["WPNAV_SPEED_UP"] / 100.0, self.params["WPNAV_SPEED_DN"] / 100.0
        vmax = min(up if dz > 0 else dn, math.sqrt(2 * az * abs(dz)) * 0.95, abs(dz) / dt)
        self._vert_speed(math.copysign(vmax, dz), dt)

    def _vert_speed(self, vu: float, dt: float) -> None:
        az = max(0.3, self.params["WPNAV_ACCEL_Z"] / 100.0) * 2.5
        self.vu += max(-az * dt, min(az * dt, vu - self.vu))

    def _land_descent(self, dt: float) -> None:
        horiz_err = math.hypot(self.nav.n - self.n, self.nav.e - self.e)
        if horiz_err > 2.0 and self.u > 2.0:  # ArduCopter repositions before descending
            self._vert_to(self.u, dt)
            return
        low = self.params["LAND_ALT_LOW"] / 100.0
        agl = self.u
        high = self.params["LAND_SPEED_HIGH"] or self.params["WPNAV_SPEED_DN"]
        rate = (high if agl > low else self.params["LAND_SPEED"]) / 100.0
        self._vert_speed(-rate, dt)

    def _decay(self, dt: float) -> None:
        self.vn = self.ve = self.vu = 0.0
        self.an = self.ae = 0.0

    def _ground_checks(self, dt: float) -> None:
        if self.u <= 0.0 and not self.landed and (self.vu <= 0.0 or not self.armed):
            self.u, self.vu, self.vn, self.ve = 0.0, 0.0, 0.0, 0.0
            self.landed = True
            self.armed_landed_s = 0.0
            if self.armed and self.mode in ("LAND", "RTL", "AUTO"):
                self.runner.on_landed()
                self.disarm(reason="Land complete, disarming")
        if self.armed and self.landed:
            self.armed_landed_s += dt
            if self.armed_landed_s > self.params["DISARM_DELAY"] > 0:
                self.disarm(reason="Auto disarm: landed")

    def _battery(self, dt: float) -> None:
        if not self.armed:
            self.current_a = 0.4
        elif self.landed:
            self.current_a = 3.0
        else:
            sp = math.hypot(self.vn - self.wind[0], self.ve - self.wind[1])
            self.current_a = 14.0 + 0.06 * sp * sp + 6.0 * max(self.vu, 0.0)
        self.consumed_mah += self.current_a * dt / 3.6

    # ---- snapshots -----------------------------------------------------------------------
    def truth(self) -> VehicleTruth:
        return truth_of(self)

    def camera_pitch(self) -> float:
        """Camera pitch in the world frame (-90 = down); follows the ROI when one is set."""
        if self.roi is not None:
            dn, de, du = self.roi[0] - self.n, self.roi[1] - self.e, self.roi[2] - self.u
            return max(-90.0, min(20.0, math.degrees(math.atan2(du, max(0.1, math.hypot(dn, de))))))
        return self.gimbal_pitch

    def camera_yaw(self) -> float:
        """Camera heading in the world frame (deg, 0 = north)."""
        if self.roi is not None:
            return geo.wrap_360(math.degrees(math.atan2(self.roi[1] - self.e, self.roi[0] - self.n)))
        return geo.wrap_360(self.gimbal_yaw if self.gimbal_yaw_earth else self.yaw + self.gimbal_yaw)
