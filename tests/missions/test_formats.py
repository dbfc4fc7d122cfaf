"""File formats: exact round trips between .plan, WPL 110, GeoJSON and KML; bad files fail clearly."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from missions import (
    FenceCircle,
    FencePolygon,
    Home,
    Mission,
    MissionFileError,
    MissionItem,
    Plan,
    fence_items,
    load_plan,
    rally_item,
    save_plan,
)


def sample_plan() -> Plan:
    items = (
        MissionItem(22, 3, 0.0, 0.0, 0.0, math.nan, 47.397742, 8.545594, 30.0),
        MissionItem(16, 3, 1.5, 0.0, 0.0, 0.0, 47.12345678901, 8.5123456789, 30.25),
        MissionItem(201, 3, 0.0, 0.0, 0.0, 0.0, 47.3975, 8.5461, 0.0),
        MissionItem(19, 3, 20.0, 0.0, 0.0, 0.0, -33.8688197, 151.2092955, 45.0, False),
        MissionItem(177, 2, 1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        MissionItem(20, 2),
    )
    fence = fence_items(
        [FencePolygon(((47.0, 8.0), (47.1, 8.0), (47.1, 8.1)), True),
         FencePolygon(((47.05, 8.05), (47.06, 8.05), (47.06, 8.06), (47.05, 8.06)), False)],
        [FenceCircle(47.05, 8.05, 100.0, False)],
    )
    return Plan(Mission(items, Home(47.397742, 8.545594, 488.5)), fence, (rally_item(47.0, 8.0, 20.0),))


@pytest.mark.parametrize("suffix", [".plan", ".geojson", ".kml", ".waypoints"])
def test_round_trip_each_format(tmp_path: Path, suffix: str) -> None:
    plan = sample_plan()
    save_plan(plan, tmp_path / f"a{suffix}")
    back = load_plan(tmp_path / f"a{suffix}")
    assert back.mission == plan.mission
    assert back.fence == plan.fence  # WPL keeps them as fence/rally rows, as MAVProxy saves them
    assert back.rally == plan.rally


@pytest.mark.parametrize("via", [".waypoints", ".geojson", ".kml"])
def test_plan_via_other_format_and_back(tmp_path: Path, via: str) -> None:
    plan = sample_plan()
    save_plan(plan, tmp_path / "a.plan")
    save_plan(load_plan(tmp_path / "a.plan"), tmp_path / f"b{via}")
    save_plan(load_plan(tmp_path / f"b{via}"), tmp_path / "c.plan")
    back = load_plan(tmp_path / "c.plan")
    assert back.mission == plan.mission
    for a, b in zip(back.mission.items, plan.mission.items, strict=True):
        assert (a.command, a.frame) == (b.command, b.frame)
        assert abs(a.lat_deg - b.lat_deg) < 1e-7 and abs(a.lon_deg - b.lon_deg) < 1e-7


def test_qgc_complex_item_reads_generated_items(tmp_path: Path) -> None:
    wp = {"autoContinue": True, "command": 16, "doJumpId": 2, "frame": 3,
          "params": [0, 0, 0, None, 47.1, 8.1, 50], "type": "SimpleItem"}
    doc = {
        "fileType": "Plan", "version": 1, "groundStation": "QGroundControl",
        "mission": {"version": 2, "plannedHomePosition": [47.0, 8.0, 400],
                    "items": [
                        {"autoContinue": True, "command": 22, "doJumpId": 1, "frame": 3,
                         "params": [0, 0, 0, None, 47.0, 8.0, 50], "type": "SimpleItem"},
                        {"type": "ComplexItem", "complexItemType": "survey", "polygon": [],
                         "TransectStyleComplexItem": {"Items": [wp, {**wp, "params": [0, 0, 0, None, 47.2, 8.2, 50]}],
                                                      "CameraCalc": {}}},
                    ]},
        "geoFence": {"version": 2, "circles": [{"circle": {"center": [47.0, 8.0], "radius": 500}, "inclusion": True,
                                                "version": 1}], "polygons": []},
        "rallyPoints": {"version": 2, "points": [[47.01, 8.01, 30]]},
    }
    (tmp_path / "q.plan").write_text(json.dumps(doc))
    plan = load_plan(tmp_path / "q.plan")
    assert [it.command for it in plan.mission.items] == [22, 16, 16]
    assert plan.mission.items[2].lat_deg == 47.2 and math.isnan(plan.mission.items[1].param4)
    assert plan.mission.home == Home(47.0, 8.0, 400.0)
    assert plan.fence[0].command == 5003 and plan.fence[0].param1 == 500
    assert len(plan.rally) == 1


GOOD_PLAN = json.dumps({"fileType": "Plan", "mission": {"items": []}})
BAD_FILES = [
    ("trunc.plan", GOOD_PLAN[:-7], "line 1 column"),
    ("empty.plan", "", "empty"),
    ("notplan.plan", '{"fileType": "Mission"}', "fileType"),
    ("badwpl.waypoints", "QGC WPL 100\n0\t1\t0\t16\t0\t0\t0\t0\t0\t0\t0\t1\n", "line 1"),
    ("shortrow.waypoints", "QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t0\t0\t0\t1\n1\t0\t3\t16\t0\n", "line 3"),
    ("nocoords.kml", '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>Zone A</name>'
                     "<LineString><coordinates></coordinates></LineString></Placemark></kml>", "Placemark 1 'Zone A'"),
    ("broken.kml", "<kml><Placemark>", "line 1"),
    ("complex.plan", json.dumps({"fileType": "Plan", "mission": {"items": [
        {"type": "ComplexItem", "complexItemType": "StructureScan"}]}}), "mission item 1"),
    ("unknown.xyz", "hello", "unknown plan format"),
]


@pytest.mark.parametrize(("name", "text", "place"), BAD_FILES)
def test_bad_files_name_file_and_place(tmp_path: Path, name: str, text: str, place: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(MissionFileError) as info:
        load_plan(path)
    msg = str(info.value)
    assert name in msg and place in msg and "\n" not in msg


def test_save_is_atomic_and_leaves_no_temp(tmp_path: Path) -> None:
    save_plan(sample_plan(), tmp_path / "x.plan")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.plan"]
    with pytest.raises(MissionFileError):
        save_plan(sample_plan(), tmp_path / "missing-dir" / "x.plan")
