"""Pre-arm checks and failsafes (battery, GCS link loss, geofence), ArduCopter style."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flight.sim.fence import breach_of

if TYPE_CHECKING:
    from flight.sim.copter import Copter

SEV_CRITICAL, SEV_WARNING, SEV_INFO = 2, 4, 6
NEEDS_POSITION = frozenset({"GUIDED", "AUTO", "LOITER", "RTL", "BRAKE"})


def prearm_failure(c: Copter) -> str | None:
    if not c.params["ARMING_CHECK"]:
        return None
    if c.gps_fix < 3:
        return "PreArm: GPS: No 3D fix"
    if not c.ekf_ok:
        return "PreArm: EKF3 still initialising"
    if c.params["BATT_ARM_VOLT"] > 0 and c.voltage < c.params["BATT_ARM_VOLT"]:
        return f"PreArm: Battery 1 below minimum arming voltage ({c.voltage:.2f}V)"
    if c.batt_fs_done or battery_low(c):
        return "PreArm: Battery 1 low voltage failsafe"
    if c.params["FENCE_ENABLE"] and breach_of(c, ignore_alt=True):
        return "PreArm: Fence: vehicle outside fence"
    return None


def battery_low(c: Copter) -> bool:
    low_v, low_mah = c.params["BATT_LOW_VOLT"], c.params["BATT_LOW_MAH"]
    remaining = c.params["BATT_CAPACITY"] - c.consumed_mah
    return (low_v > 0 and c.voltage < low_v) or (low_mah > 0 and remaining < low_mah)


def battery_critical(c: Copter) -> bool:
    crt_v, crt_mah = c.params["BATT_CRT_VOLT"], c.params["BATT_CRT_MAH"]
    remaining = c.params["BATT_CAPACITY"] - c.consumed_mah
    return (crt_v > 0 and c.voltage < crt_v) or (crt_mah > 0 and remaining < crt_mah)


def check_failsafes(c: Copter, wall_now: float) -> None:
    if not c.armed:
        return
    if not c.batt_fs_done and battery_low(c):
        c.batt_fs_done = True
        c.text(SEV_CRITICAL, f"Battery 1 is low {c.voltage:.2f}V used {c.consumed_mah:.0f} mAh")
        act = int(c.params["BATT_FS_LOW_ACT"])
        failsafe_action(c, "Battery", {1: "LAND", 2: "RTL", 3: "RTL", 4: "RTL"}.get(act))
    if not c.batt_crit_done and battery_critical(c):
        c.batt_crit_done = c.batt_fs_done = True
        c.text(SEV_CRITICAL, f"Battery 1 is critical {c.voltage:.2f}V used {c.consumed_mah:.0f} mAh")
        act = int(c.params["BATT_FS_CRT_ACT"])
        failsafe_action(c, "Battery", {1: "LAND", 2: "RTL", 3: "RTL", 4: "RTL"}.get(act))
    fs_gcs = int(c.params["FS_GCS_ENABLE"])
    if fs_gcs and c.gcs_seen and not c.landed:
        lost = wall_now - c.gcs_last_wall > c.params["FS_GCS_TIMEOUT"]
        if lost and not c.gcs_failsafe:
            c.gcs_failsafe = True
            c.text(SEV_CRITICAL, "GCS Failsafe")
            if not (fs_gcs == 2 and c.mode == "AUTO"):
                failsafe_action(c, "GCS", "LAND" if fs_gcs in (5, 7) else "RTL")
        elif not lost and c.gcs_failsafe:
            c.gcs_failsafe = False
            c.text(SEV_INFO, "GCS Failsafe Cleared")
    if not c.landed and not c.ekf_ok and not c.ekf_failsafe and c.mode in NEEDS_POSITION:
        c.ekf_failsafe = True
        c.text(SEV_CRITICAL, "EKF Failsafe: changed to LAND" if c.params["FS_EKF_ACTION"] != 2 else "EKF Failsafe")
        c.failsafe = "EKF"
        c.set_mode("ALT_HOLD" if c.params["FS_EKF_ACTION"] == 2 else "LAND")
    elif c.ekf_failsafe and c.ekf_ok:
        c.ekf_failsafe = False
        c.text(SEV_INFO, "EKF Failsafe Cleared")
    if c.params["FENCE_ENABLE"] and not c.landed and c.home is not None:
        breach = breach_of(c)
        if breach and not c.fence_breached:
            c.text(SEV_CRITICAL, f"Fence Breached: {breach}")
            act = int(c.params["FENCE_ACTION"])
            failsafe_action(c, "Fence", {1: "RTL", 2: "LAND", 3: "RTL", 4: "BRAKE", 5: "RTL"}.get(act))
        c.fence_breached = 1 if breach else 0


def failsafe_action(c: Copter, what: str, mode: str | None) -> None:
    c.failsafe = what
    if mode is None or c.mode in (mode, "LAND"):
        return
    if c.landed:
        c.disarm(reason=f"{what} failsafe: disarming")
        return
    if mode == "RTL" and not c.ekf_ok:
        mode = "LAND"
    ok, _ = c.set_mode(mode)
    if not ok:
        c.set_mode("LAND")
    c.text(SEV_WARNING, f"{what} failsafe: {c.mode}")
