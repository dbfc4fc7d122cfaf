"""Mission value types shared with ``flight`` (the only cross-package type flow: missions -> flight).

A ``MissionItem`` is exactly what MAVLink's MISSION_ITEM_INT carries, in floating degrees/metres:
``command`` (MAV_CMD), ``frame`` (MAV_FRAME), ``param1..4``, ``lat_deg``/``lon_deg`` (x/y) and
``alt_m`` (z, meaning set by ``frame``). ``Mission.items`` never contains ArduPilot's seq-0 home
item: ``flight`` adds and strips it on the wire; ``Mission.home`` carries the planned home.
Params may be NaN (QGC writes ``null``), so equality treats NaN == NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@dataclass(frozen=True, slots=True, eq=False)
class MissionItem:
    command: int
    frame: int = 3  # MAV_FRAME_GLOBAL_RELATIVE_ALT
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    lat_deg: float = 0.0
    lon_deg: float = 0.0
    alt_m: float = 0.0
    autocontinue: bool = True

    @property
    def params(self) -> tuple[float, float, float, float]:
        return (self.param1, self.param2, self.param3, self.param4)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MissionItem):
            return NotImplemented
        return (
            self.command == other.command
            and self.frame == other.frame
            and self.autocontinue == other.autocontinue
            and all(_same(a, b) for a, b in zip(self._floats(), other._floats(), strict=True))
        )

    def __hash__(self) -> int:
        return hash((self.command, self.frame, round(self.lat_deg, 7), round(self.lon_deg, 7)))

    def _floats(self) -> tuple[float, ...]:
        return (self.param1, self.param2, self.param3, self.param4, self.lat_deg, self.lon_deg, self.alt_m)


@dataclass(frozen=True, slots=True)
class Home:
    lat_deg: float
    lon_deg: float
    alt_amsl_m: float = 0.0


@dataclass(frozen=True, slots=True)
class Mission:
    """What a vehicle flies: items in order (no home item) and the planned home, if known.

    ``home_row`` keeps a WPL file's home row when it is not the usual ``0 1 0 16 0 0 0 0 LAT LON ALT
    1`` (another frame or command, non-zero params, autocontinue 0), so WPL -> .plan -> WPL writes it
    back as it was; its coordinates are ``home``'s. ``None`` (the usual row) for everything else.
    """

    items: tuple[MissionItem, ...] = ()
    home: Home | None = None
    home_row: MissionItem | None = None

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole plan file: mission plus geofence and rally items (each in MAVLink item form).

    Fence items use MAV_CMD_NAV_FENCE_* (5001-5004), rally items MAV_CMD_NAV_RALLY_POINT (5100),
    exactly as they go over the mission protocol with MAV_MISSION_TYPE_FENCE / _RALLY.
    """

    mission: Mission = field(default_factory=Mission)
    fence: tuple[MissionItem, ...] = ()
    rally: tuple[MissionItem, ...] = ()
