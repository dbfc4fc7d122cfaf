"""Immutable ``VehicleTruth`` snapshots of a Copter (what *is*, not what telemetry says)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from flight.sim import geo
from flight.sim.types import COPTER_MODES, VehicleTruth

if TYPE_CHECKING:
    from flight.sim.copter import Copter


def truth_of(c: Copter) -> VehicleTruth:
    lat, lon = c.latlon
    home = c.home or (lat, lon, c.origin[2])
    return VehicleTruth(
        sysid=c.sysid,
        t_sim_s=c.t,
        lat_deg=lat,
        lon_deg=lon,
        alt_amsl_m=c.alt_amsl,
        alt_rel_m=c.alt_rel,
        vn_m_s=c.vn,
        ve_m_s=c.ve,
        vd_m_s=-c.vu,
        groundspeed_m_s=math.hypot(c.vn, c.ve),
        heading_deg=c.yaw,
        roll_deg=c.roll,
        pitch_deg=c.pitch,
        yaw_deg=c.yaw,
        mode=c.mode,
        custom_mode=COPTER_MODES[c.mode],
        armed=c.armed,
        landed=c.landed,
        home_lat_deg=home[0],
        home_lon_deg=home[1],
        home_alt_amsl_m=home[2],
        battery_pct=c.battery_pct,
        battery_voltage_v=c.voltage,
        battery_consumed_mah=c.consumed_mah,
        gps_fix=c.gps_fix,
        satellites=10 if c.gps_fix >= 3 else (4 if c.gps_fix else 0),
        ekf_ok=c.ekf_ok,
        mission_current=c.runner.current,
        mission_count=len(c.missions[0]),
        fence_count=len(c.missions[1]),
        rally_count=len(c.missions[2]),
        gimbal_pitch_deg=c.camera_pitch(),
        gimbal_yaw_deg=c.camera_yaw(),
        roi=None
        if c.roi is None
        else (
            *geo.offset_deg(c.origin[0], c.origin[1], c.roi[0], c.roi[1]),
            c.origin[2] + c.roi[2],
        ),
        camera_triggers=c.camera_triggers,
        failsafe=c.failsafe,
        gcs_seen=c.gcs_seen,
        distance_flown_m=c.distance_m,
    )
