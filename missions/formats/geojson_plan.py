"""A plan as GeoJSON (RFC 7946): one Feature per item, exact and readable by any GIS.

Each item is a Feature with ``properties.role`` = ``mission`` | ``fence`` | ``rally`` and
``command``, ``frame``, ``params`` (param1..4, null = NaN), ``autocontinue``, ``seq``; its geometry is
``Point [lon, lat, alt]`` when it has a position, else ``null`` with ``lat_deg``/``lon_deg``/``alt_m`` in
properties. The home is a Point with role ``home`` (with ``command``, ``frame``, ``params``,
``autocontinue`` when the plan keeps an unusual WPL home row); a LineString with role ``path`` (ignored on read)
draws the flight path for viewers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from missions.errors import MissionFileError
from missions.formats.common import check_command_frame, json_num, num_or_nan, read_text, write_text_atomic
from missions.formats.qgc_plan import parse_json
from missions.types import Home, Mission, MissionItem, Plan

ROLES = ("mission", "fence", "rally")
MARKER = "lookout"  # GeoJSON foreign member marking a plan document (so an empty plan reads back)


def _has_position(it: MissionItem) -> bool:
    return all(math.isfinite(v) for v in (it.lat_deg, it.lon_deg, it.alt_m)) and not (
        it.lat_deg == 0.0 and it.lon_deg == 0.0
    )


def _feature(it: MissionItem, role: str, seq: int) -> dict[str, Any]:
    props: dict[str, Any] = {
        "role": role,
        "seq": seq,
        "command": it.command,
        "frame": it.frame,
        "params": [json_num(v) for v in it.params],
        "autocontinue": it.autocontinue,
    }
    geom = None
    if _has_position(it):
        geom = {"type": "Point", "coordinates": [it.lon_deg, it.lat_deg, it.alt_m]}
    else:
        props.update(lat_deg=json_num(it.lat_deg), lon_deg=json_num(it.lon_deg), alt_m=json_num(it.alt_m))
    return {"type": "Feature", "geometry": geom, "properties": props}


def to_document(plan: Plan) -> dict[str, Any]:
    feats: list[dict[str, Any]] = []
    home, row = plan.mission.home, plan.mission.home_row
    if home is not None or row is not None:
        hprops: dict[str, Any] = {"role": "home"}
        if row is not None:  # an unusual WPL home row: kept (its coordinates are the home's)
            hprops.update(command=row.command, frame=row.frame, params=[json_num(v) for v in row.params],
                          autocontinue=row.autocontinue)  # fmt: skip
        c = [home.lon_deg, home.lat_deg, home.alt_amsl_m] if home is not None else [0.0, 0.0, 0.0]
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": c}, "properties": hprops})
    path = [[it.lon_deg, it.lat_deg, it.alt_m] for it in plan.mission.items if _has_position(it)]
    if len(path) >= 2:
        feats.append(
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": path}, "properties": {"role": "path"}}
        )
    for role, items in (("mission", plan.mission.items), ("fence", plan.fence), ("rally", plan.rally)):
        feats.extend(_feature(it, role, i) for i, it in enumerate(items))
    return {"type": "FeatureCollection", MARKER: {"format": "plan", "version": 1}, "features": feats}


def is_plan_document(doc: Any) -> bool:
    feats = doc.get("features") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and isinstance(doc.get(MARKER), dict):
        return True
    return isinstance(feats, list) and any(
        isinstance(f, dict)
        and isinstance(f.get("properties"), dict)
        and f["properties"].get("role") in (*ROLES, "home")
        for f in feats
    )


def _item(path: Path, place: str, f: dict[str, Any]) -> MissionItem:
    props = f["properties"]
    try:
        command, frame = props["command"], props["frame"]
        check_command_frame(command, frame)
        params = props.get("params", [0, 0, 0, 0])
        if not isinstance(params, list) or len(params) != 4:
            raise TypeError("params must be a list of 4 numbers or nulls")
        p = [num_or_nan(v) for v in params]
        geom = f.get("geometry")
        if geom is not None:
            coords = geom.get("coordinates") if isinstance(geom, dict) else None
            if (
                not isinstance(geom, dict)
                or geom.get("type") != "Point"
                or not isinstance(coords, list)
                or len(coords) < 2
            ):
                raise TypeError("geometry must be a Point [lon, lat, alt] or null")
            lon, lat = num_or_nan(coords[0]), num_or_nan(coords[1])
            alt = num_or_nan(coords[2]) if len(coords) > 2 else 0.0
        else:
            lat, lon, alt = (num_or_nan(props.get(k, 0.0)) for k in ("lat_deg", "lon_deg", "alt_m"))
        auto = props.get("autocontinue", True)
        if not isinstance(auto, bool):
            raise TypeError("autocontinue must be true/false")
    except KeyError as exc:
        raise MissionFileError(path, place, f"missing property {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise MissionFileError(path, place, str(exc)) from None
    return MissionItem(command, frame, p[0], p[1], p[2], p[3], lat, lon, alt, auto)


def from_document(path: Path, doc: Any) -> Plan:
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise MissionFileError(path, "top level", "expected a GeoJSON FeatureCollection")
    groups: dict[str, list[tuple[int, MissionItem]]] = {r: [] for r in ROLES}
    home = None
    home_row = None
    for i, f in enumerate(doc["features"]):
        place = f"feature {i + 1}"
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            raise MissionFileError(path, place, "expected a Feature with properties")
        role = props.get("role")
        if role == "home":
            g = f.get("geometry") or {}
            c = g.get("coordinates") if isinstance(g, dict) else None
            if not isinstance(c, list) or len(c) < 2:
                raise MissionFileError(path, place, "home needs a Point geometry [lon, lat, alt]")
            home = Home(float(c[1]), float(c[0]), float(c[2]) if len(c) > 2 else 0.0)
            if "command" in props:
                lat, lon, alt = home.lat_deg, home.lon_deg, home.alt_amsl_m
                r = _item(path, place, {"geometry": None, "properties": {**props, "lat_deg": lat, "lon_deg": lon,
                                                                          "alt_m": alt}})  # fmt: skip
                home_row = r
                if (lat, lon, alt) == (0.0, 0.0, 0.0):
                    home = None  # as in WPL: an all-zero home row is no home
        elif role in ROLES:
            seq = props.get("seq", len(groups[role]))
            groups[role].append((seq if isinstance(seq, int) else len(groups[role]), _item(path, place, f)))
    if not any(groups.values()) and home is None and home_row is None and not isinstance(doc.get(MARKER), dict):
        raise MissionFileError(
            path,
            "features",
            "no mission items (properties.role = 'mission'); "
            "a places file is planned with 'lookout plan KIND', not loaded as a plan",
        )
    ordered = {r: tuple(it for _, it in sorted(groups[r], key=lambda t: t[0])) for r in ROLES}
    return Plan(Mission(ordered["mission"], home, home_row), ordered["fence"], ordered["rally"])


def load(path: Path) -> Plan:
    return from_document(path, parse_json(path, read_text(path)))


def save(plan: Plan, path: Path) -> None:
    write_text_atomic(path, json.dumps(to_document(plan), indent=1, allow_nan=False) + "\n")
