"""Flight modes: which need a position estimate, which can arm, and entering one (ArduCopter's rules:
disarmed, any mode is accepted and the arming checks catch the rest; armed, a mode that needs a
position needs a good EKF)."""

from __future__ import annotations

from flight.sim import auto, rtl
from flight.sim.motion import hold_here
from flight.sim.nav import Nav
from flight.sim.state import SEV_CRITICAL, SEV_WARNING, CopterState
from flight.sim.types import COPTER_MODES

NEEDS_POSITION = frozenset({"GUIDED", "AUTO", "LOITER", "RTL", "BRAKE"})
ARMABLE = frozenset({"STABILIZE", "ALT_HOLD", "GUIDED", "LOITER"})


def armable(s: CopterState) -> bool:
    return s.mode in ARMABLE or (s.mode == "AUTO" and int(s.params["AUTO_OPTIONS"]) & 1 == 1)


def set_mode(s: CopterState, name: str) -> bool:
    """Enter mode ``name``; a refusal is announced (STATUSTEXT) as ArduCopter words it."""
    if name not in COPTER_MODES:
        s.text(SEV_WARNING, f"Mode change to {name} failed: unknown mode")
        return False
    if s.armed and name in NEEDS_POSITION and not s.ekf_ok:
        s.text(SEV_WARNING, f"Mode change to {name} failed: requires position")
        return False
    if name == "AUTO" and (why := auto.can_start(s)):
        s.text(SEV_CRITICAL, why)
        return False
    if s.mode == "AUTO" and name != "AUTO":
        auto.leave(s)
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
        if not s.landed:
            s.nav = hold_here(s)
        auto.enter(s)
    else:  # STABILIZE / ALT_HOLD: hold this altitude, no position hold
        s.nav = Nav("none", s.kin.n, s.kin.e, s.kin.u)
    return True
