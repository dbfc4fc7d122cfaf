"""Pre-arm checks, arming and disarming, worded as ArduCopter 4.7 words them.

An arming attempt that fails says "Arm: <check>" (STATUSTEXT CRITICAL) for every failing check;
while disarmed the same checks are reported every 30 s of sim time as "PreArm: <check>".
Position checks only apply in a mode that needs a position (GUIDED, AUTO, LOITER, RTL, BRAKE):
without GPS a copter still arms in STABILIZE or ALT_HOLD, as ArduCopter does.
"""

from __future__ import annotations

from flight.sim import actions, auto, modes, power
from flight.sim.fence import breach_of
from flight.sim.motion import stop_on_ground
from flight.sim.nav import Nav
from flight.sim.state import SEV_CRITICAL, SEV_INFO, CopterState

FORCE_MAGIC = 21196  # MAV_CMD_COMPONENT_ARM_DISARM param2: arm/disarm without checks
PREARM_REPORT_S = 30.0


def prearm_failures(s: CopterState) -> list[str]:
    """The failing pre-arm checks (without the "PreArm: "/"Arm: " prefix); empty when ready."""
    if s.booting:
        return ["System not initialised"]
    if not s.params["ARMING_CHECK"]:
        return []
    out: list[str] = []
    if s.mode in modes.NEEDS_POSITION and s.gps_fix < 3:
        out.append("GPS 1: Bad fix")
    elif s.mode in modes.NEEDS_POSITION and not s.ekf_ok:
        out.append("Need Position Estimate")
    if s.params["BATT_ARM_VOLT"] > 0 and s.voltage < s.params["BATT_ARM_VOLT"]:
        out.append("Battery 1 below minimum arming voltage")
    if s.fs.batt_low or power.low(s):
        out += ["Battery 1 low voltage failsafe", "Battery failsafe"]
    if s.fs.gcs:
        out.append("GCS failsafe on")
    if s.params["FENCE_ENABLE"] and breach_of(s, ignore_alt=True):
        out.append("Fence: vehicle outside fence")
    return out


def _mode_failure(s: CopterState) -> str | None:
    if s.mode == "AUTO" and len(s.missions[0]) <= 1:
        return "Mode requires mission"
    if not modes.armable(s):
        return f"{s.mode} mode not armable"
    return None


def report(s: CopterState) -> None:
    """The periodic "PreArm: ..." lines of a disarmed copter that is not ready (every 30 s)."""
    if s.armed or s.t < s.prearm_report_t:
        return
    s.prearm_report_t = s.t + PREARM_REPORT_S
    for failure in prearm_failures(s):
        s.text(SEV_CRITICAL, f"PreArm: {failure}")


def arm(s: CopterState, force: bool = False) -> bool:
    """Arm; a refusal is announced as "Arm: <check>" lines."""
    if s.armed:
        return True
    if not force or s.booting:
        failures = prearm_failures(s)
        if not failures and (mode_failure := _mode_failure(s)):
            failures = [mode_failure]
        if failures:
            for failure in failures:
                s.text(SEV_CRITICAL, f"Arm: {failure}")
            return False
    s.armed = True
    s.armed_landed_s = 0.0
    s.fs.batt_low = s.fs.batt_crit = False
    if s.gps_fix >= 3:
        actions.set_home_here(s)
    s.text(SEV_INFO, "Arming motors")
    return True


def disarm(s: CopterState, force: bool = False) -> bool:
    """Disarm; in the air only with ``force`` (then it is put straight on the ground). A refused
    disarm says nothing, as in ArduCopter."""
    if not s.armed:
        return True
    if not s.landed and not force:
        return False
    s.armed = False
    s.auto_armed = False
    s.nav = Nav()
    if not s.landed:
        s.kin.u, s.landed = 0.0, True
        stop_on_ground(s)
    s.text(SEV_INFO, "Disarming motors")
    auto.on_disarm(s)
    return True
