"""QGroundControl ``.plan`` (JSON, fileType "Plan"): mission, geoFence (v2), rallyPoints (v2).

Read as QGC's own ``MissionController``/``GeoFenceController``/``RallyPointController`` read it, for
every firmware (``firmwareType`` 3 ArduPilot, 12 PX4, 0 generic) and vehicle type (2 multirotor,
1 fixed wing, 20.. VTOL; the numbers only set QGC's editor, the items are the same MAVLink items):

- ``SimpleItem``: ``params`` (7 numbers or null -> NaN), or mission version 1 ``param1..4`` +
  ``coordinate``. DO_JUMP ``param1`` is the target's ``doJumpId`` in a .plan; it becomes the target's
  sequence number (home = 0), as QGC does on load.
- ``ComplexItem`` (survey, CorridorScan, StructureScan, fw/vtolLandingPattern, any other): expanded
  into the items QGC generated and stored under ``TransectStyleComplexItem.Items``; one that stores
  none (StructureScan, landing patterns, old mission version 1 ``complexItems``) is a clear error
  saying how to get its waypoints.
- ``geoFence``: v2 ``polygons``/``circles`` (inclusion or exclusion), v1 ``polygon``, ArduPilot's
  ``breachReturn`` (a MAV_CMD_NAV_FENCE_RETURN_POINT item); ``rallyPoints``: ``points``.

Written as QGC 4 writes it (ArduPilot, multirotor) plus keys QGC ignores, so a WPL -> .plan -> WPL
round trip keeps every command, frame, param and coordinate: ``lookoutHomeRow`` (an unusual WPL
home row), ``lookoutFence``/``lookoutRally`` (the exact fence/rally items when QGC's shapes cannot
hold them: other frames, params, altitudes). On read those are used only while they still match the
QGC shapes (a fence edited in QGC wins, with a warning). Complex items are written back as simple
items.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

from missions import mavcmd
from missions.errors import MissionError, MissionFileError
from missions.fence import FenceCircle, FencePolygon, fence_items, fence_return_point, fence_shapes, rally_item
from missions.formats.common import (
    LoadedPlan,
    check_command_frame,
    json_num,
    num_or_nan,
    read_text,
    write_text_atomic,
)
from missions.types import Home, Mission, MissionItem, Plan

log = logging.getLogger(__name__)
FIRMWARE_ARDUPILOT = 3
VEHICLE_QUADROTOR = 2
HOME_UNSET_KEY = "lookoutHomeUnset"  # extra key (QGC ignores unknown keys): plannedHomePosition is a stand-in
HOME_ROW_KEY = "lookoutHomeRow"
FENCE_KEY = "lookoutFence"
RALLY_KEY = "lookoutRally"
_NO_ITEMS_FIX = ("QGC does not store its waypoints in the file; upload the plan from QGC to the vehicle (or SITL) "
                 "and read them back with 'lookout fly --connect URL download FILE'")  # fmt: skip


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
            if not isinstance(coord, list) or len(coord) != 3:
                raise TypeError("'coordinate' must be [lat, lon, alt]")
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


def _jump_id(obj: Any) -> int | None:
    v = obj.get("doJumpId") if isinstance(obj, dict) else None
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _mission_items(path: Path, items: Any) -> list[MissionItem]:
    if not isinstance(items, list):
        raise MissionFileError(path, "mission.items", "expected a list")
    out: list[MissionItem] = []
    jump_ids: dict[int, int] = {}  # doJumpId -> sequence number (home = 0)

    def add(place: str, obj: Any) -> None:
        out.append(_item_from_json(path, place, obj))
        jid = _jump_id(obj)
        if jid is not None:
            jump_ids.setdefault(jid, len(out))

    for i, obj in enumerate(items):
        place = f"mission item {i + 1}"
        kind = obj.get("type", "SimpleItem") if isinstance(obj, dict) else None
        if kind == "SimpleItem":
            add(place, obj)
        elif kind == "ComplexItem":
            ctype = obj.get("complexItemType")
            tsci = obj.get("TransectStyleComplexItem")
            sub = tsci.get("Items") if isinstance(tsci, dict) else None
            if sub is None:
                raise MissionFileError(path, f"{place} (ComplexItem {ctype!r})", _NO_ITEMS_FIX)
            if not isinstance(sub, list):
                raise MissionFileError(path, f"{place} ({ctype})", "TransectStyleComplexItem.Items must be a list")
            for j, s in enumerate(sub):
                add(f"{place} ({ctype}) item {j + 1}", s)
        else:
            raise MissionFileError(path, place, f"unknown item type {kind!r}; expected SimpleItem or ComplexItem")
    for k, it in enumerate(out):  # DO_JUMP param1 is a doJumpId in a .plan: QGC maps it to a sequence number
        if it.command == mavcmd.DO_JUMP and math.isfinite(it.param1) and it.param1 == int(it.param1):
            seq = jump_ids.get(int(it.param1))
            if seq is not None and seq != it.param1:
                out[k] = MissionItem(it.command, it.frame, float(seq), it.param2, it.param3, it.param4, it.lat_deg,
                                     it.lon_deg, it.alt_m, it.autocontinue)  # fmt: skip
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
        if not isinstance(circ, dict) or not isinstance(circ.get("radius"), (int, float)):
            raise MissionFileError(
                path, place, "expected {'inclusion': bool, 'circle': {'center': [lat, lon], 'radius': m}}"
            )
        lat, lon = _latlon(path, place, circ.get("center"))
        circles.append(FenceCircle(lat, lon, float(circ["radius"]), bool(c.get("inclusion", True))))
    out = fence_items(polys, circles)
    br = gf.get("breachReturn")
    if isinstance(br, list) and len(br) >= 2:
        lat, lon, *alt = _latlon(path, "geoFence.breachReturn", br, 3 if len(br) >= 3 else 2)
        out += (MissionItem(mavcmd.NAV_FENCE_RETURN_POINT, mavcmd.FRAME_GLOBAL_RELATIVE_ALT, 0.0, 0.0, 0.0, 0.0, lat,
                            lon, alt[0] if alt else 0.0),)  # fmt: skip
    return out


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


def _exact(path: Path, doc: dict[str, Any], key: str, shapes: tuple[MissionItem, ...],
           same: Any, warnings: list[str]) -> tuple[MissionItem, ...]:  # fmt: skip
    """The exact items stored under ``key`` when they still describe ``shapes`` (QGC's view)."""
    raw = doc.get(key)
    if raw is None:
        return shapes
    if not isinstance(raw, list):
        raise MissionFileError(path, key, "expected a list of items")
    exact = tuple(_item_from_json(path, f"{key} item {k + 1}", obj) for k, obj in enumerate(raw))
    if same(exact, shapes):
        return exact
    warnings.append(f"{path}: {key} does not match the file's {'geoFence' if key == FENCE_KEY else 'rallyPoints'} "
                    "(edited in QGC?): the QGC shapes are used")  # fmt: skip
    return shapes


def _same_fence(a: tuple[MissionItem, ...], b: tuple[MissionItem, ...]) -> bool:
    try:
        ra, rb = fence_return_point(a), fence_return_point(b)
        return fence_shapes(a) == fence_shapes(b) and (ra is None) == (rb is None) and (
            ra is None or rb is None or (ra.lat_deg, ra.lon_deg) == (rb.lat_deg, rb.lon_deg))
    except MissionError:
        return False


def _same_rally(a: tuple[MissionItem, ...], b: tuple[MissionItem, ...]) -> bool:
    return [(x.lat_deg, x.lon_deg, x.alt_m) for x in a] == [(y.lat_deg, y.lon_deg, y.alt_m) for y in b] and all(
        x.command == mavcmd.NAV_RALLY_POINT for x in a)


def read(path: Path) -> LoadedPlan:
    path = Path(path)
    doc = parse_json(path, read_text(path))
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise MissionFileError(path, "top level", 'not a QGC plan: expected an object with "fileType": "Plan"')
    mission = doc.get("mission")
    if not isinstance(mission, dict):
        raise MissionFileError(path, "mission", "missing or not an object")
    if mission.get("complexItems"):  # mission version 1 kept complex items in a second list
        raise MissionFileError(path, "mission.complexItems", "QGC mission version 1 complex items: open the plan in "
                                                             "QGC and save it again (version 2)")  # fmt: skip
    warnings: list[str] = []
    items = _mission_items(path, mission.get("items", []))
    home = None
    hp = mission.get("plannedHomePosition")
    if isinstance(hp, dict):  # mission version 1: {"coordinate": [lat, lon, alt], ...}
        hp = hp.get("coordinate")
    if hp is not None and not mission.get(HOME_UNSET_KEY, False):
        lat, lon, alt = _latlon(path, "mission.plannedHomePosition", hp, 3)
        home = Home(lat, lon, alt)
    home_row = None
    if mission.get(HOME_ROW_KEY) is not None:
        home_row = _item_from_json(path, f"mission.{HOME_ROW_KEY}", mission[HOME_ROW_KEY])
    fence = _exact(path, doc, FENCE_KEY, _fence(path, doc.get("geoFence")), _same_fence, warnings)
    rally = _exact(path, doc, RALLY_KEY, _rally(path, doc.get("rallyPoints")), _same_rally, warnings)
    return LoadedPlan(Plan(Mission(tuple(items), home, home_row), fence, rally), tuple(warnings))


def load(path: Path) -> Plan:
    loaded = read(path)
    for w in loaded.warnings:
        log.warning("%s", w)
    return loaded.plan


def _item_json(it: MissionItem, seq: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "autoContinue": it.autocontinue,
        "command": it.command,
        "frame": it.frame,
        "params": [json_num(v) for v in (*it.params, it.lat_deg, it.lon_deg, it.alt_m)],
        "type": "SimpleItem",
    }
    if seq is not None:
        out["doJumpId"] = seq
    return dict(sorted(out.items()))


def _geofence(plan: Plan) -> dict[str, Any]:
    try:
        polys, circles = fence_shapes(plan.fence)
    except MissionError as exc:
        raise MissionError(f"cannot write the fence: {exc}") from None
    gf: dict[str, Any] = {
        "circles": [{"circle": {"center": [c.lat_deg, c.lon_deg], "radius": c.radius_m}, "inclusion": c.inclusion,
                     "version": 1} for c in circles],
        "polygons": [{"inclusion": p.inclusion, "polygon": [[a, b] for a, b in p.vertices], "version": 1}
                     for p in polys],
        "version": 2,
    }  # fmt: skip
    ret = fence_return_point(plan.fence)
    if ret is not None:
        gf["breachReturn"] = [ret.lat_deg, ret.lon_deg, ret.alt_m]
    return gf


def to_document(plan: Plan, cruise_speed_m_s: float = 15.0, hover_speed_m_s: float = 5.0) -> dict[str, Any]:
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
                      and (it.lat_deg, it.lon_deg) != (0.0, 0.0)), None)  # fmt: skip
        mission["plannedHomePosition"] = [first.lat_deg, first.lon_deg, 0.0] if first else [0.0, 0.0, 0.0]
        mission[HOME_UNSET_KEY] = True
    if plan.mission.home_row is not None:
        mission[HOME_ROW_KEY] = _item_json(plan.mission.home_row)
    for it in plan.rally:
        if it.command != mavcmd.NAV_RALLY_POINT:
            raise MissionError(
                f"rally item has command {it.command}; only {mavcmd.NAV_RALLY_POINT} (rally point) fits a .plan"
            )
    doc: dict[str, Any] = {
        "fileType": "Plan",
        "geoFence": _geofence(plan),
        "groundStation": "Lookout",
        "mission": mission,
        "rallyPoints": {"points": [[r.lat_deg, r.lon_deg, r.alt_m] for r in plan.rally], "version": 2},
        "version": 1,
    }
    if plan.fence and _fence(Path("."), doc["geoFence"]) != tuple(plan.fence):
        doc[FENCE_KEY] = [_item_json(it) for it in plan.fence]
    if plan.rally and tuple(rally_item(r.lat_deg, r.lon_deg, r.alt_m) for r in plan.rally) != tuple(plan.rally):
        doc[RALLY_KEY] = [_item_json(it) for it in plan.rally]
    return doc


def save(plan: Plan, path: Path) -> None:
    text = json.dumps(to_document(plan), indent=4, allow_nan=False) + "\n"
    write_text_atomic(path, text)


__all__ = ["load", "parse_json", "read", "save", "to_document"]
