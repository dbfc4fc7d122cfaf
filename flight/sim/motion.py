"""Position controller and integrator: acceleration-limited velocity towards the ``Nav`` target."""

from __future__ import annotations

import math

from flight.sim.nav import Nav
from flight.sim.state import CopterState


def stopping_point(s: CopterState) -> tuple[float, float, float]:
    k = s.kin
    a = max(0.5, s.params["WPNAV_ACCEL"] / 100.0)
    sp = math.hypot(k.vn, k.ve)
    t = sp / (2 * a) if sp > 0.01 else 0.0
    return k.n + k.vn * t, k.e + k.ve * t, max(k.u, 0.0)


def hold_here(s: CopterState) -> Nav:
    return Nav.hold(*stopping_point(s))


def control(s: CopterState, dt: float) -> None:
    """One step of the autopilot-controlled modes (everything but sticks in a manual mode)."""
    nav = s.nav
    wn, we = s.wind
    if nav.kind == "none":  # STABILIZE / ALT_HOLD with centred sticks: drift with the wind
        accel_to(s, wn, we, 0.3, dt)
        vert_to(s, nav.u, dt)
    elif nav.kind == "velocity":
        if s.t > nav.until:
            s.nav = hold_here(s)
        else:
            accel_to(s, nav.vn, nav.ve, s.params["WPNAV_ACCEL"] / 100.0, dt)
            vert_speed(s, nav.vu, dt)
    else:
        fly_to(s, nav.n, nav.e, nav.speed if nav.speed else s.wp_speed(), dt)
        if nav.kind == "land":
            _land_descent(s, dt)
        else:
            vert_to(s, nav.u, dt)
    integrate(s, dt)


def integrate(s: CopterState, dt: float) -> None:
    k = s.kin
    k.n += k.vn * dt
    k.e += k.ve * dt
    k.u += k.vu * dt
    k.distance_m += math.hypot(k.vn, k.ve) * dt


def fly_to(s: CopterState, tn: float, te: float, speed: float, dt: float) -> None:
    k = s.kin
    a = max(0.5, s.params["WPNAV_ACCEL"] / 100.0)
    dn, de = tn - k.n, te - k.e
    d = math.hypot(dn, de)
    if d < 1e-6 or (d < 0.05 and math.hypot(k.vn, k.ve) < 0.2):
        k.n, k.e, k.vn, k.ve, k.an, k.ae = tn, te, 0.0, 0.0, 0.0, 0.0
        return
    vmax = min(speed, d / dt) if s.nav.pass_through else min(speed, math.sqrt(2 * a * d) * 0.95, d / dt)
    accel_to(s, dn / d * vmax, de / d * vmax, a, dt)


def accel_to(s: CopterState, vn: float, ve: float, a: float, dt: float) -> None:
    k = s.kin
    dvn, dve = vn - k.vn, ve - k.ve
    dv = math.hypot(dvn, dve)
    lim = a * dt
    if dv > lim:
        dvn, dve = dvn * lim / dv, dve * lim / dv
    k.an, k.ae = dvn / dt, dve / dt
    k.vn += dvn
    k.ve += dve


def vert_to(s: CopterState, tu: float, dt: float) -> None:
    k = s.kin
    az = max(0.3, s.params["WPNAV_ACCEL_Z"] / 100.0)
    dz = tu - k.u
    if abs(dz) < 0.02 and abs(k.vu) < 0.1:
        k.u, k.vu = tu, 0.0
        return
    up, dn = s.params["WPNAV_SPEED_UP"] / 100.0, s.params["WPNAV_SPEED_DN"] / 100.0
    vmax = min(up if dz > 0 else dn, math.sqrt(2 * az * abs(dz)) * 0.95, abs(dz) / dt)
    vert_speed(s, math.copysign(vmax, dz), dt)


def vert_speed(s: CopterState, vu: float, dt: float) -> None:
    az = max(0.3, s.params["WPNAV_ACCEL_Z"] / 100.0) * 2.5
    s.kin.vu += max(-az * dt, min(az * dt, vu - s.kin.vu))


def _land_descent(s: CopterState, dt: float) -> None:
    k = s.kin
    if math.hypot(s.nav.n - k.n, s.nav.e - k.e) > 2.0 and k.u > 2.0:  # ArduCopter repositions first
        vert_to(s, k.u, dt)
        return
    low = s.params["LAND_ALT_LOW"] / 100.0
    high = s.params["LAND_SPEED_HIGH"] or s.params["WPNAV_SPEED_DN"]
    rate = (high if k.u > low else s.params["LAND_SPEED"]) / 100.0
    vert_speed(s, -rate, dt)


def stop_on_ground(s: CopterState) -> None:
    k = s.kin
    k.vn = k.ve = k.vu = 0.0
    k.an = k.ae = 0.0
