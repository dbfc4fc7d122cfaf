"""Attitude of the simulated copter (tilt from acceleration and wind, yaw towards ROI/course),
the camera's world-frame pointing, and angle wrapping."""

from __future__ import annotations

import math

from flight.sim.state import CopterState

G = 9.80665


def wrap_360(deg: float) -> float:
    return deg % 360.0


def wrap_180(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def update(s: CopterState, dt: float) -> None:
    """Roll/pitch from acceleration and drag against the wind; yaw slews to the wanted heading."""
    k = s.kin
    wn, we = s.wind
    drag = 0.12
    flying = s.armed and not s.landed
    fn = k.an + drag * (k.vn - wn) if flying else 0.0
    fe = k.ae + drag * (k.ve - we) if flying else 0.0
    y = math.radians(k.yaw)
    fwd = fn * math.cos(y) + fe * math.sin(y)
    right = -fn * math.sin(y) + fe * math.cos(y)
    gain = min(1.0, dt * 8)
    k.pitch += (-math.degrees(math.atan2(fwd, G)) - k.pitch) * gain
    k.roll += (math.degrees(math.atan2(right, G)) - k.roll) * gain
    want = _yaw_wanted(s)
    if want is not None and flying:
        rate = s.params["ATC_SLEW_YAW"] / 100.0 * dt
        k.yaw = wrap_360(k.yaw + max(-rate, min(rate, wrap_180(want - k.yaw))))


def _yaw_wanted(s: CopterState) -> float | None:
    k = s.kin
    roi = s.payload.roi
    if roi is not None:
        dn, de = roi[0] - k.n, roi[1] - k.e
        if math.hypot(dn, de) > 1.0:
            return math.degrees(math.atan2(de, dn))
    if k.yaw_target is not None:
        return k.yaw_target
    behaviour = int(s.params["WP_YAW_BEHAVIOR"])  # 0 never, 1 always, 2 not in RTL, 3 GPS course
    in_rtl = s.mode == "RTL" or s.nav.stage != ""
    if (
        s.mode in ("AUTO", "GUIDED", "RTL")
        and behaviour
        and not (in_rtl and behaviour == 2)
        and (math.hypot(k.vn, k.ve) > 1.0)
    ):
        return math.degrees(math.atan2(k.ve, k.vn))
    return None


def camera_pitch(s: CopterState) -> float:
    """Camera pitch in the world frame (-90 = down); follows the ROI when one is set."""
    k, roi = s.kin, s.payload.roi
    if roi is not None:
        dn, de, du = roi[0] - k.n, roi[1] - k.e, roi[2] - k.u
        return max(-90.0, min(20.0, math.degrees(math.atan2(du, max(0.1, math.hypot(dn, de))))))
    return s.payload.gimbal_pitch


def camera_yaw(s: CopterState) -> float:
    """Camera heading in the world frame (deg, 0 = north)."""
    k, p = s.kin, s.payload
    if p.roi is not None:
        return wrap_360(math.degrees(math.atan2(p.roi[1] - k.e, p.roi[0] - k.n)))
    return wrap_360(p.gimbal_yaw if p.yaw_earth else k.yaw + p.gimbal_yaw)
