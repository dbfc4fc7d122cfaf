"""Read a geofence from a file: a .plan's geoFence, a GeoJSON or a KML of polygons/circles.

GeoJSON: Polygon features are inclusion zones unless ``properties.inclusion`` is false,
``properties.fence`` is "exclusion", or ``kind`` is "nofly"/"no-fly"/"exclusion"; Point features with
``radius_m`` are circles. A GeoJSON plan (features with ``role`` = fence) uses its fence items.
KML: polygons are inclusion zones unless the Placemark name says no-fly/nofly/exclusion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from missions.errors import MissionFileError
from missions.fence import FenceCircle, FencePolygon, fence_items
from missions.formats import load_plan
from missions.formats.common import read_text
from missions.formats.geojson_plan import from_document, is_plan_document
from missions.formats.qgc_plan import parse_json
from missions.types import MissionItem

_NOFLY = ("nofly", "no-fly", "no fly", "exclusion")


def _is_exclusion(props: dict[str, Any]) -> bool:
    if props.get("inclusion") is False or str(props.get("fence", "")).lower() == "exclusion":
        return True
    return str(props.get("kind", "")).lower() in _NOFLY


def _polygon(path: Path, place: str, geom: Any) -> tuple[tuple[float, float], ...]:
    if not geom.is_valid:
        raise MissionFileError(path, place, f"invalid polygon: {shapely.validation.explain_validity(geom)}")
    return tuple((float(y), float(x)) for x, y in list(geom.exterior.coords)[:-1])


def load_fence(path: Path | str) -> tuple[MissionItem, ...]:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".plan",):
        fence = load_plan(path).fence
        if not fence:
            raise MissionFileError(path, "geoFence", "no fence polygons or circles in this plan")
        return fence
    polys: list[FencePolygon] = []
    circles: list[FenceCircle] = []
    if suffix == ".kml":
        from missions.formats.kml import read_geometries

        for g in read_geometries(path):
            if g.kind == "Polygon":
                excl = any(w in g.name.lower() for w in _NOFLY)
                poly = shapely.Polygon([(c[0], c[1]) for c in g.coords]) if len(g.coords) >= 3 else None
                if poly is None:
                    raise MissionFileError(path, g.place, "a fence polygon needs at least 3 points")
                polys.append(FencePolygon(_polygon(path, g.place, poly), not excl))
    else:
        doc = parse_json(path, read_text(path))
        if is_plan_document(doc):
            return from_document(path, doc).fence
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise MissionFileError(path, "top level", "expected a GeoJSON FeatureCollection of fence polygons")
        for i, f in enumerate(feats):
            props = (f.get("properties") if isinstance(f, dict) else None) or {}
            place = f"feature {i + 1}" + (f" {props['name']!r}" if props.get("name") else "")
            try:
                geom = shape(f.get("geometry") or {})
            except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException) as exc:
                raise MissionFileError(path, place, f"bad geometry ({exc})") from None
            parts = list(getattr(geom, "geoms", [geom]))
            for g in parts:
                if g.geom_type == "Polygon":
                    polys.append(FencePolygon(_polygon(path, place, g), not _is_exclusion(props)))
                elif g.geom_type == "Point" and isinstance(props.get("radius_m"), (int, float)):
                    circles.append(FenceCircle(g.y, g.x, float(props["radius_m"]), not _is_exclusion(props)))
    if not polys and not circles:
        raise MissionFileError(path, "document", "no fence polygons (or points with radius_m) found")
    return fence_items(polys, circles)
