"""Wire helpers of the mission protocol (``flight.mission_transfer``): item <-> MISSION_ITEM_INT,
and waiting on what a real ArduPilot does around a transfer (boot, fence re-index, capacity text)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from flight._mav import mavlink
from flight.errors import MissionTransferError
from flight.link import Link
from missions.types import MissionItem

_GLOBAL_FRAMES = frozenset({0, 3, 5, 6, 10, 11})  # GLOBAL(_INT), GLOBAL_RELATIVE_ALT(_INT), GLOBAL_TERRAIN_ALT(_INT)
_LOCAL_FRAMES = frozenset({1, 7, 8, 9, 20, 21})
BOOT_WAIT_S = 60.0  # how long a transfer waits for a vehicle that is still starting up


def wait_booted(link: Link, sid: int, what: str, timeout_s: float = BOOT_WAIT_S) -> None:
    """Wait while the vehicle's HEARTBEAT says MAV_STATE_BOOT.

    ArduPilot answers heartbeats from the start of its init, but AP_Mission::init() (which sets
    the mission's capacity, ``num_commands_max()``) runs later: a MISSION_COUNT that arrives while
    the heartbeat still says BOOT gets MISSION_ACK NO_SPACE with "Only 0 items are supported".
    """
    if link.state(sid).system_status != "BOOT":
        return
    if link.wait_state(lambda s: s.system_status != "BOOT", sysid=sid, timeout_s=timeout_s) is None:
        raise MissionTransferError(what, f"vehicle still starting up (heartbeat system_status BOOT) after "
                                         f"{timeout_s:.0f} s; wait for it to finish booting and retry")  # fmt: skip


def wait_fence_indexed(link: Link, sid: int, since: float, timeout_s: float = 1.0) -> None:
    """ArduPilot writes an uploaded fence, then re-indexes it on its next fence update ("Fence Indexed
    OK"); until then it reports 0 stored items (seen on SITL: a download right after the upload got
    MISSION_COUNT 0). Wait briefly for that text; other autopilots never send it (then: timeout)."""
    if link.state(sid).autopilot != "ardupilot":
        return
    link.wait_state(lambda _s: any(t.startswith("Fence Indexed") for t in link.statustexts_since(sid, since)),
                    sysid=sid, timeout_s=timeout_s)  # fmt: skip


def capacity_text(link: Link, sid: int, since: float) -> str:
    """The vehicle's own reason for NO_SPACE (ArduPilot: "Only N items are supported"), or ''."""
    for text in reversed(link.statustexts_since(sid, since)):
        if "items are supported" in text or "space" in text.lower():
            return text
    return ""


def _encode_xy(frame: int, value: float) -> int:
    if frame in _GLOBAL_FRAMES:
        return round(value * 1e7)
    if frame in _LOCAL_FRAMES:
        return round(value * 1e4)
    return round(value)


def _decode_xy(frame: int, value: int) -> float:
    if frame in _GLOBAL_FRAMES:
        return value / 1e7
    if frame in _LOCAL_FRAMES:
        return value / 1e4
    return float(value)


def item_message(sysid: int, compid: int, seq: int, item: MissionItem, mission_type: int) -> Any:
    return mavlink.MAVLink_mission_item_int_message(
        sysid, compid, seq, item.frame, item.command, 0, int(item.autocontinue),
        item.param1, item.param2, item.param3, item.param4,
        _encode_xy(item.frame, item.lat_deg), _encode_xy(item.frame, item.lon_deg), item.alt_m,
        mission_type)  # fmt: skip


def item_from_message(m: Any) -> MissionItem:
    if m.get_type() == "MISSION_ITEM":  # legacy float form
        lat, lon = float(m.x), float(m.y)
    else:
        lat, lon = _decode_xy(m.frame, m.x), _decode_xy(m.frame, m.y)
    return MissionItem(command=m.command, frame=m.frame, param1=m.param1, param2=m.param2, param3=m.param3,
                       param4=m.param4, lat_deg=lat, lon_deg=lon, alt_m=float(m.z),
                       autocontinue=bool(m.autocontinue))  # fmt: skip


def prebuild(what: str, sysid: int, compid: int, items: Sequence[MissionItem], mission_type: int) -> list[Any]:
    """Every item as a message, packed once as a check: a bad value fails here, naming the item,
    not later inside the reader thread."""
    probe = mavlink.MAVLink(None, srcSystem=255, srcComponent=190)
    out = []
    for seq, item in enumerate(items):
        msg = item_message(sysid, compid, seq, item, mission_type)
        try:
            msg.pack(probe)
        except (struct.error, TypeError, ValueError, OverflowError) as exc:
            raise MissionTransferError(what, f"item {seq} (MAV_CMD {item.command}) cannot be encoded: {exc} "
                                             "(coordinates or params out of range?)") from exc  # fmt: skip
        out.append(msg)
    return out
