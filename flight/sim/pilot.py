"""Stick input for the manual modes (STABILIZE, ALT_HOLD, LOITER): MANUAL_CONTROL or RC override.

Sticks are normalised: forward/right/yaw in -1..1, throttle 0..1 (0.5 = hold altitude). They
expire 0.5 s of wall time after the last message, like a ground station's virtual joystick
going quiet. Throttle above 60 % on the ground in a manual mode takes off.
"""

from __future__ import annotations

import math

from flight.sim import motion
from flight.sim.attitude import wrap_360
from flight.sim.state import CopterState

MANUAL_MODES = frozenset({"STABILIZE", "ALT_HOLD", "LOITER"})
STICK_TIMEOUT_S = 0.5
DEADZONE = 0.05
MAX_MANUAL_SPEED_M_S = 15.0
YAW_RATE_DEG_S = 90.0


def active(s: CopterState, wall_now: float) -> bool:
    return s.mode in MANUAL_MODES and wall_now - s.gcs.sticks_wall < STICK_TIMEOUT_S


def maybe_takeoff(s: CopterState) -> None:
    if s.armed and s.landed and s.gcs.sticks[2] > 0.6:
        s.landed = False
        s.auto_armed = True
        s.nav.u = s.kin.u


def fly(s: CopterState, dt: float) -> None:
    """Set the copter's velocities from the sticks (position is integrated by the caller)."""
    fwd, right, thr, yaw = s.gcs.sticks
    k = s.kin
    moving = abs(fwd) > DEADZONE or abs(right) > DEADZONE
    y = math.radians(k.yaw)
    loiter = s.mode == "LOITER"
    vmax = s.params["LOIT_SPEED"] / 100.0 if loiter else MAX_MANUAL_SPEED_M_S
    vn = fwd * vmax * math.cos(y) - right * vmax * math.sin(y)
    ve = fwd * vmax * math.sin(y) + right * vmax * math.cos(y)
    accel = max(0.5, s.params["WPNAV_ACCEL"] / 100.0)
    if loiter:
        if moving:
            motion.accel_to(s, vn, ve, accel, dt)
            s.nav.n, s.nav.e, _u = motion.stopping_point(s)
        else:
            motion.fly_to(s, s.nav.n, s.nav.e, vmax, dt)
    else:  # ALT_HOLD / STABILIZE: the wind still carries it
        wn, we = s.wind
        motion.accel_to(s, wn + vn, we + ve, accel if moving else 0.3, dt)
    climb = (thr - 0.5) * 2.0
    if abs(climb) > 0.1:
        up = s.params["PILOT_SPEED_UP"] / 100.0
        down = (s.params["PILOT_SPEED_DN"] or s.params["PILOT_SPEED_UP"]) / 100.0
        motion.vert_speed(s, climb * (up if climb > 0 else down), dt)
        s.nav.u = k.u
    else:
        motion.vert_to(s, s.nav.u, dt)
    if abs(yaw) > DEADZONE:
        k.yaw = wrap_360(k.yaw + yaw * YAW_RATE_DEG_S * dt)
        k.yaw_target = None


def from_manual_control(x: int, y: int, z: int, r: int) -> tuple[float, float, float, float]:
    """MANUAL_CONTROL (x forward, y right, z thrust 0..1000, r yaw) -> normalised sticks."""

    def clip(v: float, lo: float = -1.0) -> float:
        return max(lo, min(1.0, v))

    return clip(x / 1000), clip(y / 1000), clip(z / 1000, 0.0), clip(r / 1000)


def from_rc_override(ch: list[int]) -> tuple[float, float, float, float]:
    """RC_CHANNELS_OVERRIDE (PWM 1000..2000; 0/65535 = released) -> normalised sticks (AETR: 1 roll,
    2 pitch (low = forward), 3 throttle, 4 yaw)."""

    def norm(v: int, centre: float = 1500.0, span: float = 500.0) -> float | None:
        return None if v in (0, 65535) else max(-1.0, min(1.0, (v - centre) / span))

    roll, pitch, yaw = norm(ch[0]), norm(ch[1]), norm(ch[3])
    thr = norm(ch[2], 1000.0, 1000.0)
    return -(pitch or 0.0), roll or 0.0, 0.5 if thr is None else max(0.0, thr), yaw or 0.0
