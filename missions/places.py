"""Named patrol places from GeoJSON (or KML): key areas, waters, routes and points.

A place is a GeoJSON Feature with ``properties``: ``kind`` = area | water | route | point (inferred
from the geometry when absent), ``name``, ``priority`` = 1 | 3 | 5 (the 1-3-5-minute response
class; default 3) and optionally ``width_m`` (river/road width). Geometry is kept in lon/lat as a
shapely geometry (x = lon, y = lat); planners project it to a local ENU frame.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from missions.errors import MissionFileError
from missions.formats.common import read_text
from missions.formats.qgc_plan import parse_json

KINDS = ("area", "water", "route", "point")
PRIORITIES = (1, 3, 5)
_ALLOWED = {
    "area": ("Polygon",),
    "water": ("Polygon", "LineString"),
    "route": ("LineString",),
    "point": ("Point",),
}
_INFER = {"Polygon": "area", "LineString": "route", "Point": "point"}


@dataclass(frozen=True, slots=True)
class Place:
    kind: str
    name: str
    geometry: BaseGeometry  # lon/lat
    priority: int = 3
    width_m: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name!r}"


def _check_geometry(path: Path, place: str, geom: BaseGeometry) -> None:
    if geom.is_empty:
        raise MissionFileError(path, place, "empty geometry")
    if not shapely.is_valid(geom):
        why = explain_validity(geom)
        raise MissionFileError(path, place, f"invalid {geom.geom_type}: {why}; fix the outline (no self-intersections, "
                               "holes inside the shell)")
    lon_lat = shapely.get_coordinates(geom)
    if ((abs(lon_lat[:, 1]) > 90) | (abs(lon_lat[:, 0]) > 180)).any():
        raise MissionFileError(path, place, "coordinate out of range; GeoJSON order is [lon, lat]")


def place_from_feature(path: Path, index: int, feat: Any) -> list[Place]:
    where = f"feature {index + 1}"
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        raise MissionFileError(path, where, "expected a GeoJSON Feature")
    props = feat.get("properties") or {}
    name = str(props.get("name") or f"#{index + 1}")
    where = f"feature {index + 1} {name!r}"
    try:
        geom = shape(feat.get("geometry") or {})
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, shapely.errors.GEOSException) as exc:
        raise MissionFileError(path, where, f"bad geometry ({exc})") from None
    parts = list(geom.geoms) if geom.geom_type.startswith("Multi") else [geom]
    kind = props.get("kind") or _INFER.get(parts[0].geom_type if parts else "", "")
    if kind not in KINDS:
        raise MissionFileError(path, where, f"kind {kind!r} unknown; use one of {', '.join(KINDS)}")
    priority = props.get("priority", 3)
    if priority not in PRIORITIES:
        raise MissionFileError(path, where, f"priority {priority!r} must be 1, 3 or 5 (response class in minutes)")
    width = props.get("width_m", 0.0)
    if isinstance(width, bool) or not isinstance(width, (int, float)) or width < 0:
        raise MissionFileError(path, where, f"width_m {width!r} must be a number >= 0")
    out = []
    for k, g in enumerate(parts):
        if g.geom_type not in _ALLOWED[kind]:
            raise MissionFileError(path, where, f"a {kind} needs {' or '.join(_ALLOWED[kind])}, got {g.geom_type}")
        _check_geometry(path, where, g)
        out.append(Place(kind, name if len(parts) == 1 else f"{name} ({k + 1})", g, int(priority), float(width)))
    return out


def places_from_geojson(path: Path, doc: Any) -> list[Place]:
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise MissionFileError(path, "top level", "expected a GeoJSON FeatureCollection of places")
    out: list[Place] = []
    for i, f in enumerate(doc["features"]):
        out.extend(place_from_feature(path, i, f))
    if not out:
        raise MissionFileError(path, "features", "no places found")
    return out


def places_from_kml(path: Path) -> list[Place]:
    from missions.formats.kml import read_geometries

    out = []
    for g in read_geometries(path):
        d = dict(g.data)
        xy = [(c[0], c[1]) for c in g.coords]
        try:
            if g.kind == "Polygon":
                geom: BaseGeometry = Polygon(xy, [[(c[0], c[1]) for c in h] for h in g.holes])
            elif g.kind == "LineString":
                geom = LineString(xy)
            else:
                geom = Point(xy[0])
        except (ValueError, shapely.errors.GEOSException) as exc:
            raise MissionFileError(path, g.place, f"bad geometry ({exc})") from None
        feat = {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
                "properties": {"name": g.name or None, "kind": d.get("kind"),
                               "priority": int(d["priority"]) if d.get("priority", "").isdigit() else 3}}
        places = place_from_feature(path, len(out), feat)
        out.extend(Place(p.kind, p.name, p.geometry, p.priority, p.width_m) for p in places)
    return out


def load_places(path: Path | str) -> list[Place]:
    """Read places from ``.geojson``/``.json`` or ``.kml``; every problem names the file and feature."""
    path = Path(path)
    if path.suffix.lower() == ".kml":
        return places_from_kml(path)
    return places_from_geojson(path, parse_json(path, read_text(path)))


def save_places(places: list[Place], path: Path | str) -> None:
    from missions.formats.common import write_text_atomic

    feats = [{"type": "Feature", "geometry": shapely.geometry.mapping(p.geometry),
              "properties": {"kind": p.kind, "name": p.name, "priority": p.priority, "width_m": p.width_m}}
             for p in places]
    write_text_atomic(Path(path), json.dumps({"type": "FeatureCollection", "features": feats}, indent=1) + "\n")
