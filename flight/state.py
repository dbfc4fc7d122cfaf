"""MAVLink message -> ``VehicleState`` reducer, and the per-link hub that publishes snapshots.

The reducer is a pure function of (previous snapshot, message, now). The hub keeps the latest
snapshot per sysid (swapped whole under a short lock), counts versions for
``changed_since_last_poll`` and fans snapshots out to subscribers without ever blocking the link's
reader thread: callbacks run inline and must be quick (exceptions are logged and counted), queue
subscribers get a bounded queue that drops the oldest snapshot when full.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flight._mav import enum_name, mavlink
from flight.modes import mode_name
from flight.types import VehicleState

log = logging.getLogger(__name__)

STATUSTEXT_KEEP = 20
_NOT_VEHICLES = {
    mavlink.MAV_TYPE_GCS, mavlink.MAV_TYPE_ONBOARD_CONTROLLER, mavlink.MAV_TYPE_GIMBAL,
    mavlink.MAV_TYPE_ADSB, mavlink.MAV_TYPE_CAMERA, mavlink.MAV_TYPE_ANTENNA_TRACKER,
}  # fmt: skip
_COPTERS = {mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_TYPE_HEXAROTOR, mavlink.MAV_TYPE_OCTOROTOR,
            mavlink.MAV_TYPE_TRICOPTER, mavlink.MAV_TYPE_COAXIAL, mavlink.MAV_TYPE_HELICOPTER,
            mavlink.MAV_TYPE_DODECAROTOR, mavlink.MAV_TYPE_DECAROTOR}  # fmt: skip
# ArduPilot EKF_STATUS_REPORT flags needed to fly a mission (attitude, horiz vel, abs horiz + vert pos).
_EKF_NEEDED = 1 | 2 | 16 | 8
_EKF_UNINITIALIZED = 1024
_EKF_CONST_POS_MODE = 128
_PX4_EST_NEEDED = 1 | 2 | 16 | 8  # ESTIMATOR_STATUS flags, same bit layout for these
_PREARM_BIT = 0x10000000  # MAV_SYS_STATUS_PREARM_CHECK


def is_vehicle_heartbeat(msg: Any) -> bool:
    """A HEARTBEAT from an autopilot (not a GCS, camera, gimbal or companion computer)."""
    return msg.type not in _NOT_VEHICLES and msg.autopilot != mavlink.MAV_AUTOPILOT_INVALID


def _autopilot(code: int) -> str:
    if code == mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA:
        return "ardupilot"
    if code == mavlink.MAV_AUTOPILOT_PX4:
        return "px4"
    return "unknown"


def _vehicle_type(code: int) -> str:
    if code in _COPTERS:
        return "copter"
    if code == mavlink.MAV_TYPE_FIXED_WING:
        return "plane"
    if code in (mavlink.MAV_TYPE_GROUND_ROVER, mavlink.MAV_TYPE_SURFACE_BOAT):
        return "rover"
    if code == mavlink.MAV_TYPE_SUBMARINE:
        return "sub"
    return enum_name("MAV_TYPE", code).lower()


def reduce(state: VehicleState, msg: Any, now_mono: float) -> VehicleState:
    """Return the snapshot after ``msg`` (a pymavlink message from ``state.sysid``)."""
    t = msg.get_type()
    if t == "HEARTBEAT":
        ap = _autopilot(msg.autopilot)
        return replace(
            state,
            compid=msg.get_srcComponent(),
            autopilot=ap,
            vehicle_type=_vehicle_type(msg.type),
            mode=mode_name(ap, msg.custom_mode),
            custom_mode=msg.custom_mode,
            base_mode=msg.base_mode,
            armed=bool(msg.base_mode & mavlink.MAV_MODE_FLAG_SAFETY_ARMED),
            system_status=enum_name("MAV_STATE", msg.system_status),
            link_ok=True,
            last_heard_mono=now_mono,
            heartbeat_count=state.heartbeat_count + 1,
        )
    fn = _REDUCERS.get(t)
    if fn is None:
        return state
    return fn(state, msg)


def _global_position_int(s: VehicleState, m: Any) -> VehicleState:
    gs = math.hypot(m.vx, m.vy) / 100.0
    return replace(s, lat_deg=m.lat / 1e7, lon_deg=m.lon / 1e7, alt_amsl_m=m.alt / 1000.0,
                   alt_rel_m=m.relative_alt / 1000.0,
                   heading_deg=m.hdg / 100.0 if m.hdg != 65535 else s.heading_deg,
                   groundspeed_m_s=gs, climb_m_s=-m.vz / 100.0)  # fmt: skip


def _attitude(s: VehicleState, m: Any) -> VehicleState:
    heading = s.heading_deg if s.heading_deg is not None else math.degrees(m.yaw) % 360.0
    return replace(s, roll_deg=math.degrees(m.roll), pitch_deg=math.degrees(m.pitch), heading_deg=heading)


def _vfr_hud(s: VehicleState, m: Any) -> VehicleState:
    return replace(s, groundspeed_m_s=float(m.groundspeed), airspeed_m_s=float(m.airspeed),
                   climb_m_s=float(m.climb), heading_deg=float(m.heading))  # fmt: skip


def _sys_status(s: VehicleState, m: Any) -> VehicleState:
    prearm = s.prearm_ok
    if m.onboard_control_sensors_present & _PREARM_BIT:
        prearm = bool(m.onboard_control_sensors_health & _PREARM_BIT)
    return replace(
        s,
        battery_pct=float(m.battery_remaining) if m.battery_remaining >= 0 else s.battery_pct,
        battery_v=m.voltage_battery / 1000.0 if m.voltage_battery not in (0, 65535) else s.battery_v,
        battery_a=m.current_battery / 100.0 if m.current_battery >= 0 else s.battery_a,
        prearm_ok=prearm,
    )


def _battery_status(s: VehicleState, m: Any) -> VehicleState:
    if m.id != 0 or m.battery_remaining < 0:
        return s
    return replace(s, battery_pct=float(m.battery_remaining))


def _gps_raw_int(s: VehicleState, m: Any) -> VehicleState:
    hdop = m.eph / 100.0 if m.eph != 65535 else None
    sats = m.satellites_visible if m.satellites_visible != 255 else 0
    return replace(s, gps_fix=int(m.fix_type), gps_sats=int(sats), gps_hdop=hdop)


def _ekf_status_report(s: VehicleState, m: Any) -> VehicleState:
    ok = (m.flags & _EKF_NEEDED) == _EKF_NEEDED and not (m.flags & (_EKF_UNINITIALIZED | _EKF_CONST_POS_MODE))
    return replace(s, ekf_ok=ok)


def _estimator_status(s: VehicleState, m: Any) -> VehicleState:
    return replace(s, ekf_ok=(m.flags & _PX4_EST_NEEDED) == _PX4_EST_NEEDED)


def _home_position(s: VehicleState, m: Any) -> VehicleState:
    return replace(s, home_lat_deg=m.latitude / 1e7, home_lon_deg=m.longitude / 1e7,
                   home_alt_amsl_m=m.altitude / 1000.0)  # fmt: skip


def _mission_current(s: VehicleState, m: Any) -> VehicleState:
    total = getattr(m, "total", 0)
    return replace(s, mission_seq=int(m.seq), mission_total=int(total) if total and total != 65535 else s.mission_total)


def _mission_item_reached(s: VehicleState, m: Any) -> VehicleState:
    return replace(s, mission_reached_seq=int(m.seq))


def _statustext(s: VehicleState, m: Any) -> VehicleState:
    text = m.text if isinstance(m.text, str) else bytes(m.text).decode("utf-8", "replace")
    text = text.rstrip("\x00").strip()
    return replace(s, statustexts=(*s.statustexts, text)[-STATUSTEXT_KEEP:])


def _extended_sys_state(s: VehicleState, m: Any) -> VehicleState:
    return replace(s, landed_state=enum_name("MAV_LANDED_STATE", m.landed_state))


def _mount_status(s: VehicleState, m: Any) -> VehicleState:
    return replace(s, gimbal_pitch_deg=m.pointing_a / 100.0, gimbal_yaw_deg=m.pointing_c / 100.0)


def _gimbal_device_attitude_status(s: VehicleState, m: Any) -> VehicleState:
    w, x, y, z = m.q
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x)))))
    yaw = math.degrees(math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))
    return replace(s, gimbal_pitch_deg=pitch, gimbal_yaw_deg=yaw)


_REDUCERS: dict[str, Callable[[VehicleState, Any], VehicleState]] = {
    "GLOBAL_POSITION_INT": _global_position_int,
    "ATTITUDE": _attitude,
    "VFR_HUD": _vfr_hud,
    "SYS_STATUS": _sys_status,
    "BATTERY_STATUS": _battery_status,
    "GPS_RAW_INT": _gps_raw_int,
    "EKF_STATUS_REPORT": _ekf_status_report,
    "ESTIMATOR_STATUS": _estimator_status,
    "HOME_POSITION": _home_position,
    "MISSION_CURRENT": _mission_current,
    "MISSION_ITEM_REACHED": _mission_item_reached,
    "STATUSTEXT": _statustext,
    "EXTENDED_SYS_STATE": _extended_sys_state,
    "MOUNT_STATUS": _mount_status,
    "GIMBAL_DEVICE_ATTITUDE_STATUS": _gimbal_device_attitude_status,
}
STATE_MESSAGES = frozenset(_REDUCERS) | {"HEARTBEAT"}


class Subscription:
    """Handle from ``StateHub.subscribe*``; ``close()`` (or ``with``) stops delivery."""

    def __init__(self, hub: StateHub, callback: Callable[[VehicleState], None], queue: SnapshotQueue | None):
        self._hub, self.callback, self.queue = hub, callback, queue
        self.errors = 0

    def get(self, timeout_s: float | None = None) -> VehicleState | None:
        """Next snapshot from a queue subscription (None on timeout)."""
        if self.queue is None:
            raise TypeError("get() is for subscribe_queue() subscriptions")
        return self.queue.get(timeout_s)

    def close(self) -> None:
        self._hub._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SnapshotQueue:
    """Bounded queue that drops the oldest item instead of blocking the producer."""

    def __init__(self, maxsize: int) -> None:
        self._items: deque[VehicleState] = deque(maxlen=maxsize)
        self._cond = threading.Condition()
        self.dropped = 0

    def put(self, item: VehicleState) -> None:
        with self._cond:
            if len(self._items) == self._items.maxlen:
                self.dropped += 1
            self._items.append(item)
            self._cond.notify()

    def get(self, timeout_s: float | None = None) -> VehicleState | None:
        with self._cond:
            if not self._cond.wait_for(lambda: self._items, timeout_s):
                return None
            return self._items.popleft()


class StateHub:
    """Latest snapshot per sysid, versions for polling, and non-blocking fan-out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[int, VehicleState] = {}
        self._versions: dict[int, int] = {}
        self._subs: list[Subscription] = []
        self.callback_errors = 0

    def get(self, sysid: int) -> VehicleState | None:
        return self._states.get(sysid)

    def all(self) -> dict[int, VehicleState]:
        with self._lock:
            return dict(self._states)

    def versions(self) -> dict[int, int]:
        with self._lock:
            return dict(self._versions)

    def publish(self, state: VehicleState) -> None:
        with self._lock:
            self._states[state.sysid] = state
            self._versions[state.sysid] = self._versions.get(state.sysid, 0) + 1
            subs = list(self._subs)
        for sub in subs:
            try:
                sub.callback(state)
            except Exception:  # a subscriber bug must not kill the reader
                self.callback_errors += 1
                sub.errors += 1
                if sub.errors == 1:  # once per subscriber, not 10 times a second
                    log.exception("state subscriber %r raised; continuing (further errors counted only)", sub.callback)

    def subscribe(self, callback: Callable[[VehicleState], None]) -> Subscription:
        """``callback(snapshot)`` on the reader thread for every change. Keep it short."""
        sub = Subscription(self, callback, None)
        with self._lock:
            self._subs.append(sub)
        return sub

    def subscribe_queue(self, maxsize: int = 64) -> Subscription:
        """Snapshots into a bounded drop-oldest queue; read them with ``sub.get(timeout_s)``."""
        q = SnapshotQueue(maxsize)
        sub = Subscription(self, q.put, q)
        with self._lock:
            self._subs.append(sub)
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
