"""Stored mission / fence / rally items (natural units) and their wire conversions."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType

from pymavlink.dialects.v20 import ardupilotmega as mavlink

# Commands whose x/y are latitude/longitude (scaled by 1e7 in MISSION_ITEM_INT).
_LOCATION_CMDS = frozenset(
    {
        mavlink.MAV_CMD_NAV_WAYPOINT,
        mavlink.MAV_CMD_NAV_LOITER_UNLIM,
        mavlink.MAV_CMD_NAV_LOITER_TURNS,
        mavlink.MAV_CMD_NAV_LOITER_TIME,
        mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH,
        mavlink.MAV_CMD_NAV_LAND,
        mavlink.MAV_CMD_NAV_TAKEOFF,
        mavlink.MAV_CMD_NAV_SPLINE_WAYPOINT,
        mavlink.MAV_CMD_NAV_LOITER_TO_ALT,
        mavlink.MAV_CMD_DO_SET_ROI,
        mavlink.MAV_CMD_DO_SET_ROI_LOCATION,
        mavlink.MAV_CMD_DO_SET_HOME,
        mavlink.MAV_CMD_DO_REPOSITION,
        mavlink.MAV_CMD_DO_LAND_START,
        mavlink.MAV_CMD_NAV_FENCE_RETURN_POINT,
        mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
        mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
        mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION,
        mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
        mavlink.MAV_CMD_NAV_RALLY_POINT,
    }
)
GLOBAL_FRAMES_AMSL = frozenset({mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT})
MISSION_TYPES = (mavlink.MAV_MISSION_TYPE_MISSION, mavlink.MAV_MISSION_TYPE_FENCE, mavlink.MAV_MISSION_TYPE_RALLY)


@dataclass(slots=True)
class Item:
    """One stored item; ``x``/``y`` are degrees for location commands, raw param5/6 otherwise."""

    command: int
    frame: int = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0
    autocontinue: int = 1

    @property
    def is_location(self) -> bool:
        return self.command in _LOCATION_CMDS


def _num(x: float) -> float:
    return x if math.isfinite(x) else 0.0  # NaN params mean "default" in MAVLink


def item_from_msg(msg: object) -> Item:
    """Build an Item from MISSION_ITEM or MISSION_ITEM_INT."""
    command = int(msg.command)  # type: ignore[attr-defined]
    x, y = float(msg.x), float(msg.y)  # type: ignore[attr-defined]
    if msg.get_type() == "MISSION_ITEM_INT" and command in _LOCATION_CMDS:  # type: ignore[attr-defined]
        x, y = x / 1e7, y / 1e7
    elif command not in _LOCATION_CMDS:
        x, y = _num(x), _num(y)
    return Item(
        command,
        int(msg.frame),  # type: ignore[attr-defined]
        _num(float(msg.param1)),  # type: ignore[attr-defined]
        _num(float(msg.param2)),  # type: ignore[attr-defined]
        _num(float(msg.param3)),  # type: ignore[attr-defined]
        _num(float(msg.param4)),  # type: ignore[attr-defined]
        x,
        y,
        float(msg.z),  # type: ignore[attr-defined]
        int(msg.autocontinue),  # type: ignore[attr-defined]
    )


# ArduPilot keeps only "relative or not" and answers downloads with the plain frames.
_PLAIN_FRAME = MappingProxyType(
    {
        mavlink.MAV_FRAME_GLOBAL_INT: mavlink.MAV_FRAME_GLOBAL,
        mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT,
        mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT: mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    }
)


def item_to_msg(item: Item, seq: int, target: tuple[int, int], mission_type: int, as_int: bool, current: int = 0):
    """Encode an Item as MISSION_ITEM_INT (``as_int``) or legacy MISSION_ITEM (frames as ArduPilot
    sends them back: GLOBAL, GLOBAL_RELATIVE_ALT, GLOBAL_TERRAIN_ALT, never their _INT twins)."""
    item = replace(item, frame=_PLAIN_FRAME.get(item.frame, item.frame))
    if as_int:
        if item.is_location:
            x, y = round(item.x * 1e7), round(item.y * 1e7)
        else:
            x, y = round(item.x), round(item.y)
        return mavlink.MAVLink_mission_item_int_message(
            target[0],
            target[1],
            seq,
            item.frame,
            item.command,
            current,
            item.autocontinue,
            item.param1,
            item.param2,
            item.param3,
            item.param4,
            x,
            y,
            item.z,
            mission_type,
        )
    return mavlink.MAVLink_mission_item_message(
        target[0],
        target[1],
        seq,
        item.frame,
        item.command,
        current,
        item.autocontinue,
        item.param1,
        item.param2,
        item.param3,
        item.param4,
        item.x,
        item.y,
        item.z,
        mission_type,
    )
