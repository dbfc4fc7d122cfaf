"""Vehicle commands, all the same shape (MAVSDK's ``action``): send, wait for COMMAND_ACK with
retries, return the ``CommandAck`` on MAV_RESULT_ACCEPTED, raise ``CommandRejected(command, result,
reason)`` otherwise (reason from the vehicle's STATUSTEXT, e.g. ``PreArm: GPS 1: Bad fix``) or
``CommandTimeout`` when nothing answers. Where the ack is not the whole story (arm, mode) the
command also waits for the heartbeat to confirm it.
"""

from __future__ import annotations

import math
import time

from flight._mav import mavlink
from flight.errors import CommandRejected, CommandTimeout
from flight.link import Link
from flight.modes import canonical, mode_numbers
from flight.types import CommandAck

_REASON_PREFIXES = ("PreArm", "Arm", "Arming", "Disarm", "Mode", "Takeoff", "Flight mode", "Preflight")


def _reason(link: Link, sysid: int, since_mono: float, wait_s: float = 0.3) -> str:
    """Best STATUSTEXT explaining a rejection: arming texts first, else the newest one."""
    deadline = time.monotonic() + wait_s
    while True:
        texts = link.statustexts_since(sysid, since_mono)
        explained = [t for t in texts if t.startswith(_REASON_PREFIXES)]
        if explained:
            return explained[-1]
        if time.monotonic() >= deadline:
            return texts[-1] if texts else ""
        link.wait_state(lambda s: False, sysid=sysid, timeout_s=0.05)  # wakes on any new snapshot


def _sysid(link: Link, sysid: int | None) -> int:
    return link.default_sysid() if sysid is None else sysid


def run_command(link: Link, name: str, command: int, params: tuple[float, ...] = (), *, sysid: int | None = None,
                use_int: bool = False, frame: int = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT,
                timeout_s: float = 1.0, retries: int = 3) -> CommandAck:
    """Send ``command`` and require MAV_RESULT_ACCEPTED; the one path every command below takes.

    ``timeout_s`` is the whole budget, shared by the first attempt and ``retries`` resends.
    """
    sid = _sysid(link, sysid)
    t0 = time.monotonic()
    ack = link.command(sid, command, params, use_int=use_int, frame=frame, timeout_s=timeout_s / (retries + 1),
                       retries=retries)  # fmt: skip
    if not ack.accepted:
        raise CommandRejected(name, ack.result_name, _reason(link, sid, t0))
    return ack


def _confirm(link: Link, name: str, sid: int, predicate, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    if link.wait_state(predicate, sysid=sid, timeout_s=timeout_s) is None:
        raise CommandTimeout(f"{name} (accepted, but the vehicle's heartbeat never confirmed it)", timeout_s, 1)


def arm(link: Link, sysid: int | None = None, *, force: bool = False, timeout_s: float = 3.0) -> CommandAck:
    """Arm; a refusal raises ``CommandRejected`` with the pre-arm reason (``PreArm: ...``)."""
    sid = _sysid(link, sysid)
    ack = run_command(link, "arm", mavlink.MAV_CMD_COMPONENT_ARM_DISARM, (1, 21196 if force else 0), sysid=sid,
                      timeout_s=timeout_s)  # fmt: skip
    _confirm(link, "arm", sid, lambda s: s.armed, timeout_s)
    return ack


def disarm(link: Link, sysid: int | None = None, *, force: bool = False, timeout_s: float = 3.0) -> CommandAck:
    sid = _sysid(link, sysid)
    ack = run_command(link, "disarm", mavlink.MAV_CMD_COMPONENT_ARM_DISARM, (0, 21196 if force else 0), sysid=sid,
                      timeout_s=timeout_s)  # fmt: skip
    _confirm(link, "disarm", sid, lambda s: not s.armed, timeout_s)
    return ack


def set_mode(link: Link, name: str, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    """Change flight mode by name (ArduPilot: GUIDED, AUTO, RTL...; PX4: POSCTL, MISSION, RTL...)."""
    sid = _sysid(link, sysid)
    autopilot = link.state(sid).autopilot
    main, sub = mode_numbers(autopilot, name)
    want = canonical(autopilot, name)
    ack = run_command(link, f"mode {want}", mavlink.MAV_CMD_DO_SET_MODE,
                      (mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, main, sub), sysid=sid,
                      timeout_s=timeout_s)  # fmt: skip
    _confirm(link, f"mode {want}", sid, lambda s: s.mode == want, timeout_s)
    return ack


def takeoff(link: Link, alt_rel_m: float, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    """Take off to ``alt_rel_m`` above home (ArduPilot: armed in GUIDED; PX4: armed)."""
    sid = _sysid(link, sysid)
    st = link.state(sid)
    alt = alt_rel_m
    if st.autopilot == "px4" and st.home_alt_amsl_m is not None:  # PX4 wants AMSL in param7
        alt = st.home_alt_amsl_m + alt_rel_m
    nan = math.nan
    return run_command(link, "takeoff", mavlink.MAV_CMD_NAV_TAKEOFF, (0, 0, 0, nan, nan, nan, alt), sysid=sid,
                       timeout_s=timeout_s)  # fmt: skip


def goto(link: Link, lat_deg: float, lon_deg: float, alt_rel_m: float, sysid: int | None = None,
         *, timeout_s: float = 3.0) -> None:
    """Fly to a point. ArduPilot: GUIDED + SET_POSITION_TARGET_GLOBAL_INT; PX4: MAV_CMD_DO_REPOSITION."""
    sid = _sysid(link, sysid)
    st = link.state(sid)
    if st.autopilot == "px4":
        run_command(link, "goto", mavlink.MAV_CMD_DO_REPOSITION, (-1, 1, 0, math.nan, lat_deg, lon_deg, alt_rel_m),
                    sysid=sid, use_int=True, timeout_s=timeout_s)  # fmt: skip
        return
    if st.mode != "GUIDED":
        set_mode(link, "GUIDED", sid, timeout_s=timeout_s)
    position_only = 0b0000_1111_1111_1000  # ignore velocity, acceleration, yaw, yaw rate
    link.send(mavlink.MAVLink_set_position_target_global_int_message(
        0, sid, link.target_compid(sid), mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, position_only,
        round(lat_deg * 1e7), round(lon_deg * 1e7), alt_rel_m, 0, 0, 0, 0, 0, 0, 0, 0))  # fmt: skip


def rtl(link: Link, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    return run_command(link, "rtl", mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH, sysid=sysid, timeout_s=timeout_s)


def land(link: Link, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    nan = math.nan
    return run_command(link, "land", mavlink.MAV_CMD_NAV_LAND, (0, 0, 0, nan, nan, nan, nan), sysid=sysid,
                       timeout_s=timeout_s)  # fmt: skip


def mission_start(link: Link, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    return run_command(link, "mission start", mavlink.MAV_CMD_MISSION_START, (0, 0), sysid=sysid, timeout_s=timeout_s)


def set_roi(link: Link, lat_deg: float, lon_deg: float, alt_rel_m: float, sysid: int | None = None,
            *, timeout_s: float = 3.0) -> CommandAck:
    """Point vehicle and gimbal at a location (MAV_CMD_DO_SET_ROI_LOCATION, COMMAND_INT)."""
    return run_command(link, "set ROI", mavlink.MAV_CMD_DO_SET_ROI_LOCATION, (0, 0, 0, 0, lat_deg, lon_deg, alt_rel_m),
                       sysid=sysid, use_int=True, timeout_s=timeout_s)  # fmt: skip


def clear_roi(link: Link, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    return run_command(link, "clear ROI", mavlink.MAV_CMD_DO_SET_ROI_NONE, sysid=sysid, timeout_s=timeout_s)


def set_gimbal(link: Link, pitch_deg: float, yaw_deg: float, sysid: int | None = None, *,
               gimbal_manager: bool = False, timeout_s: float = 3.0) -> CommandAck:
    """Point the gimbal: DO_MOUNT_CONTROL (default) or gimbal manager v2 (DO_GIMBAL_MANAGER_PITCHYAW).

    ``pitch_deg``: -90 = straight down. ``yaw_deg``: relative to the vehicle's nose.
    """
    if gimbal_manager:
        nan = math.nan
        return run_command(link, "gimbal", mavlink.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW,
                           (pitch_deg, yaw_deg, nan, nan, 0, 0, 0), sysid=sysid, timeout_s=timeout_s)  # fmt: skip
    return run_command(link, "gimbal", mavlink.MAV_CMD_DO_MOUNT_CONTROL,
                       (pitch_deg, 0, yaw_deg, 0, 0, 0, mavlink.MAV_MOUNT_MODE_MAVLINK_TARGETING), sysid=sysid,
                       timeout_s=timeout_s)  # fmt: skip


def change_speed(link: Link, speed_m_s: float, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    """Horizontal ground speed for GUIDED/AUTO (MAV_CMD_DO_CHANGE_SPEED, type 1 = ground speed)."""
    return run_command(link, "change speed", mavlink.MAV_CMD_DO_CHANGE_SPEED, (1, speed_m_s, -1, 0), sysid=sysid,
                       timeout_s=timeout_s)  # fmt: skip


def trigger_camera(link: Link, sysid: int | None = None, *, image_capture: bool = False,
                   timeout_s: float = 3.0) -> CommandAck:
    """Take one picture: DO_DIGICAM_CONTROL (ArduPilot camera lib) or IMAGE_START_CAPTURE (camera protocol v2)."""
    if image_capture:
        return run_command(link, "camera trigger", mavlink.MAV_CMD_IMAGE_START_CAPTURE, (0, 0, 1, 0), sysid=sysid,
                           timeout_s=timeout_s)  # fmt: skip
    return run_command(link, "camera trigger", mavlink.MAV_CMD_DO_DIGICAM_CONTROL, (0, 0, 0, 0, 1, 0, 0),
                       sysid=sysid, timeout_s=timeout_s)  # fmt: skip


def pause(link: Link, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    """Hold position mid-mission or mid-goto (MAV_CMD_DO_PAUSE_CONTINUE 0; ArduCopter: AUTO/GUIDED brake)."""
    return run_command(link, "pause", mavlink.MAV_CMD_DO_PAUSE_CONTINUE, (0,), sysid=sysid, timeout_s=timeout_s)


def resume(link: Link, sysid: int | None = None, *, timeout_s: float = 3.0) -> CommandAck:
    """Continue after ``pause`` (MAV_CMD_DO_PAUSE_CONTINUE 1)."""
    return run_command(link, "continue", mavlink.MAV_CMD_DO_PAUSE_CONTINUE, (1,), sysid=sysid, timeout_s=timeout_s)


def prearm_reasons(link: Link, sysid: int | None = None, *, wait_s: float = 1.5) -> list[str]:
    """Ask the vehicle to run its pre-arm checks now (MAV_CMD_RUN_PREARM_CHECKS) and return the
    ``PreArm: ...`` texts it sends within ``wait_s`` (empty: none, or the vehicle does not support it).

    ArduPilot runs them for the current mode: in STABILIZE a missing GPS is no failure.
    """
    sid = _sysid(link, sysid)
    t0 = time.monotonic()
    try:
        link.command(sid, mavlink.MAV_CMD_RUN_PREARM_CHECKS, (), timeout_s=0.5, retries=1)
    except CommandTimeout:
        return []
    link.wait_state(lambda s: any(t.startswith("PreArm") for t in link.statustexts_since(sid, t0)), sysid=sid,
                    timeout_s=wait_s)  # fmt: skip
    return list(dict.fromkeys(t for t in link.statustexts_since(sid, t0) if t.startswith("PreArm")))
