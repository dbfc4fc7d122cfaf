"""``Nav``: what the position controller is flying to now (pure data, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Nav:
    """One target for the position controller, owned by one ``CopterState``.

    ``kind``: "none" (no position hold: STABILIZE/ALT_HOLD), "goto", "takeoff", "land" or
    "velocity". ``stage`` is the RTL phase ("climb", "return", "loiter", "final", "land"; "" when
    not returning). ``n``/``e``/``u`` are metres north/east/up of the copter's origin.
    """

    kind: str = "none"
    n: float = 0.0
    e: float = 0.0
    u: float = 0.0
    speed: float = 0.0  # m/s; 0 = the vehicle's waypoint speed
    vn: float = 0.0
    ve: float = 0.0
    vu: float = 0.0
    until: float = 0.0  # sim time a velocity command lapses
    stage: str = ""
    timer: float = 0.0
    pass_through: bool = False  # fly through the point without stopping (consecutive waypoints)

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
        return cls("velocity", vn=vn, ve=ve, vu=vu, until=until)
