"""vehicle_entry on scripted tracked detections: gone right beside the car they were trying -> event;
gone anywhere else, or never at a door -> nothing."""

from __future__ import annotations

import json

import pytest

from vision.behaviours.config import VehicleEntryConfig
from vision.behaviours.door_handles import DoorHandleRule
from vision.behaviours.vehicle_entry import VehicleEntryRule


def test_thief_vanishing_at_the_last_car_tried_is_high(scene, row):
    events = scene.run(VehicleEntryRule(), row.thief(end="vanish"))
    assert len(events) == 1
    e = events[0]
    assert e.kind == "vehicle_entry" and e.severity == "high"
    assert e.track_ids == (7, 104)
    assert e.details["other_vehicle_track_ids"] == [101, 102, 103]
    assert e.details["gone_s"] >= 2.0
    assert e.summary == "person 7 got into parked car 104 after trying 3 other cars"
    json.dumps(e.to_json())


def test_owner_getting_into_their_car_is_medium(scene, row):
    events = scene.run(VehicleEntryRule(), row.owner(cid=102, hold_s=3.0, end="vanish"))
    assert [(e.severity, e.track_ids) for e in events] == [("medium", (5, 102))]


@pytest.mark.parametrize("end", ["road", "walk_on", "stay"])
def test_no_entry_when_they_leave_the_car_or_are_still_there(scene, row, end):
    assert scene.run(VehicleEntryRule(), row.thief(end=end)) == []


def test_walker_who_vanishes_beside_a_car_without_trying_it_is_nothing(scene, row):
    frames = row.walker()[:60]  # cut off mid-row: the track ends beside car 102 / 103
    frames += [row.cars() for _ in range(40)]
    assert scene.run(VehicleEntryRule(), frames) == []


def test_no_entry_when_the_car_goes_out_of_view_with_them(scene, row):
    """A camera that pans or cuts to another scene makes everyone vanish at once, the cars too."""
    frames = row.thief(tried=(101, 102), end="stay")
    frames += [[] for _ in range(40)]  # nothing seen any more: not the thief getting in
    assert scene.run(VehicleEntryRule(), frames) == []


@pytest.mark.parametrize(("width", "fires"), [(1280, True), (1100, False)])
def test_no_entry_when_last_seen_at_the_edge_of_the_picture(scene, row, width, fires):
    """The owner at the last car (x 940..1230): in a 1100 px wide picture they stand cut off at the
    right edge, so vanishing there is walking out of view, not getting in."""
    events = type(scene)(size=(width, 720)).run(VehicleEntryRule(), row.owner(cid=104, hold_s=3.0, end="vanish"))
    assert bool(events) is fires


def test_vanish_must_last_vanish_s(scene, row):
    frames = row.thief(tried=(101, 102), end="stay")
    frames += [row.cars() for _ in range(25)]  # 2.5 s gone
    assert scene.run(VehicleEntryRule(VehicleEntryConfig(vanish_s=3.0)), frames) == []
    fresh = type(scene)()
    assert len(fresh.run(VehicleEntryRule(VehicleEntryConfig(vanish_s=2.0)), frames)) == 1


def test_thief_story_both_rules(scene, row):
    """The headline case: tries the doors along the row (door_handle_trying), gets into the last one."""
    rules = [DoorHandleRule(), VehicleEntryRule()]
    events = [e for objs in row.thief(end="vanish") for r in rules for e in r.update(scene.frame(objs))]
    assert [(e.kind, e.severity) for e in events] == [("door_handle_trying", "high"), ("vehicle_entry", "high")]
    assert events[0].t_end_utc < events[1].t_end_utc


def test_state_is_dropped_after_the_event(scene, row):
    rule = VehicleEntryRule()
    scene.run(rule, row.thief(end="vanish"))
    assert len(rule) == 4  # the parked cars only
