"""Attitude of the simulated copter: tilt from acceleration and wind, yaw towards ROI/course."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from flight.sim import geo

if TYPE_CHECKING:
    from flight.sim.copter import Copter

G = 9.80665


def update(c: Copter, dt: float) -> None:
    """Roll/pitch from acceleration and drag against the wind; yaw slews to the wanted heading."""
    wn, we = c.wind
    drag = 0.12
    fn = c.an + drag * (c.vn - wn) if c.armed and not c.landed else 0.0
    fe = c.ae + drag * (c.ve - we) if c.armed and not c.landed else 0.0
    y = math.radians(c.yaw)
    fwd = fn * math.cos(y) + fe * math.sin(y)
    right = -fn * math.sin(y) + fe * math.cos(y)
    k = min(1.0, dt * 8)
    c.pitch += (-math.degrees(math.atan2(fwd, G)) - c.pitch) * k
    c.roll += (math.degrees(math.atan2(right, G)) - c.roll) * k
    want = _yaw_wanted(c)
    if want is not None and c.armed and not c.landed:
        rate = c.params["ATC_SLEW_YAW"] / 100.0 * dt
        c.yaw = geo.wrap_360(c.yaw + max(-rate, min(rate, geo.wrap_180(want - c.yaw))))


def _yaw_wanted(c: Copter) -> float | None:
    if c.roi is not None:
        dn, de = c.roi[0] - c.n, c.roi[1] - c.e
        if math.hypot(dn, de) > 1.0:
            return math.degrees(math.atan2(de, dn))
    if c.yaw_target is not None:
        return c.yaw_target
    behaviour = int(c.params["WP_YAW_BEHAVIOR"])  # 0 never, 1 always, 2 not in RTL, 3 GPS course
    in_rtl = c.mode == "RTL" or c.nav.stage != ""
    if (
        c.mode in ("AUTO", "GUIDED", "RTL")
        and behaviour
        and not (in_rtl and behaviour == 2)
        and (math.hypot(c.vn, c.ve) > 1.0)
    ):
        return math.degrees(math.atan2(c.ve, c.vn))
    return None
