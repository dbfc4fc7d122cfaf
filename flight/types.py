"""Immutable vehicle snapshots published by ``flight`` links (read by console, CLI, wiring)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class VehicleState:
    """One vehicle as last heard. Replaced whole (``dataclasses.replace``), never mutated.

    ``link_age_s`` is the age of the last message from this vehicle when the snapshot was taken;
    ``link_ok`` goes False after 2 s of silence (heartbeat watchdog) and back when it returns.
    """

    sysid: int
    compid: int = 1
    autopilot: str = "unknown"  # "ardupilot" | "px4" | "unknown"
    vehicle_type: str = "unknown"  # "copter" | "plane" | ...
    mode: str = "UNKNOWN"
    armed: bool = False
    system_status: str = "UNINIT"
    lat_deg: float | None = None
    lon_deg: float | None = None
    alt_amsl_m: float | None = None
    alt_rel_m: float | None = None
    roll_deg: float = 0.0
    pitch_deg: float = 0.0
    heading_deg: float | None = None
    groundspeed_m_s: float = 0.0
    airspeed_m_s: float = 0.0
    climb_m_s: float = 0.0
    battery_pct: float | None = None
    battery_v: float | None = None
    gps_fix: int = 0
    gps_sats: int = 0
    ekf_ok: bool = False
    home_lat_deg: float | None = None
    home_lon_deg: float | None = None
    home_alt_amsl_m: float | None = None
    mission_seq: int = 0
    mission_total: int = 0
    gimbal_pitch_deg: float = 0.0
    gimbal_yaw_deg: float = 0.0
    link_ok: bool = False
    link_age_s: float = float("inf")
    last_heard_mono: float = 0.0
    statustexts: tuple[str, ...] = field(default=())  # newest last, bounded
