"""Pre-arm checks, arming and disarming, ArduCopter style."""

from __future__ import annotations

from flight.sim import actions, modes, power
from flight.sim.fence import breach_of
from flight.sim.motion import stop_on_ground
from flight.sim.nav import Nav
from flight.sim.state import SEV_INFO, CopterState

FORCE_MAGIC = 21196  # MAV_CMD_COMPONENT_ARM_DISARM param2: arm/disarm without checks


def prearm_failure(s: CopterState) -> str | None:
    """The first failing pre-arm check as ArduCopter words it, or None."""
    if not s.params["ARMING_CHECK"]:
        return None
    if s.gps_fix < 3:
        return "PreArm: GPS: No 3D fix"
    if not s.ekf_ok:
        return "PreArm: EKF3 still initialising"
    if s.params["BATT_ARM_VOLT"] > 0 and s.voltage < s.params["BATT_ARM_VOLT"]:
        return f"PreArm: Battery 1 below minimum arming voltage ({s.voltage:.2f}V)"
    if s.fs.batt_low or power.low(s):
        return "PreArm: Battery 1 low voltage failsafe"
    if s.params["FENCE_ENABLE"] and breach_of(s, ignore_alt=True):
        return "PreArm: Fence: vehicle outside fence"
    return None


def arm(s: CopterState, force: bool = False) -> str | None:
    """Arm; returns why not (a STATUSTEXT line) or None when armed."""
    if s.armed:
        return None
    if not force:
        failure = prearm_failure(s)
        if failure:
            return failure
        if not modes.armable(s):
            return "Arm: Mode not armable"
    s.armed = True
    s.armed_landed_s = 0.0
    s.fs.batt_low = s.fs.batt_crit = False
    if s.gps_fix >= 3:
        actions.set_home_here(s)
    s.text(SEV_INFO, "Arming motors")
    return None


def disarm(s: CopterState, force: bool = False, reason: str = "Disarming motors") -> str | None:
    """Disarm; in the air only with ``force`` (then it is put straight on the ground)."""
    if not s.armed:
        return None
    if not s.landed and not force:
        return "Disarm: vehicle is flying"
    s.armed = False
    s.nav = Nav()
    if not s.landed:
        s.kin.u, s.landed = 0.0, True
        stop_on_ground(s)
    s.text(SEV_INFO, reason)
    return None
