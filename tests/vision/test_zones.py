"""Camera zones: config validation, normalized coordinates, point tests, drawing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from vision.annotate import annotate
from vision.types import Detections
from vision.zones import (
    KIND_COLORS,
    Zone,
    ZoneConfig,
    check_zone_cameras,
    foot_points,
    point_in_zone,
    zone_of_points,
    zones_for_camera,
)

SQUARE = [[10, 10], [110, 10], [110, 60], [10, 60]]


@pytest.mark.parametrize(
    ("table", "loc", "message"),
    [
        ({"camera": "gate", "polygon": [[0, 0], [5, 0]]}, ("polygon",), "at least 3 items"),
        ({"camera": "gate", "polygon": []}, ("polygon",), "at least 3 items"),
        ({"camera": "gate", "polygon": [[0, 0], [5, math.nan], [5, 5]]}, ("polygon", 1, 1), "finite number"),
        ({"camera": "gate", "polygon": [[0, 0], [5, math.inf], [5, 5]]}, ("polygon", 1, 1), "finite number"),
        ({"camera": "gate", "polygon": [[0, 0], [-5, 0], [5, 5]]}, ("polygon", 1, 0), "greater than or equal to 0"),
        ({"camera": "gate", "polygon": [[0, 0], [5, 0, 1], [5, 5]]}, ("polygon", 1), "at most 2 items"),
        ({"camera": "gate", "polygon": [[0, 0], [10, 10], [10, 0], [0, 10]]}, ("polygon",), "edges cross at (5, 5)"),
        ({"camera": "gate", "polygon": [[0, 0], [5, 5], [9, 9]]}, ("polygon",), "has no area"),
        ({"camera": "gate", "normalized": True, "polygon": SQUARE}, ("polygon",), "must lie in 0..1"),
        ({"camera": "gate", "kind": "pond", "polygon": SQUARE}, ("kind",), "'parking', 'water'"),
        ({"camera": "gate", "polygon": SQUARE, "colour": "#ff0000"}, ("colour",), "Extra inputs"),
        ({"camera": "gate", "polygon": SQUARE, "color": "red"}, ("color",), "pattern"),
        ({"camera": "", "polygon": SQUARE}, ("camera",), "at least 1 character"),
        ({"polygon": SQUARE}, ("camera",), "Field required"),
    ],
)
def test_malformed_zone_is_one_located_error(table, loc, message):
    with pytest.raises(ValidationError) as info:
        ZoneConfig.model_validate(table)
    (err,) = info.value.errors()
    assert err["loc"] == loc and message in err["msg"], err


def test_valid_zone_defaults_and_colours():
    z = ZoneConfig.model_validate({"camera": "gate", "polygon": SQUARE})
    assert (z.kind, z.normalized, z.color) == ("watch", False, None)
    assert z.bgr() == KIND_COLORS["watch"]
    assert ZoneConfig(camera="*", kind="water", polygon=SQUARE).bgr() == KIND_COLORS["water"]
    assert ZoneConfig(camera="*", polygon=SQUARE, color="#FF8000").bgr() == (0, 128, 255)  # RGB hex -> BGR
    with pytest.raises(ValidationError):
        z.camera = "other"  # frozen


@pytest.mark.parametrize(
    ("zones", "cameras", "bad"),
    [
        ({}, [], None),
        ({"a": {"camera": "*"}}, [], None),
        ({"a": {"camera": "gate"}}, ["gate"], None),
        ({"a": {"camera": "gat"}}, ["gate", "yard"], "did you mean 'gate'?"),
        ({"a": {"camera": "dock"}}, ["gate"], "configured: 'gate'"),
        ({"a": {"camera": "gate"}, "b": {"camera": "dock"}}, [], "configured: none"),
    ],
)
def test_zone_must_name_a_configured_camera(zones, cameras, bad):
    cfg = {n: ZoneConfig(polygon=SQUARE, **z) for n, z in zones.items()}
    if bad is None:
        check_zone_cameras(cfg, cameras)
        return
    with pytest.raises(ValidationError) as info:
        check_zone_cameras(cfg, cameras)
    first = info.value.errors()[0]
    assert first["loc"][0] == "zones" and first["loc"][2] == "camera" and bad in first["msg"]
    assert len(info.value.errors()) == sum(z["camera"] not in (*cameras, "*") for z in zones.values())


def test_zones_for_camera_filters_and_resolves_normalized_vertices():
    cfg = {
        "door": ZoneConfig(camera="gate", kind="restricted", polygon=SQUARE),
        "bank": ZoneConfig(camera="*", kind="water", normalized=True, polygon=[[0, 0.5], [1, 0.5], [1, 1], [0, 1]]),
        "lot": ZoneConfig(camera="yard", kind="parking", polygon=SQUARE),
    }
    gate = zones_for_camera(cfg, "gate", 640, 360)
    assert [z.name for z in gate] == ["door", "bank"]
    assert gate[0].polygon.dtype == np.float32 and gate[0].polygon.shape == (4, 2)
    assert np.array_equal(gate[0].polygon, np.array(SQUARE, np.float32))  # pixels stay pixels
    assert np.array_equal(gate[1].polygon, [[0, 180], [640, 180], [640, 360], [0, 360]])
    # the same normalized zone survives a resolution change
    (bank,) = zones_for_camera(cfg, "*", 1920, 1080)
    assert np.array_equal(bank.polygon, [[0, 540], [1920, 540], [1920, 1080], [0, 1080]])
    assert bank.color == KIND_COLORS["water"] and bank.kind == "water"
    assert zones_for_camera({}, "gate", 640, 360) == []


@pytest.mark.parametrize(
    ("x", "y", "inside"),
    [(50, 30, True), (10, 10, True), (110, 35, True), (0, 0, False), (111, 30, False), (50, 61, False)],
)
def test_point_in_zone_includes_the_edge(x, y, inside):
    assert point_in_zone(Zone("door", "restricted", np.array(SQUARE)), x, y) is inside


def test_point_in_concave_zone():
    ell = Zone("ell", "watch", np.array([[0, 0], [100, 0], [100, 20], [20, 20], [20, 100], [0, 100]]))
    assert point_in_zone(ell, 10, 90) and point_in_zone(ell, 90, 10)
    assert not point_in_zone(ell, 60, 60)  # in the bounding box, outside the L


def test_zone_of_points_smallest_zone_wins_and_many_points():
    yard = Zone("yard", "watch", np.array([[0, 0], [200, 0], [200, 200], [0, 200]]))
    door = Zone("door", "restricted", np.array([[50, 50], [70, 50], [70, 70], [50, 70]]))
    pts = np.array([[60, 60], [10, 10], [300, 10], [70, 70]])
    assert zone_of_points([yard, door], pts) == ["door", "yard", None, "door"]
    assert zone_of_points([door, yard], pts) == ["door", "yard", None, "door"]  # order does not matter
    assert zone_of_points([yard], np.empty((0, 2))) == []
    assert zone_of_points([], pts) == [None] * 4
    grid = np.stack(np.meshgrid(np.arange(0, 400, 40), np.arange(0, 400, 40)), -1).reshape(-1, 2)  # 100 points
    got = zone_of_points([yard, door], grid)
    expected = [
        "door" if 50 <= x <= 70 and 50 <= y <= 70 else "yard" if x <= 200 and y <= 200 else None for x, y in grid
    ]
    assert got == expected


def test_foot_point_is_bottom_centre():
    assert np.array_equal(foot_points(np.array([[10, 20, 30, 100], [0, 0, 4, 4]])), [[20, 100], [2, 4]])
    assert foot_points(np.empty((0, 4))).shape == (0, 2)


def test_annotate_draws_zone_objects_in_their_own_colour():
    scene = np.zeros((120, 160, 3), np.uint8)
    (z,) = zones_for_camera({"door": ZoneConfig(camera="*", kind="restricted", polygon=SQUARE)}, "x", 160, 120)
    out = annotate(scene, Detections.empty(), [z])
    assert out[60, 60, 2] > 200 and out[60, 60, :2].sum() == 0  # bottom edge: red (anti-aliased)
    assert out[35, 60, 2] > 0 and out[35, 60, :2].sum() == 0  # translucent red fill inside
    assert not out[100, 140].any()  # nothing outside
