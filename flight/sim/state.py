"""The state of one simulated copter: plain data grouped by subsystem, plus derived read-only values.

Every subsystem module (``motion``, ``attitude``, ``power``, ``rtl``, ``actions``, ``auto``,
``modes``, ``arming``, ``failsafe``, ``pilot``) is a set of functions over a ``CopterState``;
they import this module and each other one way (see README "How it runs"), never ``copter``.
Positions are metres north/east/up (``n``/``e``/``u``) of the origin on a ``missions.geo``
tangent plane (flat terrain at the origin's altitude).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from flight.sim.items import Item
from flight.sim.nav import Nav
from flight.sim.params import Params
from missions.geo import LocalFrame

BOOT_S = 1.5  # sim seconds of ArduPilot's init (HEARTBEAT system_status BOOT, no missions, no arming)
GPS_FIX_AFTER_S = 3.0  # sim seconds from boot to a 3D fix
EKF_OK_AFTER_S = 4.5  # ... and to an EKF using GPS
CELLS = 4
SEV_CRITICAL, SEV_WARNING, SEV_NOTICE, SEV_INFO = 2, 4, 5, 6
STATUSTEXT_MAX = 50


def valid_latlon(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180


@dataclass(slots=True)
class Kinematics:
    """Position (m from the origin), velocity (m/s), acceleration, attitude (deg)."""

    n: float = 0.0
    e: float = 0.0
    u: float = 0.0
    vn: float = 0.0
    ve: float = 0.0
    vu: float = 0.0
    an: float = 0.0
    ae: float = 0.0
    yaw: float = 0.0
    roll: float = 0.0
    pitch: float = 0.0
    yaw_target: float | None = None  # commanded heading (CONDITION_YAW, circle, position target)
    distance_m: float = 0.0  # flown over the ground since boot


@dataclass(slots=True)
class Power:
    consumed_mah: float = 0.0
    current_a: float = 0.0


@dataclass(slots=True)
class Payload:
    """Gimbal and camera."""

    gimbal_pitch: float = -60.0
    gimbal_yaw: float = 0.0  # body frame unless yaw_earth
    yaw_earth: bool = False
    roi: tuple[float, float, float] | None = None  # n, e, u
    camera_triggers: int = 0


@dataclass(slots=True)
class Failsafes:
    active: str = ""  # last failsafe that acted: "Battery", "GCS", "EKF", "Fence"
    batt_low: bool = False
    batt_crit: bool = False
    fence_breached: int = 0
    ekf: bool = False
    gcs: bool = False


@dataclass(slots=True)
class GcsLink:
    """What the ground station(s) last did: heartbeats (GCS failsafe) and sticks (manual modes)."""

    seen: bool = False
    last_wall: float = 0.0
    sticks: tuple[float, float, float, float] = (0.0, 0.0, 0.5, 0.0)  # forward, right, throttle, yaw
    sticks_wall: float = -1e9


@dataclass(slots=True)
class AutoState:
    """Progress of the AUTO mission executor (``flight.sim.auto``); ``state`` as AP_Mission's:
    "stopped", "running" or "complete"."""

    current: int = 0
    state: str = "stopped"
    paused: bool = False
    jumps: dict[int, int] = field(default_factory=dict)  # DO_JUMP seq -> repeats left
    phase: str = ""  # "go", "hold", "circle"
    timer: float = 0.0
    angle: float = 0.0
    turned: float = 0.0


@dataclass(slots=True)
class Outbox:
    """Events for the MAVLink side to send after this step (drained by ``flight.sim.peer``)."""

    texts: list[tuple[int, str]] = field(default_factory=list)
    reached: list[int] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)  # "home", "mission_current", "camera"


@dataclass(slots=True)
class CopterState:
    sysid: int
    params: Params
    origin: tuple[float, float, float]  # lat, lon, ground altitude AMSL
    frame: LocalFrame
    t: float = 0.0
    mode: str = "STABILIZE"
    armed: bool = False
    auto_armed: bool = False  # ArduCopter's ap.auto_armed: AUTO may take off (MISSION_START, takeoff, throttle)
    landed: bool = True
    armed_landed_s: float = 0.0
    home: tuple[float, float, float] | None = None  # lat, lon, alt AMSL
    home_ne: tuple[float, float] = (0.0, 0.0)
    gps_override: int | None = None
    prearm_report_t: float = 30.0  # sim time of the next periodic "PreArm: ..." report
    speed_override_m_s: float | None = None
    nav: Nav = field(default_factory=Nav)
    missions: dict[int, list[Item]] = field(default_factory=lambda: {0: [], 1: [], 2: []})  # by MAV_MISSION_TYPE
    kin: Kinematics = field(default_factory=Kinematics)
    power: Power = field(default_factory=Power)
    payload: Payload = field(default_factory=Payload)
    fs: Failsafes = field(default_factory=Failsafes)
    gcs: GcsLink = field(default_factory=GcsLink)
    auto: AutoState = field(default_factory=AutoState)
    out: Outbox = field(default_factory=Outbox)

    @classmethod
    def new(cls, sysid: int, origin: tuple[float, float, float], params: Params) -> CopterState:
        return cls(sysid, params, origin, LocalFrame(origin[0], origin[1]))

    # ---- derived values ----------------------------------------------------------------
    @property
    def booting(self) -> bool:
        return self.t < BOOT_S

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
        return max(0.0, min(100.0, 100.0 * (1.0 - self.power.consumed_mah / cap)))

    @property
    def voltage(self) -> float:
        return CELLS * (3.3 + 0.9 * self.battery_pct / 100.0) - 0.01 * self.power.current_a

    @property
    def latlon(self) -> tuple[float, float]:
        return self.frame.point_to_geo(self.kin.e, self.kin.n)

    @property
    def alt_amsl(self) -> float:
        return self.origin[2] + self.kin.u

    @property
    def home_alt(self) -> float:
        return self.home[2] if self.home else self.origin[2]

    @property
    def alt_rel(self) -> float:
        return self.alt_amsl - self.home_alt

    @property
    def wind(self) -> tuple[float, float]:
        """Wind velocity (m/s north, east): SIM_WIND_DIR is where it blows from."""
        spd, frm = self.params["SIM_WIND_SPD"], math.radians(self.params["SIM_WIND_DIR"])
        return -spd * math.cos(frm), -spd * math.sin(frm)

    def wp_speed(self) -> float:
        if self.speed_override_m_s:
            return self.speed_override_m_s
        return max(0.2, self.params["WPNAV_SPEED"] / 100.0)

    def ne_of(self, lat: float, lon: float) -> tuple[float, float]:
        e, n = self.frame.point_to_enu(lat, lon)
        return n, e

    def latlon_of(self, n: float, e: float) -> tuple[float, float]:
        return self.frame.point_to_geo(e, n)

    def u_of(self, alt: float, frame: int) -> float:
        """Height above the origin ground for an item/command altitude in ``frame``."""
        if frame in (0, 5):  # MAV_FRAME_GLOBAL(_INT): AMSL
            return alt - self.origin[2]
        return alt + self.home_alt - self.origin[2]

    def text(self, severity: int, text: str) -> None:
        self.out.texts.append((severity, text[:STATUSTEXT_MAX]))
