"""RTL as ArduCopter flies it: climb to RTL_ALT, go to the nearest of home and the rally points,
loiter RTL_LOIT_TIME, then land (or descend to RTL_ALT_FINAL)."""

from __future__ import annotations

import math

from flight.sim.nav import Nav
from flight.sim.state import CopterState


def start(s: CopterState) -> Nav:
    home_u = s.u_of(0.0, 3)
    rtl_u = max(s.kin.u, home_u + s.params["RTL_ALT"] / 100.0)
    if s.params["FENCE_ENABLE"] and int(s.params["FENCE_TYPE"]) & 1:
        rtl_u = min(rtl_u, home_u + s.params["FENCE_ALT_MAX"] - 2.0)
    return Nav("goto", s.kin.n, s.kin.e, rtl_u, stage="climb")


def destination(s: CopterState) -> tuple[float, float]:
    k = s.kin
    best = s.home_ne
    best_d = math.hypot(best[0] - k.n, best[1] - k.e)
    for item in s.missions[2]:
        n, e = s.ne_of(item.x, item.y)
        d = math.hypot(n - k.n, e - k.e)
        if d < best_d:
            best, best_d = (n, e), d
    return best


def advance(s: CopterState, dt: float) -> None:
    """Move ``s.nav`` to the next RTL stage when this one is done."""
    nav, k = s.nav, s.kin
    if nav.stage == "climb" and k.u >= nav.u - 0.5:
        nav.stage = "return"
        nav.n, nav.e = destination(s)
        nav.speed = s.params["RTL_SPEED"] / 100.0
    elif nav.stage == "return" and math.hypot(nav.n - k.n, nav.e - k.e) < 1.0:
        nav.stage, nav.timer = "loiter", s.params["RTL_LOIT_TIME"] / 1000.0
    elif nav.stage == "loiter":
        nav.timer -= dt
        if nav.timer <= 0:
            final = s.params["RTL_ALT_FINAL"] / 100.0
            if final > 0:
                nav.stage, nav.u = "final", s.u_of(final, 3)
            else:
                nav.stage, nav.kind = "land", "land"
