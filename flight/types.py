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
    # Added by the flight helper (defaults keep the lead's fields and order intact).
    landed_state: str = "UNDEFINED"  # MAV_LANDED_STATE without prefix: ON_GROUND | IN_AIR | TAKEOFF | LANDING
    mission_reached_seq: int = -1  # last MISSION_ITEM_REACHED (wire seq; ArduPilot counts home as 0)
    prearm_ok: bool | None = None  # SYS_STATUS MAV_SYS_STATUS_PREARM_CHECK health bit, when reported
    gps_hdop: float | None = None
    battery_a: float | None = None
    heartbeat_count: int = 0
    custom_mode: int = 0  # raw HEARTBEAT.custom_mode (mode is its name)
    base_mode: int = 0


@dataclass(frozen=True, slots=True)
class CommandAck:
    """A COMMAND_ACK as the command functions return it."""

    command: int
    command_name: str
    result: int
    result_name: str  # MAV_RESULT without prefix: ACCEPTED | DENIED | FAILED | ...
    progress: int = 0
    attempts: int = 1

    @property
    def accepted(self) -> bool:
        return self.result == 0


@dataclass(frozen=True, slots=True)
class LinkStats:
    """Counters of one link, read with ``Link.stats()``."""

    url: str
    messages: int = 0  # good frames parsed
    garbage: int = 0  # bytes/frames that did not parse (bad magic, length, CRC)
    bad_crc: int = 0  # subset of garbage: right shape, wrong checksum
    bad_signature: int = 0  # signing on: frames with a wrong or missing signature
    reader_errors: int = 0  # exceptions caught in the reader loop (socket errors, decoder bugs)
    callback_errors: int = 0  # exceptions raised by subscriber callbacks (logged, swallowed)
    sent: int = 0
    bytes_received: int = 0
    vehicles: tuple[int, ...] = ()
    tlog_path: str | None = None
