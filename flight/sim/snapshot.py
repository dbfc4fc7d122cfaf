"""Immutable ``VehicleTruth`` snapshots of a ``CopterState`` (what *is*, not what telemetry says)."""

from __future__ import annotations

import math

from flight.sim.attitude import camera_pitch, camera_yaw
from flight.sim.state import CopterState
from flight.sim.types import COPTER_MODES, VehicleTruth


def truth_of(s: CopterState) -> VehicleTruth:
    k, p = s.kin, s.payload
    lat, lon = s.latlon
    home = s.home or (lat, lon, s.origin[2])
    roi = None if p.roi is None else (*s.latlon_of(p.roi[0], p.roi[1]), s.origin[2] + p.roi[2])
    return VehicleTruth(
        sysid=s.sysid,
        t_sim_s=s.t,
        lat_deg=lat,
        lon_deg=lon,
        alt_amsl_m=s.alt_amsl,
        alt_rel_m=s.alt_rel,
        vn_m_s=k.vn,
        ve_m_s=k.ve,
        vd_m_s=-k.vu,
        groundspeed_m_s=math.hypot(k.vn, k.ve),
        heading_deg=k.yaw,
        roll_deg=k.roll,
        pitch_deg=k.pitch,
        yaw_deg=k.yaw,
        mode=s.mode,
        custom_mode=COPTER_MODES[s.mode],
        armed=s.armed,
        landed=s.landed,
        home_lat_deg=home[0],
        home_lon_deg=home[1],
        home_alt_amsl_m=home[2],
        battery_pct=s.battery_pct,
        battery_voltage_v=s.voltage,
        battery_consumed_mah=s.power.consumed_mah,
        gps_fix=s.gps_fix,
        satellites=10 if s.gps_fix >= 3 else (4 if s.gps_fix else 0),
        ekf_ok=s.ekf_ok,
        mission_current=s.auto.current,
        mission_count=len(s.missions[0]),
        fence_count=len(s.missions[1]),
        rally_count=len(s.missions[2]),
        gimbal_pitch_deg=camera_pitch(s),
        gimbal_yaw_deg=camera_yaw(s),
        roi=roi,
        camera_triggers=p.camera_triggers,
        failsafe=s.fs.active,
        gcs_seen=s.gcs.seen,
        distance_flown_m=k.distance_m,
    )
