"""QGC .plan files of every firmware and vehicle type, as QGroundControl writes them, read as QGC reads them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from missions import Home, MissionFileError, fence_shapes, load_plan, read_plan, save_plan


def simple(command: int, params: list[Any], jump_id: int, frame: int = 3) -> dict[str, Any]:
    """A SimpleItem with the extra keys QGC 4 writes (AMSLAltAboveTerrain, Altitude, AltitudeMode)."""
    return {"AMSLAltAboveTerrain": None, "Altitude": params[6], "AltitudeMode": 1, "autoContinue": True,
            "command": command, "doJumpId": jump_id, "frame": frame, "params": params, "type": "SimpleItem"}


def survey(ctype: str, first_jump_id: int, n: int = 4) -> dict[str, Any]:
    items = [simple(16, [0, 0, 0, None, 47.40 + k * 1e-4, 8.54, 50], first_jump_id + k) for k in range(n)]
    return {"type": "ComplexItem", "complexItemType": ctype, "version": 5,
            "TransectStyleComplexItem": {"CameraCalc": {"CameraName": "Manual (no camera specs)"}, "Items": items,
                                         "TurnAroundDistance": 10, "VisualTransectPoints": [[47.4, 8.54]],
                                         "version": 1},
            "polygon": [[47.4, 8.54], [47.41, 8.54], [47.41, 8.55]]}  # fmt: skip


def document(firmware: int, vehicle: int, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"fileType": "Plan", "groundStation": "QGroundControl", "version": 1,
            "geoFence": {"circles": [], "polygons": [], "version": 2},
            "mission": {"cruiseSpeed": 15, "firmwareType": firmware, "globalPlanAltitudeMode": 1, "hoverSpeed": 5,
                        "items": items, "plannedHomePosition": [47.3977, 8.5456, 488.1], "vehicleType": vehicle,
                        "version": 2},
            "rallyPoints": {"points": [], "version": 2}, **extra}  # fmt: skip


def write(tmp_path: Path, doc: dict[str, Any], name: str = "q.plan") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=4))
    return path


@pytest.mark.parametrize(
    ("firmware", "vehicle"),
    [(3, 2), (3, 1), (3, 20), (12, 2), (12, 1), (12, 22), (0, 2), (0, 10)],  # ArduPilot/PX4/generic x multirotor,
)  # fixed wing, VTOL (20 tiltrotor, 22 VTOL fixed-rotor), rover (10)
def test_every_firmware_and_vehicle_type_reads_the_same_items(tmp_path: Path, firmware: int, vehicle: int) -> None:
    items = [simple(22, [0, 0, 0, None, 47.3977, 8.5456, 30], 1), simple(16, [2, 0, 0, None, 47.398, 8.546, 40], 2),
             simple(21, [0, 0, 0, None, 47.3977, 8.5456, 0], 3)]  # fmt: skip
    plan = load_plan(write(tmp_path, document(firmware, vehicle, items)))
    assert [(it.command, it.frame) for it in plan.mission.items] == [(22, 3), (16, 3), (21, 3)]
    assert plan.mission.items[1].param1 == 2 and math.isnan(plan.mission.items[1].param4)
    assert plan.mission.home == Home(47.3977, 8.5456, 488.1)


@pytest.mark.parametrize("ctype", ["survey", "CorridorScan"])
def test_complex_items_expand_and_do_jump_targets_follow_their_jump_id(tmp_path: Path, ctype: str) -> None:
    # QGC numbers doJumpId per simple item; a DO_JUMP's param1 is the target's doJumpId, not its seq.
    items = [simple(22, [0, 0, 0, None, 47.3977, 8.5456, 30], 1), survey(ctype, 2),
             simple(16, [0, 0, 0, None, 47.41, 8.55, 50], 20),  # jump ids need not be sequence numbers
             simple(177, [20, 3, 0, 0, 0, 0, 0], 21, frame=2), simple(20, [0, 0, 0, 0, 0, 0, 0], 22, frame=2)]
    plan = load_plan(write(tmp_path, document(3, 2, items)))  # fmt: skip
    assert [it.command for it in plan.mission.items] == [22, 16, 16, 16, 16, 16, 177, 20]
    jump = plan.mission.items[6]
    assert (jump.param1, jump.param2) == (6.0, 3.0)  # seq 6 (home = 0) is the waypoint with doJumpId 20
    assert [it.lat_deg for it in plan.mission.items[1:5]] == [47.40 + k * 1e-4 for k in range(4)]
    save_plan(plan, tmp_path / "again.plan")
    assert load_plan(tmp_path / "again.plan") == plan  # written as simple items, read back unchanged


@pytest.mark.parametrize("ctype", ["StructureScan", "fwLandingPattern", "vtolLandingPattern"])
def test_complex_item_without_stored_items_is_a_clear_error(tmp_path: Path, ctype: str) -> None:
    items = [simple(22, [0, 0, 0, None, 47.3977, 8.5456, 30], 1),
             {"type": "ComplexItem", "complexItemType": ctype, "version": 3, "Altitude": 50}]  # fmt: skip
    with pytest.raises(MissionFileError) as err:
        load_plan(write(tmp_path, document(3, 2, items)))
    msg = str(err.value)
    assert f"mission item 2 (ComplexItem '{ctype}')" in msg
    assert "QGC does not store its waypoints in the file" in msg and "lookout fly --connect URL download" in msg


def test_geofence_polygons_circles_breach_return_and_rally_points(tmp_path: Path) -> None:
    gf = {"version": 2, "breachReturn": [47.3978, 8.5457, 40],
          "polygons": [{"inclusion": True, "version": 1,
                        "polygon": [[47.39, 8.53], [47.41, 8.53], [47.41, 8.56], [47.39, 8.56]]},
                       {"inclusion": False, "version": 1, "polygon": [[47.40, 8.54], [47.401, 8.54], [47.401, 8.541]]}],
          "circles": [{"inclusion": True, "version": 1, "circle": {"center": [47.3977, 8.5456], "radius": 900}},
                      {"inclusion": False, "version": 1, "circle": {"center": [47.399, 8.547], "radius": 25.5}}]}
    doc = document(12, 20, [simple(22, [0, 0, 0, None, 47.3977, 8.5456, 30], 1)], geoFence=gf,
                   rallyPoints={"version": 2, "points": [[47.398, 8.546, 30], [47.397, 8.544, 35]]})  # fmt: skip
    plan = load_plan(write(tmp_path, doc))
    polys, circles = fence_shapes(plan.fence)
    assert [(len(p.vertices), p.inclusion) for p in polys] == [(4, True), (3, False)]
    assert [(c.radius_m, c.inclusion) for c in circles] == [(900.0, True), (25.5, False)]
    ret = plan.fence[-1]
    assert (ret.command, ret.lat_deg, ret.lon_deg, ret.alt_m) == (5000, 47.3978, 8.5457, 40.0)
    assert [(r.command, r.alt_m) for r in plan.rally] == [(5100, 30.0), (5100, 35.0)]
    save_plan(plan, tmp_path / "again.plan")
    again = json.loads((tmp_path / "again.plan").read_text())
    assert again["geoFence"]["breachReturn"] == [47.3978, 8.5457, 40.0]
    assert load_plan(tmp_path / "again.plan") == plan


def test_exact_fence_items_are_used_only_while_they_match_the_qgc_shapes(tmp_path: Path) -> None:
    wpl = ("QGC WPL 110\n"
           "0\t0\t3\t5001\t3\t0\t0\t0\t47.39\t8.53\t15\t1\n"
           "1\t0\t3\t5001\t3\t0\t0\t0\t47.41\t8.53\t15\t1\n"
           "2\t0\t3\t5001\t3\t0\t0\t0\t47.41\t8.56\t15\t1\n")  # fmt: skip
    (tmp_path / "f.waypoints").write_text(wpl)
    fence = load_plan(tmp_path / "f.waypoints")
    save_plan(fence, tmp_path / "f.plan")
    assert load_plan(tmp_path / "f.plan").fence == fence.fence  # frame 3, alt 15 kept via lookoutFence
    doc = json.loads((tmp_path / "f.plan").read_text())
    doc["geoFence"]["polygons"][0]["polygon"][0] = [47.38, 8.53]  # a pilot moved a vertex in QGC
    loaded = read_plan(write(tmp_path, doc, "edited.plan"))
    assert loaded.plan.fence[0].lat_deg == 47.38 and loaded.plan.fence[0].frame == 0
    assert loaded.warnings and "lookoutFence does not match the file's geoFence (edited in QGC?)" in loaded.warnings[0]


@pytest.mark.parametrize(
    ("mutate", "place"),
    [
        (lambda d: d["mission"]["items"].append({"type": "SimpleItem", "command": 16, "frame": 3, "params": [1]}),
         "mission item 2: 'params' must be a list of 7 numbers or nulls"),
        (lambda d: d["mission"]["items"].append({"type": "Waypoint"}), "mission item 2: unknown item type 'Waypoint'"),
        (lambda d: d["mission"].update(complexItems=[{"type": "survey"}]), "mission.complexItems: QGC mission version"),
        (lambda d: d["geoFence"]["polygons"].append({"inclusion": True, "polygon": [[1, 2], [3, 4]]}),
         "geoFence polygon 1: a polygon needs at least 3 vertices, has 2"),
    ],
)
def test_bad_plans_name_the_place(tmp_path: Path, mutate: Any, place: str) -> None:
    doc = document(3, 2, [simple(22, [0, 0, 0, None, 47.3977, 8.5456, 30], 1)])
    mutate(doc)
    with pytest.raises(MissionFileError) as err:
        load_plan(write(tmp_path, doc))
    assert f"q.plan {place}" in str(err.value)
