"""QGroundControl ``.plan`` (JSON, fileType "Plan"): mission, geoFence (v2), rallyPoints (v2).

Complex items (``survey``, ``CorridorScan``) are read as the items QGC generated and stored under
``TransectStyleComplexItem.Items``; they are written back as simple items. Params that QGC writes as
``null`` become NaN and are written back as ``null``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from missions import mavcmd
from missions.errors import MissionError, MissionFileError
from missions.fence import FenceCircle, FencePolygon, fence_items, fence_shapes, rally_item
from missions.formats.common import check_command_frame, json_num, num_or_nan, read_text, write_text_atomic
from missions.types import Home, Mission, MissionItem, Plan

FIRMWARE_ARDUPILOT = 3
VEHICLE_QUADROTOR = 2
TRANSECT_COMPLEX_TYPES = ("survey", "CorridorScan")
HOME_UNSET_KEY = "lookoutHomeUnset"  # extra key (QGC ignores unknown keys): plannedHomePosition is a stand-in


def parse_json(path: Path, text: str) -> Any:
    if not text.strip():
        raise MissionFileError(path, "line 1", "file is empty; expected JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "file looks truncated" if exc.pos >= len(text.rstrip()) - 1 else "invalid JSON"
        raise MissionFileError(path, f"line {exc.lineno} column {exc.colno}", f"{hint} ({exc.msg})") from None


def _item_from_json(path: Path, place: str, obj: Any) -> MissionItem:
    if not isinstance(obj, dict):
        raise MissionFileError(path, place, "expected an object")
    try:
        command = obj["command"]
        frame = obj["frame"]
        if "params" in obj:
            params = obj["params"]
            if not isinstance(params, list) or len(params) != 7:
                raise MissionFileError(path, place, "'params' must be a list of 7 numbers or nulls")
            p = [num_or_nan(v) for v in params]
        else:  # QGC mission version 1: param1..4 + coordinate
            coord = obj["coordinate"]
            p = [num_or_nan(obj.get(f"param{i}", 0.0)) for i in range(1, 5)] + [num_or_nan(v) for v in coord]
        check_command_frame(command, frame)
        auto = obj.get("autoContinue", True)
        if not isinstance(auto, bool):
            raise TypeError("autoContinue must be true/false")
    except KeyError as exc:
        raise MissionFileError(path, place, f"missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise MissionFileError(path, place, str(exc)) from None
    return MissionItem(command, frame, p[0], p[1], p[2], p[3], p[4], p[5], p[6], auto)


def _mission_items(path: Path, items: Any) -> list[MissionItem]:
    if not isinstance(items, list):
        raise MissionFileError(path, "mission.items", "expected a list")
    out: list[MissionItem] = []
    for i, obj in enumerate(items):
        place = f"mission item {i + 1}"
        kind = obj.get("type", "SimpleItem") if isinstance(obj, dict) else None
        if kind == "SimpleItem":
            out.append(_item_from_json(path, place, obj))
        elif kind == "ComplexItem":
            ctype = obj.get("complexItemType")
            tsci = obj.get("TransectStyleComplexItem")
            if ctype not in TRANSECT_COMPLEX_TYPES or not isinstance(tsci, dict) or "Items" not in tsci:
                raise MissionFileError(
                    path,
                    f"{place} (ComplexItem {ctype!r})",
                    "no generated items stored; only survey/CorridorScan with "
                    "TransectStyleComplexItem.Items can be read — re-save it in QGC or convert "
                    "it to waypoints",
                )
            sub = tsci["Items"]
            if not isinstance(sub, list):
                raise MissionFileError(path, f"{place} ({ctype})", "TransectStyleComplexItem.Items must be a list")
            for j, s in enumerate(sub):
                out.append(_item_from_json(path, f"{place} ({ctype}) item {j + 1}", s))
        else:
            raise MissionFileError(path, place, f"unknown item type {kind!r}; expected SimpleItem or ComplexItem")
    return out


def _latlon(path: Path, place: str, v: Any, n: int = 2) -> list[float]:
    if (
        not isinstance(v, list)
        or len(v) < n
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v[:n])
    ):
        raise MissionFileError(path, place, f"expected [lat, lon{', alt' if n == 3 else ''}] numbers")
    return [float(x) for x in v[:n]]


def _fence(path: Path, gf: Any) -> tuple[MissionItem, ...]:
    if gf is None:
        return ()
    if not isinstance(gf, dict):
        raise MissionFileError(path, "geoFence", "expected an object")
    polys: list[FencePolygon] = []
    circles: list[FenceCircle] = []
    if gf.get("version", 2) == 1 and "polygon" in gf:  # old QGC v1 fence: one inclusion polygon
        verts = [tuple(_latlon(path, f"geoFence.polygon vertex {k + 1}", v)) for k, v in enumerate(gf["polygon"])]
        if verts:
            polys.append(FencePolygon(tuple(verts), True))  # type: ignore[arg-type]
    for i, p in enumerate(gf.get("polygons", []) or []):
        place = f"geoFence polygon {i + 1}"
        if not isinstance(p, dict) or not isinstance(p.get("polygon"), list):
            raise MissionFileError(path, place, "expected {'inclusion': bool, 'polygon': [[lat, lon], ...]}")
        verts = tuple(tuple(_latlon(path, f"{place} vertex {k + 1}", v)) for k, v in enumerate(p["polygon"]))
        if len(verts) < 3:
            raise MissionFileError(path, place, f"a polygon needs at least 3 vertices, has {len(verts)}")
        polys.append(FencePolygon(verts, bool(p.get("inclusion", True))))  # type: ignore[arg-type]
    for i, c in enumerate(gf.get("circles", []) or []):
        place = f"geoFence circle {i + 1}"
        circ = c.get("circle") if isinstance(c, dict) else None
        if not isinstance(circ, dict) or "radius" not in circ:
            raise MissionFileError(
                path, place, "expected {'inclusion': bool, 'circle': {'center': [lat, lon], 'radius': m}}"
            )
        lat, lon = _latlon(path, place, circ.get("center"))
        circles.append(FenceCircle(lat, lon, float(circ["radius"]), bool(c.get("inclusion", True))))
    return fence_items(polys, circles)


def _rally(path: Path, rp: Any) -> tuple[MissionItem, ...]:
    if rp is None:
        return ()
    if not isinstance(rp, dict):
        raise MissionFileError(path, "rallyPoints", "expected an object")
    out = []
    for i, pt in enumerate(rp.get("points", []) or []):
        lat, lon, alt = _latlon(path, f"rally point {i + 1}", pt, 3)
        out.append(rally_item(lat, lon, alt))
    return tuple(out)


def load(path: Path) -> Plan:
    doc = parse_json(path, read_text(path))
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise MissionFileError(path, "top level", 'not a QGC plan: expected an object with "fileType": "Plan"')
    mission = doc.get("mission")
    if not isinstance(mission, dict):
        raise MissionFileError(path, "mission", "missing or not an object")
    items = _mission_items(path, mission.get("items", []))
    home = None
    hp = mission.get("plannedHomePosition")
    if isinstance(hp, dict):  # mission version 1: {"coordinate": [lat, lon, alt], ...}
        hp = hp.get("coordinate")
    if hp is not None and not mission.get(HOME_UNSET_KEY, False):
        lat, lon, alt = _latlon(path, "mission.plannedHomePosition", hp, 3)
        home = Home(lat, lon, alt)
    return Plan(Mission(tuple(items), home), _fence(path, doc.get("geoFence")), _rally(path, doc.get("rallyPoints")))


def _item_json(it: MissionItem, seq: int) -> dict[str, Any]:
    return {
        "autoContinue": it.autocontinue,
        "command": it.command,
        "doJumpId": seq,
        "frame": it.frame,
        "params": [json_num(v) for v in (*it.params, it.lat_deg, it.lon_deg, it.alt_m)],
        "type": "SimpleItem",
    }


def to_document(plan: Plan, cruise_speed_m_s: float = 15.0, hover_speed_m_s: float = 5.0) -> dict[str, Any]:
    try:
        polys, circles = fence_shapes(plan.fence)
    except MissionError as exc:
        raise MissionError(f"cannot write the fence: {exc}") from None
    home = plan.mission.home
    mission: dict[str, Any] = {
        "cruiseSpeed": cruise_speed_m_s,
        "firmwareType": FIRMWARE_ARDUPILOT,
        "globalPlanAltitudeMode": 1,
        "hoverSpeed": hover_speed_m_s,
        "items": [_item_json(it, i + 1) for i, it in enumerate(plan.mission.items)],
        "vehicleType": VEHICLE_QUADROTOR,
        "version": 2,
    }
    if home is not None:
        mission["plannedHomePosition"] = [home.lat_deg, home.lon_deg, home.alt_amsl_m]
    else:  # QGC requires the key: put it at the first located item and remember it was not set
        first = next((it for it in plan.mission.items if math.isfinite(it.lat_deg) and math.isfinite(it.lon_deg)
                      and (it.lat_deg, it.lon_deg) != (0.0, 0.0)), None)
        mission["plannedHomePosition"] = [first.lat_deg, first.lon_deg, 0.0] if first else [0.0, 0.0, 0.0]
        mission[HOME_UNSET_KEY] = True
    for it in plan.rally:
        if it.command != mavcmd.NAV_RALLY_POINT:
            raise MissionError(
                f"rally item has command {it.command}; only {mavcmd.NAV_RALLY_POINT} (rally point) fits a .plan"
            )
    return {
        "fileType": "Plan",
        "geoFence": {
            "circles": [
                {
                    "circle": {"center": [c.lat_deg, c.lon_deg], "radius": c.radius_m},
                    "inclusion": c.inclusion,
                    "version": 1,
                }
                for c in circles
            ],
            "polygons": [
                {"inclusion": p.inclusion, "polygon": [[a, b] for a, b in p.vertices], "version": 1} for p in polys
            ],
            "version": 2,
        },
        "groundStation": "Lookout",
        "mission": mission,
        "rallyPoints": {"points": [[r.lat_deg, r.lon_deg, r.alt_m] for r in plan.rally], "version": 2},
        "version": 1,
    }


def save(plan: Plan, path: Path) -> None:
    text = json.dumps(to_document(plan), indent=4, allow_nan=False) + "\n"
    write_text_atomic(path, text)


__all__ = ["load", "parse_json", "save", "to_document"]
