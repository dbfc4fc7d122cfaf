"""The one place ``flight`` imports pymavlink.

pymavlink picks MAVLink 1 or 2 from the ``MAVLINK20`` environment variable when ``mavutil`` is
first imported (and flips it, process-wide, when it sees a v2 frame). Lookout always speaks
MAVLink 2 (signing, ``mission_type`` extension), so set it before the first import and select
the v2 ardupilotmega dialect explicitly. The v2 parser still reads MAVLink 1 frames.
"""

from __future__ import annotations

import os

os.environ.setdefault("MAVLINK20", "1")

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

if mavutil.mavlink is not mavlink:  # someone imported mavutil before us without MAVLINK20
    os.environ["MAVLINK20"] = "1"
    mavutil.set_dialect("ardupilotmega")

__all__ = ["mavlink", "mavutil"]


def enum_name(enum: str, value: int) -> str:
    """``enum_name("MAV_RESULT", 4)`` -> ``"FAILED"`` (prefix stripped), or the number as text."""
    entry = mavlink.enums.get(enum, {}).get(value)
    if entry is None:
        return str(value)
    name = entry.name
    for prefix in (enum + "_", enum.rsplit("_", 1)[0] + "_"):  # MAV_MISSION_RESULT -> MAV_MISSION_
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def command_name(command: int) -> str:
    """``MAV_CMD_COMPONENT_ARM_DISARM`` -> ``"COMPONENT_ARM_DISARM"``."""
    return enum_name("MAV_CMD", command)
