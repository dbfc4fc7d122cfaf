"""Flight mode names <-> wire values for ArduPilot (copter custom modes) and PX4 (main/sub mode)."""

from __future__ import annotations

from flight.errors import UnknownMode

# ArduCopter ``custom_mode`` numbers (ArduCopter/mode.h, enum class Mode::Number).
COPTER_MODES: dict[int, str] = {
    0: "STABILIZE", 1: "ACRO", 2: "ALT_HOLD", 3: "AUTO", 4: "GUIDED", 5: "LOITER", 6: "RTL",
    7: "CIRCLE", 9: "LAND", 11: "DRIFT", 13: "SPORT", 14: "FLIP", 15: "AUTOTUNE", 16: "POSHOLD",
    17: "BRAKE", 18: "THROW", 19: "AVOID_ADSB", 20: "GUIDED_NOGPS", 21: "SMART_RTL",
    22: "FLOWHOLD", 23: "FOLLOW", 24: "ZIGZAG", 25: "SYSTEMID", 26: "AUTOROTATE", 27: "AUTO_RTL",
}  # fmt: skip
COPTER_NUMBERS: dict[str, int] = {name: num for num, name in COPTER_MODES.items()}

# PX4: custom_mode = (sub_mode << 24) | (main_mode << 16)  (px4_custom_mode.h)
_PX4_MAIN = {1: "MANUAL", 2: "ALTCTL", 3: "POSCTL", 5: "ACRO", 6: "OFFBOARD", 7: "STABILIZED", 8: "RATTITUDE"}
_PX4_AUTO = {1: "READY", 2: "TAKEOFF", 3: "LOITER", 4: "MISSION", 5: "RTL", 6: "LAND", 8: "FOLLOW_TARGET",
             9: "PRECLAND"}  # fmt: skip
PX4_NUMBERS: dict[str, tuple[int, int]] = {name: (main, 0) for main, name in _PX4_MAIN.items()}
PX4_NUMBERS.update({name: (4, sub) for sub, name in _PX4_AUTO.items()})
# ArduPilot-style names people type for a PX4 vehicle.
_PX4_ALIASES = {"AUTO": "MISSION", "GUIDED": "LOITER", "POSHOLD": "POSCTL", "ALT_HOLD": "ALTCTL",
                "STABILIZE": "STABILIZED"}  # fmt: skip


def mode_name(autopilot: str, custom_mode: int) -> str:
    """Human mode name from HEARTBEAT.custom_mode; ``"MODE(n)"`` when unknown."""
    if autopilot == "px4":
        main, sub = (custom_mode >> 16) & 0xFF, (custom_mode >> 24) & 0xFF
        if main == 4:
            return _PX4_AUTO.get(sub, f"AUTO({sub})")
        return _PX4_MAIN.get(main, f"MODE({main})")
    return COPTER_MODES.get(custom_mode, f"MODE({custom_mode})")


def mode_numbers(autopilot: str, name: str) -> tuple[int, int]:
    """(custom main mode, custom sub mode) for MAV_CMD_DO_SET_MODE param2/param3.

    ArduPilot: (custom_mode, 0). PX4: (main, sub). Raises ``UnknownMode`` listing the choices.
    """
    key = name.strip().upper()
    if autopilot == "px4":
        key = _PX4_ALIASES.get(key, key)
        if key not in PX4_NUMBERS:
            raise UnknownMode(name, "PX4", tuple(PX4_NUMBERS))
        return PX4_NUMBERS[key]
    if key not in COPTER_NUMBERS:
        raise UnknownMode(name, "ArduPilot", tuple(COPTER_NUMBERS))
    return COPTER_NUMBERS[key], 0


def canonical(autopilot: str, name: str) -> str:
    """The name ``mode_name`` will report once the vehicle is in mode ``name``."""
    key = name.strip().upper()
    return _PX4_ALIASES.get(key, key) if autopilot == "px4" else key
