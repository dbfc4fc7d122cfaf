"""Coverage ("lawnmower") over a polygon with holes, like QGC's survey but chosen for fewest turns.

Lane spacing = footprint width x (1 - side overlap). Each lane covers a strip of that width: its
extent is the polygon's extent *within the strip* (not only at the centre line), so slanted edges
and corners are covered and no gap wider than the footprint remains. The sweep angle is chosen
among the convex hull's edge directions and a 10-degree grid by a fast scan-line cost (length +
turns); strips are split into cells (boustrophedon decomposition) so holes and concave shapes are
swept cell by cell, each entered at the corner nearest to where the vehicle is.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, Polygon, box
from shapely.geometry.base import BaseGeometry

from missions.errors import PlanningError
from missions.planners.common import BodyStats, MissionBuilder, PlanOptions, PlanResult, resolve_home, to_local

Interval = tuple[float, float, float]  # y, x_start, x_end (rotated frame)


def _edges(poly: Polygon) -> np.ndarray:
    rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
    return np.vstack([np.hstack([r[:-1], r[1:]]) for r in rings])


def _lane_ys(ymin: float, ymax: float, spacing: float) -> np.ndarray:
    n = max(1, math.ceil((ymax - ymin) / spacing - 1e-9))
    return ymin + (ymax - ymin - (n - 1) * spacing) / 2 + spacing * np.arange(n)


def sweep_cost(edges: np.ndarray, angle_rad: float, spacing: float, turn_m: float) -> float:
    """Scan-line estimate of the path cost for lanes along ``angle_rad``: lane lengths + transitions + turns.

    Each lane is measured on its centre line and both strip edges, so slanted ends (which the real
    lanes extend over) are paid for.
    """
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    y1 = -s * edges[:, 0] + c * edges[:, 1]
    y2 = -s * edges[:, 2] + c * edges[:, 3]
    x1 = c * edges[:, 0] + s * edges[:, 1]
    x2 = c * edges[:, 2] + s * edges[:, 3]
    ys = _lane_ys(min(y1.min(), y2.min()), max(y1.max(), y2.max()), spacing)
    n = len(ys)
    eps = 1e-6 * spacing
    lines = np.concatenate([ys, ys - spacing / 2 + eps, ys + spacing / 2 - eps])
    cross = (y1[None, :] <= lines[:, None]) != (y2[None, :] <= lines[:, None])
    dy = np.where(y2 != y1, y2 - y1, 1.0)
    xs = x1[None, :] + (lines[:, None] - y1[None, :]) * (x2 - x1)[None, :] / dy[None, :]
    xs = np.where(cross, xs, np.nan)
    xs.sort(axis=1)
    counts = cross.sum(axis=1)
    total, segments = 0.0, 0
    for k in range(n):
        row = xs[k, : counts[k]]
        if len(row) < 2:
            continue
        if counts[k] == 2:
            rows = [xs[j, :2] for j in (k, n + k, 2 * n + k) if counts[j] == 2]
            total += max(r[1] for r in rows) - min(r[0] for r in rows)
            segments += 1
        else:
            total += float((row[1::2] - row[0::2]).sum())
            segments += len(row) // 2
    return total + (n - 1) * spacing + turn_m * 2 * max(0, segments - 1)


def best_angle(poly: Polygon, spacing: float, turn_m: float) -> float:
    """Sweep direction (radians, from east, counter-clockwise) with the lowest scan-line cost."""
    hull = np.asarray(poly.convex_hull.exterior.coords)
    d = np.diff(hull, axis=0)
    cands = set(np.round(np.mod(np.arctan2(d[:, 1], d[:, 0]), math.pi), 6))
    cands |= set(np.round(np.radians(np.arange(0, 180, 10)), 6))
    edges = _edges(poly)
    return min(sorted(cands), key=lambda a: sweep_cost(edges, float(a), spacing, turn_m))


def strip_intervals(poly_rot: Polygon, spacing: float) -> list[list[tuple[float, float]]]:
    """Per lane (bottom to top), the x-intervals of the polygon inside that lane's strip."""
    minx, ymin, maxx, ymax = poly_rot.bounds
    ys = _lane_ys(ymin, ymax, spacing)
    boxes = [box(minx - 1, y - spacing / 2, maxx + 1, y + spacing / 2) for y in ys]
    pieces = shapely.intersection(poly_rot, np.array(boxes, dtype=object))
    lanes: list[list[tuple[float, float]]] = []
    for piece in pieces:
        parts = [g for g in getattr(piece, "geoms", [piece]) if g.geom_type == "Polygon" and g.area > 1e-6]
        ivs = sorted((g.bounds[0], g.bounds[2]) for g in parts)
        merged: list[tuple[float, float]] = []
        for a, b in ivs:
            if merged and a <= merged[-1][1] + 1e-9:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        lanes.append(merged)
    return lanes, ys  # type: ignore[return-value]


def cells_from_lanes(lanes: list[list[tuple[float, float]]], ys: np.ndarray) -> list[list[Interval]]:
    """Boustrophedon decomposition: chain intervals of consecutive lanes that overlap one-to-one."""
    cells: list[list[Interval]] = []
    open_cells: list[tuple[int, tuple[float, float]]] = []  # (cell index, last interval) for the previous lane
    for k, ivs in enumerate(lanes):
        nxt: list[tuple[int, tuple[float, float]]] = []
        for iv in ivs:
            over = [(ci, prev) for ci, prev in open_cells if prev[0] < iv[1] and iv[0] < prev[1]]
            if len(over) == 1:
                ci, prev = over[0]
                partners = [j for j in ivs if j[0] < prev[1] and prev[0] < j[1]]
                if len(partners) == 1:
                    cells[ci].append((float(ys[k]), iv[0], iv[1]))
                    nxt.append((ci, iv))
                    continue
            cells.append([(float(ys[k]), iv[0], iv[1])])
            nxt.append((len(cells) - 1, iv))
        open_cells = nxt
    return cells


def _cell_path(cell: list[Interval], from_top: bool, from_right: bool) -> list[tuple[float, float]]:
    lanes = cell[::-1] if from_top else cell
    pts: list[tuple[float, float]] = []
    right = from_right
    for y, a, b in lanes:
        pts.extend([(b, y), (a, y)] if right else [(a, y), (b, y)])
        right = not right
    return pts


def order_cells(cells: list[list[Interval]], start: tuple[float, float]) -> list[tuple[float, float]]:
    """Visit cells nearest-first, entering each at its corner nearest the current position."""
    todo = list(range(len(cells)))
    pos = np.asarray(start)
    out: list[tuple[float, float]] = []
    while todo:
        best = None
        for ci in todo:
            for top in (False, True):
                for right in (False, True):
                    lane = cells[ci][-1] if top else cells[ci][0]
                    corner = np.array([lane[2] if right else lane[1], lane[0]])
                    d = float(np.hypot(*(corner - pos)))
                    if best is None or d < best[0]:
                        best = (d, ci, top, right)
        assert best is not None
        _, ci, top, right = best
        pts = _cell_path(cells[ci], top, right)
        out.extend(pts)
        pos = np.asarray(pts[-1])
        todo.remove(ci)
    return out


def coverage_path(
    poly: Polygon, spacing: float, angle_rad: float, start: tuple[float, float]
) -> list[tuple[float, float]]:
    """The lawnmower path (ENU metres) over ``poly`` with lanes along ``angle_rad``."""
    deg = math.degrees(angle_rad)
    rot = affinity.rotate(poly, -deg, origin=(0, 0))
    lanes, ys = strip_intervals(rot, spacing)
    cells = cells_from_lanes(lanes, ys)
    c, s = math.cos(-angle_rad), math.sin(-angle_rad)
    start_rot = (c * start[0] - s * start[1], s * start[0] + c * start[1])
    pts = order_cells(cells, start_rot)
    ca, sa = math.cos(angle_rad), math.sin(angle_rad)
    return [(ca * x - sa * y, sa * x + ca * y) for x, y in pts]


def route_transits(
    pts: list[tuple[float, float]], allowed: BaseGeometry, via: BaseGeometry
) -> list[tuple[float, float]]:
    """Keep every transit (lane end -> next lane start) inside ``allowed``: a straight leg when it fits, else
    the shortest path over the vertices of ``via`` (a polygon inside ``allowed``), by Dijkstra on the
    visibility graph. Lanes (pairs pts[2i], pts[2i+1]) are unchanged."""
    shapely.prepare(allowed)
    nodes: list[tuple[float, float]] | None = None
    out: list[tuple[float, float]] = []
    for k, p in enumerate(pts):
        if k > 0 and k % 2 == 0 and not allowed.covers(LineString([out[-1], p])):
            if nodes is None:
                rings = [via.exterior, *via.interiors] if via.geom_type == "Polygon" else []
                nodes = [c for r in rings for c in list(r.coords)[:-1]]
            out.extend(_visibility_path(out[-1], p, nodes, allowed))
        out.append(p)
    return out


def _visibility_path(a: tuple[float, float], b: tuple[float, float], nodes: list[tuple[float, float]],
                     allowed: BaseGeometry) -> list[tuple[float, float]]:
    """Intermediate vertices of the shortest a -> b path whose legs stay in ``allowed`` ([] if none exists)."""
    pts = [a, b, *nodes]
    n = len(pts)
    best = [math.inf] * n
    prev = [-1] * n
    best[0] = 0.0
    done = [False] * n
    for _ in range(n):
        u = min((i for i in range(n) if not done[i]), key=lambda i: best[i], default=-1)
        if u < 0 or best[u] == math.inf or u == 1:
            break
        done[u] = True
        for v in range(n):
            if done[v] or v == u:
                continue
            d = best[u] + math.dist(pts[u], pts[v])
            if d < best[v] and allowed.covers(LineString([pts[u], pts[v]])):
                best[v], prev[v] = d, u
    if prev[1] < 0:
        return []
    path, v = [], prev[1]
    while v > 0:
        path.append(pts[v])
        v = prev[v]
    return path[::-1]


def coverage_body(b: MissionBuilder, poly: Polygon, opts: PlanOptions) -> BodyStats:
    """Append a lawnmower over ``poly`` (ENU) to ``b``, entering at the corner nearest the current position."""
    if poly.geom_type != "Polygon" or poly.area < 1.0:
        raise PlanningError(f"coverage needs a polygon with area, got {poly.geom_type} of {poly.area:.1f} m²")
    width, height = opts.camera.footprint_m(opts.alt_m)
    spacing = width * (1 - opts.side_overlap)
    trigger = height * (1 - opts.front_overlap)
    angle = (math.radians(opts.sweep_angle_deg) if opts.sweep_angle_deg is not None
             else best_angle(poly, spacing, opts.turn_penalty_s * opts.speed_m_s))
    pts = coverage_path(poly, spacing, angle, b.path[-1])
    # transits between lanes stay within half a footprint of the area (around holes and notches)
    # (+0.5 m: lane ends may sit exactly half a footprint out, and buffers approximate arcs by chords)
    allowed = poly.buffer(width / 2 + 0.5, quad_segs=16)
    flown = route_transits(pts, allowed, poly.buffer(width / 4).simplify(width / 20))
    b.gimbal(-90.0)
    b.trigger_distance(trigger)
    for e, n in flown:
        b.waypoint(e, n)
    b.trigger_distance(0.0)
    lanes = MultiLineString([pts[i:i + 2] for i in range(0, len(pts) - 1, 2)])
    covered = lanes.buffer(width / 2, cap_style="square").intersection(poly).area
    photos = int(float(lanes.length) // trigger) + len(lanes.geoms)
    note = f"footprint {width:.0f} x {height:.0f} m, lane spacing {spacing:.1f} m, trigger every {trigger:.1f} m"
    return BodyStats(photos, covered, poly.area, math.degrees(angle) % 180, (note,))


def plan_coverage(area_lonlat: BaseGeometry, opts: PlanOptions) -> PlanResult:
    """Coverage of one polygon (lon/lat, holes allowed): takeoff, lawnmower, DO_JUMP cycles, RTL."""
    opts.validate()
    frame, home, home_enu = resolve_home(area_lonlat, opts)
    b = MissionBuilder(frame, opts, home_enu)
    b.takeoff()
    b.begin_body()
    st = coverage_body(b, to_local(frame, area_lonlat), opts)
    return b.finish("coverage", st.photos, st.pct, home, st.angle_deg, st.notes)
