"""Shapes drawn in the plan view <-> ``missions`` places, fence and rally items (no Qt here).

A ``Shape`` is what the editor draws: a role and (lat, lon) rings. Polygons are ``[outer, *holes]``,
lines ``[line]``, points ``[[p]]``. Roles: area (key area, holes allowed), lake (key water as a
polygon), river (key water as a line with ``width_m``), route, point, fence (inclusion), nofly
(exclusion), rally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from missions.fence import FencePolygon, fence_items, fence_shapes, rally_item
from missions.places import Place
from missions.types import MissionItem

POLYGON_ROLES = ("area", "lake", "fence", "nofly", "hole")
LINE_ROLES = ("river", "route")
POINT_ROLES = ("point", "rally")
ROLES = (*POLYGON_ROLES, *LINE_ROLES, *POINT_ROLES)
LatLon = tuple[float, float]


@dataclass
class Shape:
    role: str
    rings: list[list[LatLon]]
    name: str = ""
    width_m: float = 0.0  # rivers

    @property
    def closed(self) -> bool:
        return self.role in POLYGON_ROLES


def _lonlat(ring: Sequence[LatLon]) -> list[tuple[float, float]]:
    return [(lon, lat) for lat, lon in ring]


def _latlon(coords: Sequence[Sequence[float]], closed: bool) -> list[LatLon]:
    pts = [(float(c[1]), float(c[0])) for c in coords]
    return pts[:-1] if closed and len(pts) > 1 and pts[0] == pts[-1] else pts


def places_from_shapes(shapes: Sequence[Shape]) -> list[Place]:
    """The places the planners take (fence, no-fly and rally shapes are not places)."""
    from shapely.geometry import LineString, Point, Polygon

    out: list[Place] = []
    for s in shapes:
        name = s.name or s.role
        if s.role == "area":
            out.append(Place("area", name, Polygon(_lonlat(s.rings[0]), [_lonlat(h) for h in s.rings[1:]])))
        elif s.role == "lake":
            out.append(Place("water", name, Polygon(_lonlat(s.rings[0]))))
        elif s.role == "river":
            out.append(Place("water", name, LineString(_lonlat(s.rings[0])), width_m=s.width_m))
        elif s.role == "route":
            out.append(Place("route", name, LineString(_lonlat(s.rings[0]))))
        elif s.role == "point":
            lat, lon = s.rings[0][0]
            out.append(Place("point", name, Point(lon, lat)))
    return out


def shapes_from_places(places: Sequence[Place]) -> list[Shape]:
    out: list[Shape] = []
    for p in places:
        g = p.geometry
        if g.geom_type == "Polygon":
            rings = [_latlon(g.exterior.coords, True), *(_latlon(h.coords, True) for h in g.interiors)]
            out.append(Shape("area" if p.kind == "area" else "lake", rings, p.name))
        elif g.geom_type == "LineString":
            out.append(Shape("river" if p.kind == "water" else "route", [_latlon(g.coords, False)], p.name, p.width_m))
        elif g.geom_type == "Point":
            out.append(Shape("point", [[(g.y, g.x)]], p.name))
    return out


def fence_and_rally(shapes: Sequence[Shape], rally_alt_m: float, circles: tuple[MissionItem, ...] = ()
                    ) -> tuple[tuple[MissionItem, ...], tuple[MissionItem, ...]]:  # fmt: skip
    """Fence items (inclusion polygons, no-fly polygons, then any circles kept from a file) and rally items."""
    polys = [FencePolygon(tuple(s.rings[0]), inclusion=s.role == "fence") for s in shapes
             if s.role in ("fence", "nofly") and len(s.rings[0]) >= 3]  # fmt: skip
    fence = (*fence_items(polys), *circles) if polys else tuple(circles)
    rally = tuple(rally_item(s.rings[0][0][0], s.rings[0][0][1], rally_alt_m) for s in shapes if s.role == "rally")
    return tuple(fence), rally


def shapes_from_fence(fence: Sequence[MissionItem], rally: Sequence[MissionItem]
                      ) -> tuple[list[Shape], tuple[MissionItem, ...]]:  # fmt: skip
    """Fence polygons and rally points as shapes; the circle items (and a return point) kept as items."""
    polys, _circles = fence_shapes(tuple(it for it in fence if it.command != 5000))
    shapes = [Shape("fence" if p.inclusion else "nofly", [list(p.vertices)], f"{'fence' if p.inclusion else 'no-fly'} "
                    f"{k + 1}") for k, p in enumerate(polys)]  # fmt: skip
    kept = tuple(it for it in fence if it.command not in (5001, 5002))
    shapes += [Shape("rally", [[(it.lat_deg, it.lon_deg)]], f"rally {k + 1}") for k, it in enumerate(rally)]
    return shapes, kept
