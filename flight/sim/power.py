"""Battery: current from hover + speed² + climb, and ArduPilot's low/critical thresholds."""

from __future__ import annotations

import math

from flight.sim.state import CopterState


def update(s: CopterState, dt: float) -> None:
    k, p = s.kin, s.power
    if not s.armed:
        p.current_a = 0.4
    elif s.landed:
        p.current_a = 3.0
    else:
        wn, we = s.wind
        sp = math.hypot(k.vn - wn, k.ve - we)
        p.current_a = 14.0 + 0.06 * sp * sp + 6.0 * max(k.vu, 0.0)
    p.consumed_mah += p.current_a * dt / 3.6


def remaining_mah(s: CopterState) -> float:
    return s.params["BATT_CAPACITY"] - s.power.consumed_mah


def low(s: CopterState) -> bool:
    low_v, low_mah = s.params["BATT_LOW_VOLT"], s.params["BATT_LOW_MAH"]
    return (low_v > 0 and s.voltage < low_v) or (low_mah > 0 and remaining_mah(s) < low_mah)


def critical(s: CopterState) -> bool:
    crt_v, crt_mah = s.params["BATT_CRT_VOLT"], s.params["BATT_CRT_MAH"]
    return (crt_v > 0 and s.voltage < crt_v) or (crt_mah > 0 and remaining_mah(s) < crt_mah)
