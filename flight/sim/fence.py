"""Geofence checks: max altitude, home circle (FENCE_TYPE bits 1/2) and uploaded fence items (bit 4)."""

from __future__ import annotations

import math

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from flight.sim.items import Item
from flight.sim.state import CopterState

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


def _inside_polygon(n: float, e: float, poly: list[tuple[float, float]]) -> bool:
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


def breach_of(s: CopterState, ignore_alt: bool = False) -> str:
    """'' when inside, else which fence is breached ('alt', 'circle', 'polygon')."""
    k = s.kin
    kinds = int(s.params["FENCE_TYPE"])
    if kinds & 1 and not ignore_alt and s.alt_rel > s.params["FENCE_ALT_MAX"]:
        return "alt"
    hn, he = s.home_ne
    if kinds & 2 and math.hypot(k.n - hn, k.e - he) > s.params["FENCE_RADIUS"]:
        return "circle"
    if kinds & 4:
        for cmd, verts, radius in zones(s.missions[1]):
            if cmd in (_INC_CIRCLE, _EXC_CIRCLE):
                n, e = s.ne_of(*verts[0])
                inside = math.hypot(k.n - n, k.e - e) <= radius
            else:
                poly = [s.ne_of(lat, lon) for lat, lon in verts]
                inside = len(poly) >= 3 and _inside_polygon(k.n, k.e, poly)
            if inside != (cmd in (_INC_POLY, _INC_CIRCLE)):
                return "polygon"
    return ""
