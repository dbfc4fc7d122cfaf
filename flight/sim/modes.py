"""Flight modes: which need a position estimate, which can arm, and entering one."""

from __future__ import annotations

from flight.sim import auto, rtl
from flight.sim.motion import hold_here
from flight.sim.nav import Nav
from flight.sim.state import SEV_WARNING, CopterState
from flight.sim.types import COPTER_MODES

NEEDS_POSITION = frozenset({"GUIDED", "AUTO", "LOITER", "RTL", "BRAKE"})
ARMABLE = frozenset({"STABILIZE", "ALT_HOLD", "GUIDED", "LOITER"})


def armable(s: CopterState) -> bool:
    return s.mode in ARMABLE or (s.mode == "AUTO" and int(s.params["AUTO_OPTIONS"]) & 1 == 1)


def set_mode(s: CopterState, name: str, reason: str = "") -> str | None:
    """Enter mode ``name``; returns why not (a STATUSTEXT line) or None when it changed."""
    if name not in COPTER_MODES:
        return f"Mode change to {name} failed: unknown mode"
    if name in NEEDS_POSITION and not s.ekf_ok:
        return f"Mode change to {name} failed: requires position"
    if name == "AUTO" and (why := auto.can_start(s)):
        return why
    s.mode = name
    s.kin.yaw_target = None
    s.speed_override_m_s = None  # like wp_nav init: each mode starts at WPNAV_SPEED
    if name in ("LOITER", "BRAKE", "GUIDED"):
        s.nav = hold_here(s)
    elif name == "RTL":
        s.nav = rtl.start(s)
    elif name == "LAND":
        s.nav = Nav.land(s.kin.n, s.kin.e)
    elif name == "AUTO":
        auto.start(s)
    else:  # STABILIZE / ALT_HOLD: hold this altitude, no position hold
        s.nav = Nav("none", s.kin.n, s.kin.e, s.kin.u)
    if reason:
        s.text(SEV_WARNING, f"{reason}: {name}")
    return None
