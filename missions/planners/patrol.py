"""Perimeter, shoreline, route and points bodies (ENU geometry in, items appended to a MissionBuilder)."""

from __future__ import annotations

import itertools
import math

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from missions.errors import PlanningError
from missions.planners import tsp
from missions.planners.common import BodyStats, MissionBuilder, PlanOptions


def _ring_from(coords: list[tuple[float, float]], start: tuple[float, float]) -> list[tuple[float, float]]:
    """Open ring rotated to begin at the vertex nearest ``start``, closed back to that vertex."""
    ring = coords[:-1] if coords[0] == coords[-1] else coords
    xy = np.asarray(ring)
    k = int(np.argmin(np.hypot(xy[:, 0] - start[0], xy[:, 1] - start[1])))
    ring = ring[k:] + ring[:k]
    return [*ring, ring[0]]


def _largest(geom: BaseGeometry) -> Polygon | None:
    parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and not g.is_empty]
    return max(parts, key=lambda g: g.area) if parts else None


def _seen(path: list[tuple[float, float]], target: BaseGeometry, width: float) -> tuple[float, float]:
    if len(path) < 2 or target.area <= 0:
        return 0.0, 0.0
    return LineString(path).buffer(width / 2).intersection(target).area, target.area


def _fly_with_roi(b: MissionBuilder, path: list[tuple[float, float]], look_at: BaseGeometry) -> None:
    """Fly ``path``; before each leg aim the camera (DO_SET_ROI_LOCATION) at ``look_at`` beside that leg."""
    b.waypoint(*path[0])
    for a, c in itertools.pairwise(path):
        mid = Point((a[0] + c[0]) / 2, (a[1] + c[1]) / 2)
        target = nearest_points(look_at, mid)[0]
        b.roi(target.x, target.y)
        b.waypoint(*c)


def perimeter_body(b: MissionBuilder, poly: Polygon, opts: PlanOptions) -> BodyStats:
    """Fly the boundary inset by ``inset_m`` (default half a footprint), camera looking inward."""
    width, _ = opts.camera.footprint_m(opts.alt_m)
    inset = opts.inset_m if opts.inset_m is not None else width / 2
    inner = _largest(poly.buffer(-inset, join_style="mitre"))
    if inner is None:
        raise PlanningError(f"perimeter: inset {inset:.0f} m leaves nothing of the area; use a smaller --inset")
    path = _ring_from(list(inner.simplify(0.5).exterior.coords), b.path[-1])
    look = _largest(poly.buffer(-(inset + opts.alt_m))) or inner.representative_point()
    b.gimbal(-45.0)
    _fly_with_roi(b, path, look.exterior if isinstance(look, Polygon) else look)
    band = poly.difference(poly.buffer(-(inset + width))) if inset + width > 0 else poly
    c, a = _seen(path, band, 2 * (inset + width / 2))
    return BodyStats(0, c, a, None, (f"inset {inset:.1f} m, ring {LineString(path).length:.0f} m",))


def shoreline_body(b: MissionBuilder, water: BaseGeometry, opts: PlanOptions, width_m: float = 0.0) -> BodyStats:
    """Follow a lake shore (polygon) or both banks of a river (line) at ``standoff_m``, camera on the water."""
    sw, _ = opts.camera.footprint_m(opts.alt_m)
    if water.geom_type == "Polygon":
        ring = _largest(water.buffer(opts.standoff_m, join_style="round"))
        assert ring is not None
        path = _ring_from(list(ring.simplify(0.5).exterior.coords), b.path[-1])
        b.gimbal(-45.0)
        _fly_with_roi(b, path, water.exterior)
        band = water.buffer(opts.standoff_m + sw / 2).difference(water.buffer(max(opts.standoff_m - sw / 2, 0.0)))
        c, a = _seen(path, band.intersection(water.buffer(opts.standoff_m + sw / 2)), sw)
        return BodyStats(0, c, a, None, (f"shore ring {LineString(path).length:.0f} m at {opts.standoff_m:.0f} m",))
    if water.geom_type != "LineString":
        raise PlanningError(f"shoreline needs a water polygon or river line, got {water.geom_type}")
    half = width_m / 2 + opts.standoff_m
    if half <= 0:
        raise PlanningError("shoreline along a river needs --standoff > 0 or the river's width_m")
    bank1 = list(water.offset_curve(half).simplify(0.5).coords)
    bank2 = list(water.offset_curve(-half).simplify(0.5).coords)[::-1]
    start = np.asarray(b.path[-1])
    if np.hypot(*(np.asarray(bank2[0]) - start)) < np.hypot(*(np.asarray(bank1[0]) - start)):
        bank1, bank2 = bank2, bank1
    path = bank1 + bank2
    b.gimbal(-45.0)
    _fly_with_roi(b, path, water)
    river = water.buffer(max(width_m / 2, 1.0))
    band = water.buffer(half + sw / 2)
    c, a = _seen(path, band, sw)
    return BodyStats(0, c, a, None, (f"both banks at {half:.0f} m from the centre line", f"river {river.area:.0f} m²"))


def route_body(b: MissionBuilder, line: LineString, opts: PlanOptions) -> BodyStats:
    """Follow a road; a corridor wider than one footprint is flown as parallel passes, alternating."""
    width, height = opts.camera.footprint_m(opts.alt_m)
    spacing = width * (1 - opts.side_overlap)
    corridor = opts.corridor_m
    n = 1 if corridor <= width else math.ceil(corridor / spacing)
    offsets = [0.0] if n == 1 else [-corridor / 2 + (k + 0.5) * corridor / n for k in range(n)]
    passes = []
    for k, off in enumerate(offsets):
        seg = line if off == 0 else line.offset_curve(off)
        pts = list(seg.simplify(0.5).coords)
        passes.append(pts if k % 2 == 0 else pts[::-1])
    here = np.asarray(b.path[-1])
    if n == 1 and np.hypot(*(np.asarray(passes[0][-1]) - here)) < np.hypot(*(np.asarray(passes[0][0]) - here)):
        passes = [passes[0][::-1]]
    trigger = height * (1 - opts.front_overlap)
    b.gimbal(-90.0 if n > 1 else -45.0)
    if n > 1:
        b.trigger_distance(trigger)
    path: list[tuple[float, float]] = []
    for pts in passes:
        for p in pts:
            b.waypoint(*p)
            path.append(p)
    photos = 0
    if n > 1:
        b.trigger_distance(0.0)
        photos = int(sum(LineString(p).length for p in passes) // trigger)
    c, a = _seen(path, line.buffer(max(corridor / 2, 0.5), cap_style="flat"), width)
    return BodyStats(photos, c, a, None, (f"{n} pass(es) over a {corridor:.0f} m corridor",))


def points_body(
    b: MissionBuilder, pts: list[tuple[float, float]], priorities: list[int], opts: PlanOptions
) -> BodyStats:
    """Visit points in a short loop (NN + 2-opt + Or-opt), optionally priority class by class; loiter/orbit at each."""
    if not pts:
        raise PlanningError("points: no key points given")
    order: list[int] = []
    pos = b.path[-1]
    groups = sorted(set(priorities)) if opts.by_priority else [None]
    for g in groups:
        idx = [i for i in range(len(pts)) if g is None or priorities[i] == g]
        xy = np.asarray([pos, *(pts[i] for i in idx)], dtype=float)
        tour = tsp.solve(xy)
        order.extend(idx[k - 1] for k in tour[1:])
        pos = pts[order[-1]]
    b.gimbal(-45.0)
    for i in order:
        e, n = pts[i]
        b.roi(e, n)
        if opts.orbit_radius_m > 0:
            r = opts.orbit_radius_m
            start = math.atan2(b.path[-1][1] - n, b.path[-1][0] - e)
            hold = opts.loiter_s / 8
            for k in range(9):
                a = start + 2 * math.pi * k / 8
                b.waypoint(e + r * math.cos(a), n + r * math.sin(a), hold if k < 8 else 0.0)
        else:
            b.loiter(e, n, opts.loiter_s)
    return BodyStats(0, float(len(order)), float(len(pts)), None, (f"visit order {order}",))
