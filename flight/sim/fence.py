"""Geofence checks: max altitude, home circle (FENCE_TYPE bits 1/2) and uploaded fence items (bit 4)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from flight.sim.geo import point_in_polygon

if TYPE_CHECKING:
    from flight.sim.copter import Copter
    from flight.sim.items import Item

_INC_POLY = mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION
_EXC_POLY = mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION
_INC_CIRCLE = mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION
_EXC_CIRCLE = mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION


def zones(items: list[Item]) -> list[tuple[int, list[tuple[float, float]], float]]:
    """Group fence items into (command, vertices lat/lon, radius_m) zones."""
    out: list[tuple[int, list[tuple[float, float]], float]] = []
    i = 0
    while i < len(items):
        item = items[i]
        if item.command in (_INC_POLY, _EXC_POLY):
            count = max(3, int(item.param1))
            verts = [(it.x, it.y) for it in items[i : i + count] if it.command == item.command]
            out.append((item.command, verts, 0.0))
            i += max(1, len(verts))
            continue
        if item.command in (_INC_CIRCLE, _EXC_CIRCLE):
            out.append((item.command, [(item.x, item.y)], item.param1))
        i += 1
    return out


def breach_of(c: Copter, ignore_alt: bool = False) -> str:
    """'' when inside, else which fence is breached ('alt', 'circle', 'polygon')."""
    kinds = int(c.params["FENCE_TYPE"])
    if kinds & 1 and not ignore_alt and c.alt_rel > c.params["FENCE_ALT_MAX"]:
        return "alt"
    hn, he = c.home_ne
    if kinds & 2 and math.hypot(c.n - hn, c.e - he) > c.params["FENCE_RADIUS"]:
        return "circle"
    if kinds & 4:
        for cmd, verts, radius in zones(c.missions[1]):
            if cmd in (_INC_CIRCLE, _EXC_CIRCLE):
                n, e = c.ne_of(*verts[0])
                inside = math.hypot(c.n - n, c.e - e) <= radius
            else:
                poly = [c.ne_of(lat, lon) for lat, lon in verts]
                inside = len(poly) >= 3 and point_in_polygon(c.n, c.e, poly)
            if inside != (cmd in (_INC_POLY, _INC_CIRCLE)):
                return "polygon"
    return ""
