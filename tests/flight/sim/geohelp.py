"""North/east metres <-> lat/lon for the simulator tests, on the same ``missions.geo`` tangent plane
the simulator flies on."""

from __future__ import annotations

from missions.geo import LocalFrame


def offset_deg(lat_deg: float, lon_deg: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m``/``east_m`` metres from (lat, lon)."""
    return LocalFrame(lat_deg, lon_deg).point_to_geo(east_m, north_m)


def ne_of(lat0_deg: float, lon0_deg: float, lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """North/east metres of (lat, lon) from (lat0, lon0)."""
    east, north = LocalFrame(lat0_deg, lon0_deg).point_to_enu(lat_deg, lon_deg)
    return north, east
