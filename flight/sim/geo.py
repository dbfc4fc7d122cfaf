"""Flat-earth local maths for the simulator (metres north/east of an origin)."""

from __future__ import annotations

import math

EARTH_R_M = 6378137.0


def offset_deg(lat_deg: float, lon_deg: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m``/``east_m`` metres from (lat, lon)."""
    dlat = math.degrees(north_m / EARTH_R_M)
    dlon = math.degrees(east_m / (EARTH_R_M * math.cos(math.radians(lat_deg))))
    return lat_deg + dlat, lon_deg + dlon


def ne_of(lat0_deg: float, lon0_deg: float, lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """North/east metres of (lat, lon) from the origin (lat0, lon0)."""
    north = math.radians(lat_deg - lat0_deg) * EARTH_R_M
    east = math.radians(lon_deg - lon0_deg) * EARTH_R_M * math.cos(math.radians(lat0_deg))
    return north, east


def wrap_360(deg: float) -> float:
    return deg % 360.0


def wrap_180(deg: float) -> float:
    return (deg + 180.0) % 360.0 - 180.0


def point_in_polygon(n: float, e: float, poly: list[tuple[float, float]]) -> bool:
    """Even-odd rule; ``poly`` is a list of (north, east) vertices."""
    inside = False
    j = len(poly) - 1
    for i in range(len(poly)):
        ni, ei = poly[i]
        nj, ej = poly[j]
        if (ei > e) != (ej > e) and n < (nj - ni) * (e - ei) / (ej - ei) + ni:
            inside = not inside
        j = i
    return inside
