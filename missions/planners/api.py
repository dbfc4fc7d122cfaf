"""``plan(kind, places, opts)``: one mission over every place of the right kind, nearest place first."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import GeometryCollection

from missions.errors import PlanningError
from missions.places import Place
from missions.planners.common import BodyStats, MissionBuilder, PlanOptions, PlanResult, resolve_home, to_local
from missions.planners.coverage import coverage_body
from missions.planners.patrol import perimeter_body, points_body, route_body, shoreline_body

PLAN_KINDS = ("coverage", "perimeter", "shoreline", "route", "points")
_PLACE_KINDS = {
    "coverage": ("area",),
    "perimeter": ("area",),
    "shoreline": ("water",),
    "route": ("route",),
    "points": ("point",),
}


def select(kind: str, places: list[Place]) -> list[Place]:
    if kind not in PLAN_KINDS:
        raise PlanningError(f"unknown plan kind {kind!r}; use one of {', '.join(PLAN_KINDS)}")
    chosen = [p for p in places if p.kind in _PLACE_KINDS[kind]]
    if not chosen and kind in ("coverage", "perimeter"):  # any polygon will do (e.g. a lake to cover)
        chosen = [p for p in places if p.geometry.geom_type == "Polygon"]
    if not chosen:
        have = sorted({p.kind for p in places}) or ["nothing"]
        raise PlanningError(f"{kind} needs {' or '.join(_PLACE_KINDS[kind])} places; the input has {', '.join(have)}")
    return chosen


def plan(kind: str, places: list[Place], opts: PlanOptions | None = None) -> PlanResult:
    """Plan ``kind`` over the matching places. Returns the mission (takeoff ... RTL) and its summary."""
    opts = opts or PlanOptions()
    opts.validate()
    chosen = select(kind, places)
    everything = GeometryCollection([p.geometry for p in chosen])
    frame, home, home_enu = resolve_home(everything, opts)
    local = [to_local(frame, p.geometry) for p in chosen]
    b = MissionBuilder(frame, opts, home_enu)
    b.takeoff()
    b.begin_body()
    stats: list[BodyStats] = []
    if kind == "points":
        pts = [(g.x, g.y) for g in local]
        stats.append(points_body(b, pts, [p.priority for p in chosen], opts))
    else:
        todo = list(range(len(chosen)))
        if opts.by_priority:
            todo.sort(key=lambda i: chosen[i].priority)
        while todo:  # nearest remaining place next (within the same priority class when asked)
            here = shapely.Point(b.path[-1])
            pool = [i for i in todo if not opts.by_priority or chosen[i].priority == chosen[todo[0]].priority]
            i = min(pool, key=lambda k: local[k].distance(here))
            todo.remove(i)
            g = local[i]
            if kind == "coverage":
                stats.append(coverage_body(b, g, opts))
            elif kind == "perimeter":
                stats.append(perimeter_body(b, g, opts))
            elif kind == "shoreline":
                stats.append(shoreline_body(b, g, opts, chosen[i].width_m))
            else:
                stats.append(route_body(b, g, opts))
    covered = sum(s.covered_m2 for s in stats)
    area = sum(s.area_m2 for s in stats)
    pct = 100.0 * covered / area if area > 0 else 100.0
    angles = [s.angle_deg for s in stats if s.angle_deg is not None]
    notes = tuple(n for s in stats for n in s.notes)
    photos = sum(s.photos for s in stats)
    return b.finish(kind, photos, float(np.clip(pct, 0, 100)), home, angles[0] if angles else None, notes)
