"""1-3-5 response classes, ETAs and the unit recommendation (pure functions over plain data).

- ``ResponseAreas(cfg.response_areas).classify(lat, lon)``: the area containing the point with the
  tightest target (1 key site, 3 city centre); outside every area (or no position) the class is
  ``elsewhere`` with 5 minutes, and ``inside`` says so.
- ``eta_s(unit, lat, lon, cfg)``: straight-line distance x ``detour_factor`` / the kind's speed; a
  drone flies straight (no detour) at its cruise speed plus the climb to ``[dispatch.drone]
  alt_rel_m``.
- ``recommend(units, lat, lon, remaining_s, cfg)``: available units with a position ranked by ETA
  (least first), each saying whether it makes the deadline; the others listed with the reason they
  are not offered (assigned, off duty, no position).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import shapely

from dispatch.config import DispatchConfig, ResponseAreaConfig, geometry_shape
from dispatch.units import Unit

ELSEWHERE = "elsewhere"
ELSEWHERE_TARGET_MIN = 5
EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class ResponseClass:
    area: str  # a [response_areas.NAME] or "elsewhere"
    target_min: int  # 1 | 3 | 5
    label: str
    inside: bool  # False: outside every configured area (or no position), the default 5 minutes

    @property
    def target_s(self) -> float:
        return self.target_min * 60.0

    def describe(self) -> str:
        if self.inside:
            return f"{self.label} ({self.target_min} min)"
        return f"elsewhere ({self.target_min} min: outside every response area)"


class ResponseAreas:
    """The configured response areas, prepared for fast point tests."""

    def __init__(self, areas: Mapping[str, ResponseAreaConfig]) -> None:
        self._areas = []
        for name, cfg in sorted(areas.items(), key=lambda kv: (kv[1].target_min, kv[0])):
            shape = geometry_shape(cfg.geometry)
            shapely.prepare(shape)
            self._areas.append((name, cfg, shape))

    def classify(self, lat_deg: float | None, lon_deg: float | None) -> ResponseClass:
        if lat_deg is not None and lon_deg is not None:
            pt = shapely.Point(lon_deg, lat_deg)
            for name, cfg, shape in self._areas:  # tightest target first
                if shape.covers(pt):
                    return ResponseClass(name, cfg.target_min, cfg.label or name, True)
        return ResponseClass(ELSEWHERE, ELSEWHERE_TARGET_MIN, ELSEWHERE, False)

    def polygons(self) -> dict[str, list[tuple[float, float]]]:
        """Exterior rings as (lat, lon) lists, for the map and CAP."""
        out = {}
        for name, _, shape in self._areas:
            geoms = getattr(shape, "geoms", [shape])
            out[name] = [(y, x) for x, y in geoms[0].exterior.coords]
        return out


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def eta_s(unit: Unit, lat_deg: float, lon_deg: float, cfg: DispatchConfig) -> float:
    """Estimated seconds for ``unit`` to reach the point (``ValueError`` if the unit has no position)."""
    if unit.lat_deg is None or unit.lon_deg is None:
        raise ValueError(f"unit {unit.name} has no position")
    d = distance_m(unit.lat_deg, unit.lon_deg, lat_deg, lon_deg)
    speed = unit.speed_m_s or cfg.speed_m_s(unit.kind)
    if unit.kind == "drone":
        return d / speed + cfg.drone.alt_rel_m / cfg.drone.climb_m_s
    return d * cfg.detour_factor / speed


@dataclass(frozen=True, slots=True)
class Candidate:
    unit: Unit
    distance_m: float
    eta_s: float
    makes_deadline: bool
    slack_s: float  # remaining time at arrival (negative: late by that much)


@dataclass(frozen=True, slots=True)
class Recommendation:
    ranked: tuple[Candidate, ...]  # least ETA first
    not_offered: tuple[tuple[str, str], ...]  # (unit name, reason)

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None


def recommend(
    units: Iterable[Unit], lat_deg: float, lon_deg: float, remaining_s: float, cfg: DispatchConfig
) -> Recommendation:
    ranked, skipped = [], []
    for u in units:
        if u.status != "available":
            why = f"assigned to alert {u.alert_id}" if u.alert_id is not None else u.status.replace("_", " ")
            skipped.append((u.name, why))
            continue
        if u.lat_deg is None or u.lon_deg is None:
            skipped.append((u.name, "no position (set it by hand or from its GPS feed)"))
            continue
        eta = eta_s(u, lat_deg, lon_deg, cfg)
        d = distance_m(u.lat_deg, u.lon_deg, lat_deg, lon_deg)
        ranked.append(Candidate(u, d, eta, eta <= remaining_s, remaining_s - eta))
    ranked.sort(key=lambda c: (c.eta_s, c.unit.name))
    return Recommendation(tuple(ranked), tuple(skipped))
