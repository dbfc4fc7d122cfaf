"""Telemetry message builders and ArduCopter's REQUEST_DATA_STREAM groups."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from types import MappingProxyType

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from flight.sim.arming import prearm_failures
from flight.sim.attitude import camera_pitch, camera_yaw
from flight.sim.failsafe import any_on as failsafe_on
from flight.sim.state import CopterState
from flight.sim.types import COPTER_MODES

M = mavlink
# MAV_DATA_STREAM id -> message ids, as ArduCopter's GCS_Mavlink.cpp groups them.
_GROUPS: dict[int, tuple[int, ...]] = {
    M.MAV_DATA_STREAM_EXTENDED_STATUS: (
        M.MAVLINK_MSG_ID_SYS_STATUS,
        M.MAVLINK_MSG_ID_MISSION_CURRENT,
        M.MAVLINK_MSG_ID_GPS_RAW_INT,
        M.MAVLINK_MSG_ID_NAV_CONTROLLER_OUTPUT,
        M.MAVLINK_MSG_ID_FENCE_STATUS,
    ),
    M.MAV_DATA_STREAM_POSITION: (M.MAVLINK_MSG_ID_GLOBAL_POSITION_INT, M.MAVLINK_MSG_ID_LOCAL_POSITION_NED),
    M.MAV_DATA_STREAM_EXTRA1: (M.MAVLINK_MSG_ID_ATTITUDE,),
    M.MAV_DATA_STREAM_EXTRA2: (M.MAVLINK_MSG_ID_VFR_HUD,),
    M.MAV_DATA_STREAM_EXTRA3: (
        M.MAVLINK_MSG_ID_SYSTEM_TIME,
        M.MAVLINK_MSG_ID_BATTERY_STATUS,
        M.MAVLINK_MSG_ID_EKF_STATUS_REPORT,
        M.MAVLINK_MSG_ID_MOUNT_STATUS,
        M.MAVLINK_MSG_ID_GIMBAL_DEVICE_ATTITUDE_STATUS,
        M.MAVLINK_MSG_ID_EXTENDED_SYS_STATE,
    ),
    M.MAV_DATA_STREAM_RAW_SENSORS: (),
    M.MAV_DATA_STREAM_RC_CHANNELS: (),
}
STREAM_GROUPS: Mapping[int, tuple[int, ...]] = MappingProxyType(
    {**_GROUPS, M.MAV_DATA_STREAM_ALL: tuple(m for g in _GROUPS.values() for m in g)}
)

_EKF_GOOD = (
    M.EKF_ATTITUDE
    | M.EKF_VELOCITY_HORIZ
    | M.EKF_VELOCITY_VERT
    | M.EKF_POS_HORIZ_REL
    | M.EKF_POS_HORIZ_ABS
    | M.EKF_POS_VERT_ABS
    | M.EKF_PRED_POS_HORIZ_REL
    | M.EKF_PRED_POS_HORIZ_ABS
)
_EKF_WAIT = M.EKF_ATTITUDE | M.EKF_VELOCITY_VERT | M.EKF_POS_VERT_ABS | M.EKF_CONST_POS_MODE
_SENSORS = (
    M.MAV_SYS_STATUS_SENSOR_3D_GYRO
    | M.MAV_SYS_STATUS_SENSOR_3D_ACCEL
    | M.MAV_SYS_STATUS_SENSOR_3D_MAG
    | M.MAV_SYS_STATUS_SENSOR_ABSOLUTE_PRESSURE
    | M.MAV_SYS_STATUS_SENSOR_GPS
    | M.MAV_SYS_STATUS_SENSOR_ANGULAR_RATE_CONTROL
    | M.MAV_SYS_STATUS_SENSOR_ATTITUDE_STABILIZATION
    | M.MAV_SYS_STATUS_SENSOR_YAW_POSITION
    | M.MAV_SYS_STATUS_SENSOR_Z_ALTITUDE_CONTROL
    | M.MAV_SYS_STATUS_SENSOR_XY_POSITION_CONTROL
    | M.MAV_SYS_STATUS_SENSOR_MOTOR_OUTPUTS
    | M.MAV_SYS_STATUS_SENSOR_BATTERY
    | M.MAV_SYS_STATUS_AHRS
    | M.MAV_SYS_STATUS_PREARM_CHECK
)
_FENCE_BIT = M.MAV_SYS_STATUS_GEOFENCE


def heartbeat(s: CopterState) -> M.MAVLink_message:
    base = M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | M.MAV_MODE_FLAG_STABILIZE_ENABLED
    if s.mode in ("GUIDED", "AUTO", "RTL", "LOITER", "LAND", "BRAKE"):
        base |= M.MAV_MODE_FLAG_GUIDED_ENABLED
    if s.mode == "AUTO":
        base |= M.MAV_MODE_FLAG_AUTO_ENABLED
    if s.armed:
        base |= M.MAV_MODE_FLAG_SAFETY_ARMED
    if s.booting:
        state = M.MAV_STATE_BOOT
    elif failsafe_on(s):
        state = M.MAV_STATE_CRITICAL
    elif s.armed and not s.landed:  # ArduCopter: armed on the ground is still STANDBY
        state = M.MAV_STATE_ACTIVE
    else:
        state = M.MAV_STATE_STANDBY
    return M.MAVLink_heartbeat_message(
        M.MAV_TYPE_QUADROTOR, M.MAV_AUTOPILOT_ARDUPILOTMEGA, base, COPTER_MODES[s.mode], state, 3
    )


def home_position(s: CopterState) -> M.MAVLink_message | None:
    if s.home is None:
        return None
    lat, lon, alt = s.home
    hn, he = s.home_ne
    return M.MAVLink_home_position_message(
        round(lat * 1e7),
        round(lon * 1e7),
        round(alt * 1000),
        hn,
        he,
        s.origin[2] - alt,
        [1.0, 0.0, 0.0, 0.0],
        0,
        0,
        0,
        int(s.t * 1e6),
    )


def mission_current(s: CopterState) -> M.MAVLink_message:
    """As ArduCopter 4.7: total excludes home, state follows AP_Mission, mission_mode 1 in AUTO else 0."""
    a = s.auto
    n = len(s.missions[0])
    if n <= 1:
        state = M.MISSION_STATE_NO_MISSION
    elif a.state == "complete":
        state = M.MISSION_STATE_COMPLETE
    elif a.state == "running":
        state = M.MISSION_STATE_PAUSED if a.paused else M.MISSION_STATE_ACTIVE
    else:
        state = M.MISSION_STATE_NOT_STARTED
    return M.MAVLink_mission_current_message(a.current, max(0, n - 1), state, 1 if s.mode == "AUTO" else 0)


def _q_from_euler(roll: float, pitch: float, yaw: float) -> list[float]:
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return [
        cr * cp * cy + sr * sp * sy,
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
    ]


def build(msgid: int, s: CopterState, target: tuple[int, int]) -> M.MAVLink_message | None:
    """One telemetry message about copter ``s`` (None when it has nothing to say)."""
    ms = int(s.t * 1000)
    lat, lon = s.latlon
    lat_i, lon_i = round(lat * 1e7), round(lon * 1e7)
    if msgid == M.MAVLINK_MSG_ID_GLOBAL_POSITION_INT:
        return M.MAVLink_global_position_int_message(
            ms,
            lat_i,
            lon_i,
            round(s.alt_amsl * 1000),
            round(s.alt_rel * 1000),
            round(s.kin.vn * 100),
            round(s.kin.ve * 100),
            round(-s.kin.vu * 100),
            round(s.kin.yaw * 100) % 36000,
        )
    if msgid == M.MAVLINK_MSG_ID_ATTITUDE:
        return M.MAVLink_attitude_message(
            ms,
            math.radians(s.kin.roll),
            math.radians(s.kin.pitch),
            math.radians(((s.kin.yaw + 180) % 360) - 180),
            0.0,
            0.0,
            0.0,
        )
    if msgid == M.MAVLINK_MSG_ID_VFR_HUD:
        gs = math.hypot(s.kin.vn, s.kin.ve)
        thr = 0 if not s.armed else (10 if s.landed else min(100, 38 + int(gs * 2 + max(s.kin.vu, 0) * 5)))
        return M.MAVLink_vfr_hud_message(gs, gs, round(s.kin.yaw) % 360, thr, s.alt_amsl, s.kin.vu)
    if msgid == M.MAVLINK_MSG_ID_SYS_STATUS:
        fence = _FENCE_BIT if s.params["FENCE_ENABLE"] else 0
        health = _SENSORS if s.gps_fix >= 3 else _SENSORS & ~M.MAV_SYS_STATUS_SENSOR_GPS
        if prearm_failures(s):
            health &= ~M.MAV_SYS_STATUS_PREARM_CHECK
        if s.fs.fence_breached:
            health &= ~_FENCE_BIT
        else:
            health |= fence
        return M.MAVLink_sys_status_message(
            _SENSORS | fence,
            _SENSORS | fence,
            health,
            250,
            round(s.voltage * 1000),
            round(s.power.current_a * 100),
            round(s.battery_pct),
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        )
    if msgid == M.MAVLINK_MSG_ID_GPS_RAW_INT:
        fix = s.gps_fix
        sats = 10 if fix >= 3 else (4 if fix else 0)
        return M.MAVLink_gps_raw_int_message(
            int(s.t * 1e6),
            fix,
            lat_i if fix >= 2 else 0,
            lon_i if fix >= 2 else 0,
            round(s.alt_amsl * 1000),
            121 if fix >= 3 else 9999,
            200 if fix >= 3 else 9999,
            round(math.hypot(s.kin.vn, s.kin.ve) * 100),
            round(math.degrees(math.atan2(s.kin.ve, s.kin.vn)) * 100) % 36000,
            sats,
        )
    if msgid == M.MAVLINK_MSG_ID_BATTERY_STATUS:
        cells = [round(s.voltage * 250)] * 4 + [65535] * 6
        return M.MAVLink_battery_status_message(
            0,
            M.MAV_BATTERY_FUNCTION_ALL,
            M.MAV_BATTERY_TYPE_LIPO,
            3000,
            cells,
            round(s.power.current_a * 100),
            round(s.power.consumed_mah),
            -1,
            round(s.battery_pct),
        )
    if msgid == M.MAVLINK_MSG_ID_EKF_STATUS_REPORT:
        return M.MAVLink_ekf_status_report_message(_EKF_GOOD if s.ekf_ok else _EKF_WAIT, 0.02, 0.03, 0.02, 0.01, 0.0)
    if msgid == M.MAVLINK_MSG_ID_MISSION_CURRENT:
        return mission_current(s)
    if msgid == M.MAVLINK_MSG_ID_HOME_POSITION:
        return home_position(s)
    if msgid == M.MAVLINK_MSG_ID_SYSTEM_TIME:
        return M.MAVLink_system_time_message(int(time.time() * 1e6), ms)
    if msgid == M.MAVLINK_MSG_ID_LOCAL_POSITION_NED:
        return M.MAVLink_local_position_ned_message(ms, s.kin.n, s.kin.e, -s.kin.u, s.kin.vn, s.kin.ve, -s.kin.vu)
    if msgid == M.MAVLINK_MSG_ID_NAV_CONTROLLER_OUTPUT:
        dn, de = s.nav.n - s.kin.n, s.nav.e - s.kin.e
        brg = round(math.degrees(math.atan2(de, dn))) if s.nav.kind != "none" else 0
        return M.MAVLink_nav_controller_output_message(
            s.kin.roll,
            s.kin.pitch,
            brg,
            brg,
            min(65535, round(math.hypot(dn, de))),
            s.nav.u - s.kin.u if s.nav.kind != "none" else 0.0,
            0.0,
            0.0,
        )
    if msgid == M.MAVLINK_MSG_ID_FENCE_STATUS:
        if not s.params["FENCE_ENABLE"]:
            return None
        return M.MAVLink_fence_status_message(s.fs.fence_breached, 0, 0, 0)
    if msgid == M.MAVLINK_MSG_ID_MOUNT_STATUS:
        yaw_body = ((camera_yaw(s) - s.kin.yaw + 180) % 360) - 180
        return M.MAVLink_mount_status_message(
            target[0],
            target[1],
            round(camera_pitch(s) * 100),
            0,
            round(yaw_body * 100),
            M.MAV_MOUNT_MODE_MAVLINK_TARGETING,
        )
    if msgid == M.MAVLINK_MSG_ID_GIMBAL_DEVICE_ATTITUDE_STATUS:
        q = _q_from_euler(0.0, math.radians(camera_pitch(s)), math.radians(camera_yaw(s)))
        flags = (
            M.GIMBAL_DEVICE_FLAGS_ROLL_LOCK
            | M.GIMBAL_DEVICE_FLAGS_PITCH_LOCK
            | M.GIMBAL_DEVICE_FLAGS_YAW_IN_EARTH_FRAME
        )
        return M.MAVLink_gimbal_device_attitude_status_message(
            target[0], target[1], ms, flags, q, 0.0, 0.0, 0.0, 0, math.radians(s.kin.yaw), 0.0, 1
        )
    if msgid == M.MAVLINK_MSG_ID_EXTENDED_SYS_STATE:
        if s.landed:
            state = M.MAV_LANDED_STATE_ON_GROUND
        elif s.kin.vu > 0.3 and s.kin.u < 5:
            state = M.MAV_LANDED_STATE_TAKEOFF
        elif s.nav.kind == "land":
            state = M.MAV_LANDED_STATE_LANDING
        else:
            state = M.MAV_LANDED_STATE_IN_AIR
        return M.MAVLink_extended_sys_state_message(M.MAV_VTOL_STATE_UNDEFINED, state)
    if msgid == M.MAVLINK_MSG_ID_AUTOPILOT_VERSION:
        caps = (
            M.MAV_PROTOCOL_CAPABILITY_MISSION_FLOAT
            | M.MAV_PROTOCOL_CAPABILITY_PARAM_FLOAT
            | M.MAV_PROTOCOL_CAPABILITY_MISSION_INT
            | M.MAV_PROTOCOL_CAPABILITY_COMMAND_INT
            | M.MAV_PROTOCOL_CAPABILITY_SET_POSITION_TARGET_GLOBAL_INT
            | M.MAV_PROTOCOL_CAPABILITY_MAVLINK2
            | M.MAV_PROTOCOL_CAPABILITY_MISSION_FENCE
            | M.MAV_PROTOCOL_CAPABILITY_MISSION_RALLY
        )
        version = (4 << 24) | (5 << 16) | (7 << 8) | 255  # 4.5.7 official
        return M.MAVLink_autopilot_version_message(
            caps, version, 0, 0, 0, [0] * 8, [0] * 8, [0] * 8, 0x1209, 0x5740, s.sysid, [0] * 18
        )
    return None
