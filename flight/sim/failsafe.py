"""Failsafes (battery, GCS link loss, EKF/GPS loss, geofence): STATUSTEXT as ArduCopter words it,
HEARTBEAT system_status CRITICAL while one is on (``telemetry``), and the configured action."""

from __future__ import annotations

from flight.sim import arming, modes, power
from flight.sim.fence import breach_of
from flight.sim.state import SEV_CRITICAL, SEV_INFO, SEV_WARNING, CopterState

_BATT_ACTIONS = {1: "LAND", 2: "RTL", 3: "RTL", 4: "RTL"}
_FENCE_ACTIONS = {1: "RTL", 2: "LAND", 3: "RTL", 4: "BRAKE", 5: "RTL"}


def check(s: CopterState, wall_now: float) -> None:
    _gcs(s, wall_now)
    if not s.armed:
        return
    _battery(s)
    _ekf(s)
    _fence(s)


def any_on(s: CopterState) -> bool:
    return s.fs.batt_low or s.fs.gcs or s.fs.ekf


def _battery(s: CopterState) -> None:
    fs, used = s.fs, s.power.consumed_mah
    if not fs.batt_low and power.low(s):
        fs.batt_low = True
        s.text(SEV_WARNING, f"Battery 1 is low {s.voltage:.2f}V used {used:.0f} mAh")
        act(s, "Battery", _BATT_ACTIONS.get(int(s.params["BATT_FS_LOW_ACT"])))
    if not fs.batt_crit and power.critical(s):
        fs.batt_crit = fs.batt_low = True
        s.text(SEV_WARNING, f"Battery 1 is critical {s.voltage:.2f}V used {used:.0f} mAh")
        act(s, "Battery", _BATT_ACTIONS.get(int(s.params["BATT_FS_CRT_ACT"])))


def _gcs(s: CopterState, wall_now: float) -> None:
    """Link loss (wall clock, see README): announced armed or not, acted on only when armed."""
    fs_gcs = int(s.params["FS_GCS_ENABLE"])
    if not (fs_gcs and s.gcs.seen):
        return
    lost = wall_now - s.gcs.last_wall > s.params["FS_GCS_TIMEOUT"]
    if lost and not s.fs.gcs:
        s.fs.gcs = True
        if not s.armed:
            s.text(SEV_WARNING, "GCS Failsafe")
        elif not (fs_gcs == 2 and s.mode == "AUTO"):
            act(s, "GCS", "LAND" if fs_gcs in (5, 7) else "RTL")
        else:
            s.text(SEV_WARNING, "GCS Failsafe")
    elif not lost and s.fs.gcs:
        s.fs.gcs = False
        s.text(SEV_WARNING, "GCS Failsafe Cleared")


def _ekf(s: CopterState) -> None:
    if not s.landed and not s.ekf_ok and not s.fs.ekf and s.mode in modes.NEEDS_POSITION:
        s.fs.ekf = True
        alt_hold = s.params["FS_EKF_ACTION"] == 2
        s.text(SEV_CRITICAL, "EKF Failsafe" if alt_hold else "EKF Failsafe: changed to LAND")
        s.fs.active = "EKF"
        modes.set_mode(s, "ALT_HOLD" if alt_hold else "LAND")
    elif s.fs.ekf and s.ekf_ok:
        s.fs.ekf = False
        s.text(SEV_INFO, "EKF Failsafe Cleared")


def _fence(s: CopterState) -> None:
    if not s.params["FENCE_ENABLE"] or s.landed or s.home is None:
        return
    breach = breach_of(s)
    if breach and not s.fs.fence_breached:
        s.text(SEV_CRITICAL, f"Fence Breached: {breach}")
        act(s, "Fence", _FENCE_ACTIONS.get(int(s.params["FENCE_ACTION"])), announce=False)
    s.fs.fence_breached = 1 if breach else 0


def act(s: CopterState, what: str, mode: str | None, announce: bool = True) -> None:
    """Take a failsafe's action: on the ground disarm ("<what> Failsafe - Disarming"), in the air
    switch to ``mode`` (LAND if that fails); announced as "<what> Failsafe"."""
    s.fs.active = what
    if mode is not None and s.armed and s.landed:
        arming.disarm(s)
        s.text(SEV_WARNING, f"{what} Failsafe - Disarming")
        return
    if announce:
        s.text(SEV_WARNING, f"{what} Failsafe")
    if mode is None or s.mode in (mode, "LAND"):
        return
    if mode == "RTL" and not s.ekf_ok:
        mode = "LAND"
    if not modes.set_mode(s, mode):
        modes.set_mode(s, "LAND")
