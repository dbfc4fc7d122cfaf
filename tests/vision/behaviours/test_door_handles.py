"""door_handle_trying on scripted tracked detections (no model): the thief fires once, walkers and
owners do not; the shared touch geometry on its own."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vision.behaviours.config import DoorHandleConfig, RulesConfig
from vision.behaviours.door_handles import DoorHandleRule
from vision.behaviours.touch import ParkedVehicles, touched_vehicle
from vision.types import CAR, Detections
from vision.zones import Zone


def test_thief_along_four_cars_fires_once_with_the_right_cars(scene, row):
    rule = DoorHandleRule(DoorHandleConfig(min_vehicles=3))
    events = scene.run(rule, row.thief(tried=row.CAR_IDS, hold_s=1.5))
    assert len(events) == 1
    e = events[0]
    assert e.kind == "door_handle_trying" and e.severity == "high" and e.feed == "cam1"
    assert e.track_ids == (7, 101, 102, 103)
    assert e.details["vehicle_track_ids"] == [101, 102, 103]
    assert [t["vehicle_track_id"] for t in e.details["touches"]] == [101, 102, 103]
    assert all(t["held_s"] >= 0.6 for t in e.details["touches"])
    assert e.summary.startswith("person 7 tried the doors of 3 parked cars in ")
    assert 5 < e.details["span_s"] < 15
    assert e.t_start_utc < e.t_end_utc
    x1, _, x2, _ = e.box_xyxy
    assert x1 <= row.CAR_BOXES[101][0] and x2 >= row.CAR_BOXES[103][2]
    json.dumps(e.to_json())  # details are JSON-serialisable


def test_default_config_fires_at_the_second_car(scene, row):
    events = scene.run(DoorHandleRule(), row.thief())
    assert [e.details["vehicle_track_ids"] for e in events] == [[101, 102]]


@pytest.mark.parametrize("speed", [40.0, 60.0, 100.0, 160.0])  # px/s; people are 120 px tall
def test_walker_with_swinging_arms_past_the_cars_does_not_fire(scene, row, speed):
    assert scene.run(DoorHandleRule(), row.walker(speed=speed)) == []


@pytest.mark.parametrize("hold_s", [0.8, 1.5, 3.5])
def test_owner_opening_their_car_does_not_fire(scene, row, hold_s):
    """Hard negative: one touch at one car's door (unlock, open), then in or away: nothing at all."""
    for end in ("enter", "walk_on"):
        assert type(scene)().run(DoorHandleRule(), row.owner(hold_s=hold_s, end=end)) == [], end


def test_long_hold_at_one_car_is_not_several_cars(scene, row):
    events = scene.run(DoorHandleRule(DoorHandleConfig(single_car=False)), row.owner(hold_s=6.0, end="walk_on"))
    assert events == []


@pytest.mark.parametrize(("pulls", "hold_s", "how"), [(3, 1.0, "3 pulls"), (1, 5.0, "a 4-s hold")])
def test_door_work_at_one_car_is_low(scene, row, pulls, hold_s, how):
    """Repeated pulls at one handle, or one long hold without the door opening: low, once."""
    events = scene.run(DoorHandleRule(), row.owner(cid=102, hold_s=hold_s, pulls=pulls, end="walk_on"))
    assert [(e.kind, e.severity, e.track_ids) for e in events] == [("door_handle_trying", "low", (5, 102))]
    e = events[0]
    assert e.details["door_work"] is True and e.details["vehicles"] == 1 and e.details["pulls"] == pulls
    assert e.summary.startswith(f"person 5 worked at the door of parked car 102 ({how} in")
    json.dumps(e.to_json())


def test_door_work_escalates_to_several_cars_through_the_engine(row):
    """Door work at the first car (low), then the second car (high): the engine's cooldown for the
    same kind and person does not hold back the more severe event."""
    from datetime import timedelta

    from vision.behaviours import BehaviourEngine

    engine = BehaviourEngine("cam1", RulesConfig(), rules=[DoorHandleRule()])
    frames = row.thief(tried=(101, 102), pulls=3, hold_s=1.0, end="stay")
    events = []
    for k, objs in enumerate(frames):
        events += engine.update(k, row.T0 + timedelta(seconds=k / 10), 1280, 720, row.detections(objs))
    assert [(e.severity, e.details["vehicles"]) for e in events] == [("low", 1), ("high", 2)]


def test_brief_taps_shorter_than_min_touch_do_not_count(scene, row):
    assert scene.run(DoorHandleRule(DoorHandleConfig(min_touch_s=0.6)), row.thief(hold_s=0.3)) == []


def test_touched_car_hidden_behind_the_thief_still_counts(scene, row):
    events = scene.run(DoorHandleRule(DoorHandleConfig(min_vehicles=4)), row.thief(occlude=True))
    assert [e.details["vehicle_track_ids"] for e in events] == [[101, 102, 103, 104]]


def test_touches_spread_wider_than_the_window_do_not_fire(scene, row):
    # 1.5 s per car and 3 s walking between: the 2nd car comes ~4.5 s after the 1st
    assert scene.run(DoorHandleRule(DoorHandleConfig(window_s=3.0)), row.thief()) == []


def test_disabled_rule_reports_nothing(scene, row):
    assert scene.run(DoorHandleRule(DoorHandleConfig(enabled=False)), row.thief()) == []


def test_a_parking_zone_names_the_event_and_raises_the_score(scene, row):
    plain = scene.run(DoorHandleRule(), row.thief())
    lot = Zone("lot", "parking", np.array([[0, 350], [1280, 350], [1280, 560], [0, 560]], np.float32))
    zoned = type(scene)(zones=(lot,)).run(DoorHandleRule(), row.thief())
    assert plain[0].zone is None and zoned[0].zone == "lot"
    assert zoned[0].score > plain[0].score


def test_moving_cars_are_not_parked():
    pv = ParkedVehicles()
    out = {}
    for k in range(60):  # 6 s at 10 fps: car 1 still, car 2 driving 20 px per frame
        det = Detections(
            np.array([[100, 300, 400, 400], [100 + 20 * k, 500, 400 + 20 * k, 600]], np.float32),
            np.ones(2, np.float32), np.array([CAR, CAR], np.int32), np.array([1, 2], np.int64),
        )  # fmt: skip
        out = pv.update(k / 10, det)
    assert list(out) == [1]


BOX = (300.0, 375.0, 342.0, 495.0)  # a person 120 px tall with feet at y 495, next to car 101


@pytest.mark.parametrize(
    ("case", "wrist", "conf", "foot_dy", "expected"),
    [
        ("hand on the handle", (214.0, 425.0), 0.9, 0.0, 101),
        ("hand at the roof", (214.0, 385.0), 0.9, 0.0, None),
        ("hand at the wheel", (214.0, 478.0), 0.9, 0.0, None),
        ("wrist not seen", (214.0, 425.0), 0.1, 0.0, None),
        ("far behind the car, hand raised over it", (214.0, 425.0), 0.9, -80.0, None),
        ("in the road in front of it", (214.0, 425.0), 0.9, 60.0, None),
    ],
)
def test_touched_vehicle_table(case, wrist, conf, foot_dy, expected):
    box = np.array([180.0, 375.0 + foot_dy, 222.0, 495.0 + foot_dy], np.float32)
    kp = np.zeros((17, 3), np.float32)
    kp[10] = (*wrist, conf)
    parked = {101: np.array([40.0, 380.0, 330.0, 480.0], np.float32), 102: np.array([340.0, 380.0, 630.0, 480.0])}
    assert touched_vehicle(box, kp, parked) == expected, case


@pytest.mark.parametrize(
    ("case", "hips_seen", "expected"), [("hips above the roof", True, 102), ("only the head", False, None)]
)
def test_far_side_of_the_car_with_legs_hidden(row, case, hips_seen, expected):
    """Feet hidden behind car 102 (its box cut at the hips): the feet are estimated from the torso."""
    p = row.person(7, row.HANDLE_X[102] - 25, 470.0, 120.0, right_wrist=(row.HANDLE_X[102], 422.0))
    kp = p.keypoints.copy()
    kp[13:17, 2] = 0.05  # knees and ankles not seen
    if not hips_seen:
        kp[11:13, 2] = 0.05
    box = np.array([p.box[0], p.box[1], p.box[2], 420.0], np.float32)  # visible down to the hips
    parked = {cid: np.array(b, np.float32) for cid, b in row.CAR_BOXES.items()}
    assert touched_vehicle(box, kp, parked) == expected, case


@pytest.mark.parametrize("parked", [{}, {101: np.array([40.0, 380.0, 330.0, 480.0])}])
def test_touched_vehicle_without_keypoints_or_cars(parked):
    assert touched_vehicle(np.array(BOX, np.float32), None, parked) is None


def test_rules_config_accepts_the_new_fields():
    cfg = RulesConfig.model_validate({"door_handles": {"min_vehicles": 3, "window_s": 60}})
    assert cfg.door_handles.min_vehicles == 3
