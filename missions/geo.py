"""Local ENU (east-north-up) tangent plane for planning, and great-circle helpers.

``LocalFrame(lat0, lon0)`` maps lat/lon to metres east/north of the reference with the WGS84
meridian and prime-vertical radii *at the reference latitude* — a flat-earth tangent plane, good to
centimetres over a few kilometres at any latitude (not only near the equator) and indifferent to
UTM zone edges (no zones are involved). Longitudes are unwrapped across the antimeridian.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)
MEAN_EARTH_RADIUS_M = 6371008.8


def _wrap180(dlon: np.ndarray | float) -> np.ndarray | float:
    return (np.asarray(dlon) + 180.0) % 360.0 - 180.0


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """Tangent plane at (lat0_deg, lon0_deg). Vectorised: accepts floats or numpy arrays."""

    lat0_deg: float
    lon0_deg: float

    @property
    def _radii(self) -> tuple[float, float]:
        s = math.sin(math.radians(self.lat0_deg))
        w = math.sqrt(1.0 - WGS84_E2 * s * s)
        meridian = WGS84_A * (1.0 - WGS84_E2) / (w**3)
        normal = WGS84_A / w
        return meridian, normal * math.cos(math.radians(self.lat0_deg))

    def to_enu(self, lat_deg, lon_deg):
        m, n_cos = self._radii
        east = np.radians(_wrap180(np.asarray(lon_deg, dtype=float) - self.lon0_deg)) * n_cos
        north = np.radians(np.asarray(lat_deg, dtype=float) - self.lat0_deg) * m
        return east, north

    def to_geo(self, east_m, north_m):
        m, n_cos = self._radii
        lat = self.lat0_deg + np.degrees(np.asarray(north_m, dtype=float) / m)
        lon = _wrap180(self.lon0_deg + np.degrees(np.asarray(east_m, dtype=float) / n_cos))
        return lat, lon

    def point_to_geo(self, east_m: float, north_m: float) -> tuple[float, float]:
        lat, lon = self.to_geo(east_m, north_m)
        return float(lat), float(lon)

    def point_to_enu(self, lat_deg: float, lon_deg: float) -> tuple[float, float]:
        e, n = self.to_enu(lat_deg, lon_deg)
        return float(e), float(n)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * MEAN_EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
