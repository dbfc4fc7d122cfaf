"""What commands and mission DO items do to the vehicle: home, ROI, gimbal, camera, GUIDED targets."""

from __future__ import annotations

import math

from flight.sim.attitude import wrap_180
from flight.sim.nav import Nav
from flight.sim.state import CopterState, valid_latlon


def valid_speed(speed: float) -> bool:
    return math.isfinite(speed) and 0 < speed <= 50


def set_home_here(s: CopterState) -> None:
    lat, lon = s.latlon
    set_home(s, lat, lon, s.alt_amsl)


def set_home(s: CopterState, lat: float, lon: float, alt_amsl: float) -> None:
    if not valid_latlon(lat, lon) or not math.isfinite(alt_amsl):
        return
    s.home = (lat, lon, alt_amsl)
    s.home_ne = s.ne_of(lat, lon)
    s.out.changed.add("home")


def set_roi(s: CopterState, lat: float | None, lon: float | None = None, alt_rel: float = 0.0) -> None:
    if lat is None or (lat == 0 and lon == 0) or not valid_latlon(lat, lon or 0.0):
        s.payload.roi = None
        return
    alt_rel = alt_rel if math.isfinite(alt_rel) else 0.0
    n, e = s.ne_of(lat, lon or 0.0)
    s.payload.roi = (n, e, s.u_of(alt_rel, 3))


def set_gimbal(s: CopterState, pitch: float, yaw: float, earth_frame: bool = False) -> None:
    """Point the gimbal (deg; NaN keeps that axis); clears any ROI."""
    p = s.payload
    pitch = pitch if math.isfinite(pitch) else p.gimbal_pitch
    yaw = yaw if math.isfinite(yaw) else p.gimbal_yaw
    p.roi = None
    p.gimbal_pitch = max(-90.0, min(20.0, pitch))
    p.gimbal_yaw = wrap_180(yaw)
    p.yaw_earth = earth_frame


def trigger_camera(s: CopterState) -> None:
    s.payload.camera_triggers += 1
    s.out.changed.add("camera")


def takeoff(s: CopterState, alt_rel: float) -> bool:
    """NAV_TAKEOFF in GUIDED: armed, on the ground, 0 < alt < 10 km."""
    if not math.isfinite(alt_rel) or not 0 < alt_rel < 10_000:
        return False
    if s.mode != "GUIDED" or not s.armed or not s.landed:
        return False
    s.nav = Nav.takeoff(s.kin.n, s.kin.e, s.u_of(max(alt_rel, 1.0), 3))
    s.landed = False
    s.auto_armed = True
    return True


def goto(s: CopterState, lat: float, lon: float, alt: float, frame: int = 3) -> bool:
    if s.mode != "GUIDED" or not s.armed or s.landed or not valid_latlon(lat, lon):
        return False
    n, e = s.ne_of(lat, lon)
    s.nav = Nav.goto(n, e, s.u_of(alt, frame) if math.isfinite(alt) else s.kin.u)
    return True


def goto_local(s: CopterState, n: float, e: float, u: float) -> bool:
    if s.mode != "GUIDED" or not s.armed or s.landed:
        return False
    s.nav = Nav.goto(n, e, u)
    return True


def set_velocity(s: CopterState, vn: float, ve: float, vd: float) -> bool:
    if s.mode != "GUIDED" or not s.armed or s.landed:
        return False
    if not all(math.isfinite(x) and abs(x) < 100 for x in (vn, ve, vd)):
        return False
    s.nav = Nav.velocity(vn, ve, -vd, s.t + 3.0)
    return True
