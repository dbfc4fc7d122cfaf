"""Geofence shapes <-> MAVLink fence items (MAV_CMD_NAV_FENCE_*), as QGC and ArduPilot exchange them."""

from __future__ import annotations

from dataclasses import dataclass

from missions import mavcmd
from missions.errors import MissionError
from missions.types import MissionItem


@dataclass(frozen=True, slots=True)
class FencePolygon:
    """A fence polygon: ``vertices`` as (lat_deg, lon_deg), open ring; inclusion keeps the vehicle in."""

    vertices: tuple[tuple[float, float], ...]
    inclusion: bool = True


@dataclass(frozen=True, slots=True)
class FenceCircle:
    lat_deg: float
    lon_deg: float
    radius_m: float
    inclusion: bool = True


def fence_items(
    polygons: list[FencePolygon] | tuple[FencePolygon, ...] = (),
    circles: list[FenceCircle] | tuple[FenceCircle, ...] = (),
) -> tuple[MissionItem, ...]:
    """Fence shapes as mission-protocol fence items (polygons first, then circles, like QGC)."""
    out: list[MissionItem] = []
    for poly in polygons:
        cmd = mavcmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION if poly.inclusion else mavcmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION
        n = float(len(poly.vertices))
        for lat, lon in poly.vertices:
            out.append(MissionItem(cmd, mavcmd.FRAME_GLOBAL, n, 0.0, 0.0, 0.0, lat, lon, 0.0))
    for c in circles:
        cmd = mavcmd.NAV_FENCE_CIRCLE_INCLUSION if c.inclusion else mavcmd.NAV_FENCE_CIRCLE_EXCLUSION
        out.append(MissionItem(cmd, mavcmd.FRAME_GLOBAL, c.radius_m, 0.0, 0.0, 0.0, c.lat_deg, c.lon_deg, 0.0))
    return tuple(out)


def fence_shapes(items: tuple[MissionItem, ...] | list[MissionItem]) -> tuple[list[FencePolygon], list[FenceCircle]]:
    """Group fence items back into polygons (param1 = vertex count) and circles (param1 = radius).

    A return point (MAV_CMD_NAV_FENCE_RETURN_POINT, 5000) is a place, not a boundary: skipped here,
    see ``fence_return_point``.
    """
    polygons: list[FencePolygon] = []
    circles: list[FenceCircle] = []
    i = 0
    items = [it for it in items if it.command != mavcmd.NAV_FENCE_RETURN_POINT]
    while i < len(items):
        it = items[i]
        if it.command in (mavcmd.NAV_FENCE_CIRCLE_INCLUSION, mavcmd.NAV_FENCE_CIRCLE_EXCLUSION):
            circles.append(
                FenceCircle(it.lat_deg, it.lon_deg, it.param1, it.command == mavcmd.NAV_FENCE_CIRCLE_INCLUSION)
            )
            i += 1
            continue
        if it.command not in (mavcmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION, mavcmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION):
            raise MissionError(f"fence item {i}: command {it.command} is not a fence command (5001-5004)")
        n = int(it.param1)
        group = items[i : i + n]
        if n < 3 or len(group) < n or any(g.command != it.command or int(g.param1) != n for g in group):
            raise MissionError(
                f"fence item {i}: polygon says {n} vertices but the items that follow do not match; "
                "every vertex of one polygon needs the same command and param1 = vertex count >= 3"
            )
        polygons.append(
            FencePolygon(
                tuple((g.lat_deg, g.lon_deg) for g in group), it.command == mavcmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION
            )
        )
        i += n
    return polygons, circles


def fence_return_point(items: tuple[MissionItem, ...] | list[MissionItem]) -> MissionItem | None:
    """The fence's return point item (ArduPlane's breach return; QGC's ``breachReturn``), if any."""
    return next((it for it in items if it.command == mavcmd.NAV_FENCE_RETURN_POINT), None)


def rally_item(lat_deg: float, lon_deg: float, alt_m: float) -> MissionItem:
    return MissionItem(
        mavcmd.NAV_RALLY_POINT, mavcmd.FRAME_GLOBAL_RELATIVE_ALT, 0.0, 0.0, 0.0, 0.0, lat_deg, lon_deg, alt_m
    )
