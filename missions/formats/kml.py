"""KML: read polygons/paths/points from Google Earth or QGC; write a mission as a path with placemarks.

Lookout writes a ``Mission path`` LineString plus one Placemark per item whose ``ExtendedData``
holds the exact item (``role``, ``command``, ``frame``, ``param1..4``, ``lat``, ``lon``, ``alt``,
``autocontinue`` as repr strings), so a KML written here reads back exactly. A KML from elsewhere
is read as geometry: its paths and points become NAV_WAYPOINT items (altitude from the coordinates).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from missions import mavcmd
from missions.errors import MissionFileError
from missions.formats.common import read_text, write_text_atomic
from missions.types import Home, Mission, MissionItem, Plan

KML_NS = "http://www.opengis.net/kml/2.2"
MARKER = '<ExtendedData><Data name="lookout"><value>plan</value></Data></ExtendedData>'
ITEM_KEYS = ("command", "frame", "param1", "param2", "param3", "param4", "lat", "lon", "alt", "autocontinue")


@dataclass(frozen=True, slots=True)
class KmlGeometry:
    """One geometry of a Placemark: ``kind`` Polygon | LineString | Point, rings as (lon, lat, alt) tuples."""

    name: str
    place: str  # "Placemark 3 'Zone A'"
    kind: str
    coords: tuple[tuple[float, float, float], ...]
    holes: tuple[tuple[tuple[float, float, float], ...], ...] = ()
    data: tuple[tuple[str, str], ...] = ()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el.iter() if _local(c.tag) == name]


def _parse_coords(path: Path, place: str, el: ET.Element | None) -> tuple[tuple[float, float, float], ...]:
    text = (el.text or "").strip() if el is not None else ""
    if not text:
        raise MissionFileError(path, place, "<coordinates> is missing or empty; each point needs 'lon,lat[,alt]'")
    out = []
    for tok in text.split():
        parts = tok.split(",")
        try:
            vals = [float(x) for x in parts]
        except ValueError:
            raise MissionFileError(path, place, f"bad coordinate {tok!r}; expected 'lon,lat[,alt]'") from None
        if len(vals) not in (2, 3):
            raise MissionFileError(path, place, f"bad coordinate {tok!r}; expected 'lon,lat[,alt]'")
        out.append((vals[0], vals[1], vals[2] if len(vals) == 3 else 0.0))
    return tuple(out)


def read_geometries(path: Path, allow_empty: bool = False) -> list[KmlGeometry]:
    text = read_text(path)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, col = exc.position
        raise MissionFileError(
            path, f"line {line} column {col}", f"not well-formed KML/XML ({exc.msg if hasattr(exc, 'msg') else exc})"
        ) from None
    if _local(root.tag) != "kml":
        raise MissionFileError(path, "root element", f"expected <kml>, got <{_local(root.tag)}>")
    out: list[KmlGeometry] = []
    for n, pm in enumerate(_children(root, "Placemark"), start=1):
        name_el = next((c for c in pm if _local(c.tag) == "name"), None)
        name = (name_el.text or "").strip() if name_el is not None else ""
        place = f"Placemark {n}" + (f" {name!r}" if name else "")
        data = tuple(
            (d.get("name", ""), "".join(v.text or "" for v in d if _local(v.tag) == "value").strip())
            for d in _children(pm, "Data")
        )
        found = False
        for geom in pm.iter():
            kind = _local(geom.tag)
            if kind == "Polygon":
                outer = next(iter(_children(geom, "outerBoundaryIs")), None)
                ring = _parse_coords(
                    path, place, next(iter(_children(outer, "coordinates")), None) if outer is not None else None
                )
                holes = tuple(
                    _parse_coords(path, f"{place} inner ring", next(iter(_children(ib, "coordinates")), None))
                    for ib in _children(geom, "innerBoundaryIs")
                )
                out.append(KmlGeometry(name, place, "Polygon", ring, holes, data))
                found = True
            elif kind in ("LineString", "Point", "LinearRing") and not _inside_polygon(pm, geom):
                coords = _parse_coords(path, place, next(iter(_children(geom, "coordinates")), None))
                out.append(KmlGeometry(name, place, "LineString" if kind == "LinearRing" else kind, coords, (), data))
                found = True
        if not found:
            raise MissionFileError(path, place, "no Point, LineString or Polygon with <coordinates>")
    if not out and not allow_empty:
        raise MissionFileError(path, "document", "no Placemark with coordinates found")
    return out


def _inside_polygon(pm: ET.Element, geom: ET.Element) -> bool:
    return any(_local(poly.tag) == "Polygon" and any(g is geom for g in poly.iter()) for poly in pm.iter())


def _item_from_data(path: Path, place: str, d: dict[str, str]) -> MissionItem:
    try:
        v = [float(d[k]) for k in ITEM_KEYS[2:9]]
        return MissionItem(int(d["command"]), int(d["frame"]), *v, d["autocontinue"].lower() in ("1", "true"))
    except KeyError as exc:
        raise MissionFileError(path, place, f"ExtendedData lacks {exc.args[0]!r}") from None
    except ValueError as exc:
        raise MissionFileError(path, place, f"bad ExtendedData value ({exc})") from None


def load(path: Path) -> Plan:
    geoms = read_geometries(path, allow_empty=True)
    if not geoms:
        if MARKER in read_text(path):
            return Plan()
        raise MissionFileError(path, "document", "no Placemark with coordinates found")
    exact = [g for g in geoms if dict(g.data).get("role")]
    if exact:
        groups: dict[str, list[MissionItem]] = {"mission": [], "fence": [], "rally": []}
        home: Home | None = None
        home_row: MissionItem | None = None
        for g in exact:
            d = dict(g.data)
            if d["role"] == "home":
                lon, lat, alt = (float(d.get(k, c)) for k, c in zip(("lon", "lat", "alt"), g.coords[0], strict=True))
                home = Home(lat, lon, alt)
                if "command" in d:
                    home_row = _item_from_data(path, g.place, d)
                    if (lat, lon, alt) == (0.0, 0.0, 0.0):
                        home = None  # as in WPL: an all-zero home row is no home
            elif d["role"] in groups:
                groups[d["role"]].append(_item_from_data(path, g.place, d))
        return Plan(Mission(tuple(groups["mission"]), home, home_row), tuple(groups["fence"]),
                    tuple(groups["rally"]))
    items = [
        MissionItem(mavcmd.NAV_WAYPOINT, mavcmd.FRAME_GLOBAL_RELATIVE_ALT, 0.0, 0.0, 0.0, 0.0, lat, lon, alt)
        for g in geoms
        if g.kind in ("LineString", "Point")
        for lon, lat, alt in g.coords
    ]
    if not items:
        raise MissionFileError(
            path, "document", "no path or point to fly (only polygons); plan it with 'lookout plan KIND'"
        )
    return Plan(Mission(tuple(items)))


def _s(v: float) -> str:
    return "nan" if math.isnan(v) else repr(float(v))


def _placemark(name: str, role: str, it: MissionItem | None, lon: float, lat: float, alt: float) -> str:
    data = {"role": role}
    if it is not None:
        data.update(
            command=str(it.command),
            frame=str(it.frame),
            param1=_s(it.param1),
            param2=_s(it.param2),
            param3=_s(it.param3),
            param4=_s(it.param4),
            autocontinue="1" if it.autocontinue else "0",
        )
    data.update(lat=_s(lat), lon=_s(lon), alt=_s(alt))
    ext = "".join(f'<Data name="{k}"><value>{escape(v)}</value></Data>' for k, v in data.items())
    point = ""
    if all(math.isfinite(x) for x in (lon, lat, alt)):
        mode = "<altitudeMode>relativeToGround</altitudeMode>"
        point = f"<Point>{mode}<coordinates>{lon!r},{lat!r},{alt!r}</coordinates></Point>"
    else:
        point = "<Point><coordinates>0,0,0</coordinates></Point>"
    return f"<Placemark><name>{escape(name)}</name><ExtendedData>{ext}</ExtendedData>{point}</Placemark>"


def dumps(plan: Plan) -> str:
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{KML_NS}">'
    parts = [f"{head}<Document><name>Lookout mission</name>{MARKER}"]
    nav = [
        it
        for it in plan.mission.items
        if it.command in mavcmd.NAV_POSITION_COMMANDS
        and not (it.lat_deg == 0.0 and it.lon_deg == 0.0)
        and math.isfinite(it.lat_deg)
    ]
    if len(nav) >= 2:
        coords = " ".join(f"{it.lon_deg!r},{it.lat_deg!r},{it.alt_m!r}" for it in nav)
        parts.append(
            "<Placemark><name>Mission path</name><LineString><altitudeMode>relativeToGround</altitudeMode>"
            f"<coordinates>{coords}</coordinates></LineString></Placemark>"
        )
    home, row = plan.mission.home, plan.mission.home_row
    if home is not None or row is not None:  # an unusual WPL home row is kept in the home's ExtendedData
        lon, lat, alt = (home.lon_deg, home.lat_deg, home.alt_amsl_m) if home is not None else (0.0, 0.0, 0.0)
        parts.append(_placemark("Home", "home", row, lon, lat, alt))
    for role, items in (("mission", plan.mission.items), ("fence", plan.fence), ("rally", plan.rally)):
        for i, it in enumerate(items, start=1):
            parts.append(_placemark(f"{role} {i} (cmd {it.command})", role, it, it.lon_deg, it.lat_deg, it.alt_m))
    parts.append("</Document></kml>\n")
    return "\n".join(parts)


def save(plan: Plan, path: Path) -> None:
    write_text_atomic(path, dumps(plan))
