"""Immutable snapshots the simulator hands out (truth state, camera frames)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

# ArduCopter custom_mode numbers (ArduCopter/mode.h).
COPTER_MODES: Mapping[str, int] = MappingProxyType(
    {
        "STABILIZE": 0,
        "ACRO": 1,
        "ALT_HOLD": 2,
        "AUTO": 3,
        "GUIDED": 4,
        "LOITER": 5,
        "RTL": 6,
        "CIRCLE": 7,
        "LAND": 9,
        "BRAKE": 17,
    }
)
MODE_NAMES: Mapping[int, str] = MappingProxyType({v: k for k, v in COPTER_MODES.items()})
SUPPORTED_MODES = frozenset({"STABILIZE", "ALT_HOLD", "AUTO", "GUIDED", "LOITER", "RTL", "LAND", "BRAKE"})


@dataclass(frozen=True, slots=True)
class VehicleTruth:
    """The simulator's true state of one copter (not what telemetry says, what *is*)."""

    sysid: int
    t_sim_s: float
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float
    alt_rel_m: float
    vn_m_s: float
    ve_m_s: float
    vd_m_s: float
    groundspeed_m_s: float
    heading_deg: float
    roll_deg: float
    pitch_deg: float
    yaw_deg: float
    mode: str
    custom_mode: int
    armed: bool
    landed: bool
    home_lat_deg: float
    home_lon_deg: float
    home_alt_amsl_m: float
    battery_pct: float
    battery_voltage_v: float
    battery_consumed_mah: float
    gps_fix: int
    satellites: int
    ekf_ok: bool
    mission_current: int
    mission_count: int
    fence_count: int
    rally_count: int
    gimbal_pitch_deg: float
    gimbal_yaw_deg: float
    roi: tuple[float, float, float] | None
    camera_triggers: int
    failsafe: str
    gcs_seen: bool
    distance_flown_m: float


@dataclass(frozen=True, slots=True)
class SimFrame:
    """One rendered gimbal camera frame and the pose it was taken from.

    ``pitch_deg`` is the camera pitch in the world frame (-90 = straight down), ``yaw_deg`` the
    camera heading (0 = north, clockwise), ``roll_deg`` the camera roll (0: gimbal-stabilised).
    ``capture_t_utc`` is seconds since the Unix epoch (``time.time()`` at render).
    ``actors`` is ground truth for detection/geolocation tests: the moving cars and people in view.
    """

    image: np.ndarray
    capture_t_utc: float
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float
    alt_agl_m: float
    roll_deg: float
    pitch_deg: float
    yaw_deg: float
    hfov_deg: float
    actors: tuple[tuple[str, float, float, float, float], ...] = ()  # visible (kind, lat, lon, u_px, v_px)
