"""The map's scene coordinates: Web Mercator metres with y flipped (Qt's y grows downward).

``console.mapview`` re-exports both functions.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF

from console.map_tiles import EARTH_R_M


def to_scene(lat_deg: float, lon_deg: float) -> QPointF:
    lat = max(-85.05, min(85.05, lat_deg))
    x = EARTH_R_M * math.radians(lon_deg)
    y = EARTH_R_M * math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return QPointF(x, -y)


def from_scene(p: QPointF) -> tuple[float, float]:
    lon = math.degrees(p.x() / EARTH_R_M)
    lat = math.degrees(2 * math.atan(math.exp(-p.y() / EARTH_R_M)) - math.pi / 2)
    return lat, lon
