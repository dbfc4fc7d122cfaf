"""The simulated copter's parameter table: ArduCopter names, units and defaults.

Units follow ArduPilot (``WPNAV_SPEED`` cm/s, ``RTL_ALT`` cm, ``FENCE_ALT_MAX`` m ...). Only the
parameters the simulator reads change its behaviour; the others are there so ground stations
that look for them (QGC, MAVProxy, dronekit) find a believable vehicle.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from pymavlink.dialects.v20 import ardupilotmega as mavlink

_I8 = mavlink.MAV_PARAM_TYPE_INT8
_I16 = mavlink.MAV_PARAM_TYPE_INT16
_I32 = mavlink.MAV_PARAM_TYPE_INT32
_F = mavlink.MAV_PARAM_TYPE_REAL32

# name: (default, MAV_PARAM_TYPE)
DEFAULTS: Mapping[str, tuple[float, int]] = MappingProxyType(
    {
        "SYSID_THISMAV": (1, _I16),
        "SYSID_MYGCS": (255, _I16),
        "FRAME_CLASS": (1, _I8),
        "FRAME_TYPE": (1, _I8),
        "ARMING_CHECK": (1, _I32),
        "DISARM_DELAY": (10, _I8),
        "WPNAV_SPEED": (1000, _F),
        "WPNAV_SPEED_UP": (250, _F),
        "WPNAV_SPEED_DN": (150, _F),
        "WPNAV_ACCEL": (250, _F),
        "WPNAV_ACCEL_Z": (100, _F),
        "WPNAV_RADIUS": (200, _F),
        "WP_YAW_BEHAVIOR": (2, _I8),
        "LOIT_SPEED": (1250, _F),
        "PILOT_SPEED_UP": (250, _I16),
        "PILOT_SPEED_DN": (0, _I16),
        "ATC_SLEW_YAW": (6000, _F),
        "ANGLE_MAX": (3000, _I16),
        "RTL_ALT": (1500, _I32),
        "RTL_ALT_FINAL": (0, _I16),
        "RTL_SPEED": (0, _I16),
        "RTL_LOIT_TIME": (5000, _I32),
        "RTL_CLIMB_MIN": (0, _I16),
        "LAND_SPEED": (50, _I16),
        "LAND_SPEED_HIGH": (0, _I16),
        "LAND_ALT_LOW": (1000, _I16),
        "CIRCLE_RADIUS": (1000, _F),
        "CIRCLE_RATE": (20, _F),
        "AUTO_OPTIONS": (0, _I32),
        "FENCE_ENABLE": (0, _I8),
        "FENCE_TYPE": (7, _I8),
        "FENCE_ACTION": (1, _I8),
        "FENCE_ALT_MAX": (100, _F),
        "FENCE_RADIUS": (300, _F),
        "FENCE_MARGIN": (2, _F),
        "BATT_MONITOR": (4, _I8),
        "BATT_CAPACITY": (5200, _I32),
        "BATT_LOW_VOLT": (14.0, _F),
        "BATT_LOW_MAH": (1040, _I32),
        "BATT_CRT_VOLT": (13.3, _F),
        "BATT_CRT_MAH": (520, _I32),
        "BATT_FS_LOW_ACT": (2, _I8),
        "BATT_FS_CRT_ACT": (1, _I8),
        "BATT_ARM_VOLT": (14.8, _F),
        "BATT_ARM_MAH": (0, _I32),
        "FS_GCS_ENABLE": (0, _I8),
        "FS_GCS_TIMEOUT": (5, _F),
        "FS_THR_ENABLE": (0, _I8),
        "FS_EKF_ACTION": (1, _I8),
        "GPS_TYPE": (1, _I8),
        "GPS_AUTO_CONFIG": (1, _I8),
        "EK3_ENABLE": (1, _I8),
        "AHRS_EKF_TYPE": (3, _I8),
        "MNT1_TYPE": (1, _I8),
        "MNT1_PITCH_MIN": (-90, _I16),
        "MNT1_PITCH_MAX": (20, _I16),
        "MNT1_YAW_MIN": (-180, _I16),
        "MNT1_YAW_MAX": (180, _I16),
        "MNT1_DEFLT_MODE": (3, _I8),
        "CAM1_TYPE": (1, _I8),
        "SR0_POSITION": (0, _I16),
        "SR0_EXTRA1": (0, _I16),
        "SR0_EXTRA2": (0, _I16),
        "SR0_EXTRA3": (0, _I16),
        "SR0_EXT_STAT": (0, _I16),
        "SIM_WIND_SPD": (0, _F),
        "SIM_WIND_DIR": (180, _F),
        "SIM_GPS_DISABLE": (0, _I8),
        "SIM_SPEEDUP": (1, _F),
    }
)


class Params:
    """An ordered name -> float table with MAVLink types; unknown names are refused."""

    def __init__(self, overrides: dict[str, float] | None = None) -> None:
        self._names = list(DEFAULTS)
        self._values = {name: float(v) for name, (v, _t) in DEFAULTS.items()}
        self._types = {name: t for name, (_v, t) in DEFAULTS.items()}
        for name, value in (overrides or {}).items():
            if not self.set(name, value):
                raise KeyError(name)

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def set(self, name: str, value: float) -> bool:
        if name not in self._values or not math.isfinite(value) or abs(value) > 1e9:
            return False
        if self._types[name] != _F:
            value = float(round(value))
        self._values[name] = float(value)
        return True

    def index_of(self, name: str) -> int:
        return self._names.index(name)

    def entry(self, index: int) -> tuple[str, float, int]:
        name = self._names[index]
        return name, self._values[name], self._types[name]

    def entry_by_name(self, name: str) -> tuple[str, float, int, int]:
        return name, self._values[name], self._types[name], self._names.index(name)
