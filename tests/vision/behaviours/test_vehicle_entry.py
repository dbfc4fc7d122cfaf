"""vehicle_entry on scripted tracked detections: door work, then the body going into the car's outline
and gone -> event; an owner opening their car in one go, vanishing beside a car, leaving, a cut or
a camera move -> nothing."""

from __future__ import annotations

import json

import pytest

from vision.behaviours.config import VehicleEntryConfig
from vision.behaviours.door_handles import DoorHandleRule
from vision.behaviours.vehicle_entry import VehicleEntryRule


def test_thief_getting_into_the_last_car_tried_is_high(scene, row):
    events = scene.run(VehicleEntryRule(), row.thief(end="enter"))
    assert len(events) == 1
    e = events[0]
    assert e.kind == "vehicle_entry" and e.severity == "high"
    assert e.track_ids == (7, 104)
    assert e.details["other_vehicle_track_ids"] == [101, 102, 103]
    assert e.details["seen_going_in"] is True
    assert 0.5 <= e.details["gone_s"] < 1.0  # no seconds of vanishing needed once seen going in
    assert e.summary == "person 7 got into parked car 104 after trying 3 other cars"
    json.dumps(e.to_json())


@pytest.mark.parametrize(("pulls", "hold_s"), [(3, 1.0), (1, 5.0)])
def test_door_work_then_getting_in_is_medium(scene, row, pulls, hold_s):
    """Repeated pulls at one car's handle, or one long hold, then in: medium (one car only)."""
    events = scene.run(VehicleEntryRule(), row.owner(cid=102, hold_s=hold_s, pulls=pulls, end="enter"))
    assert [(e.severity, e.track_ids) for e in events] == [("medium", (5, 102))]
    assert events[0].details["door_touches"] == pulls


@pytest.mark.parametrize("hold_s", [0.8, 1.5, 3.0])
def test_owner_opening_their_car_and_getting_in_stays_quiet(scene, row, hold_s):
    """Hard negative: one touch at the door (unlock, open) and in: the owner driving off."""
    assert scene.run(VehicleEntryRule(), row.owner(cid=102, hold_s=hold_s, end="enter")) == []


def test_owner_opening_in_one_go_fires_without_require_door_work(scene, row):
    cfg = VehicleEntryConfig(require_door_work=False)
    events = scene.run(VehicleEntryRule(cfg), row.owner(cid=102, hold_s=1.5, end="enter"))
    assert [e.severity for e in events] == ["medium"]


@pytest.mark.parametrize("end", ["road", "walk_on", "stay"])
def test_no_entry_when_they_leave_the_car_or_are_still_there(scene, row, end):
    assert scene.run(VehicleEntryRule(), row.thief(end=end)) == []


def test_vanishing_beside_the_car_is_not_getting_in(scene, row):
    """Lost by the tracker while standing at the door (feet seen beside the car): not an entry,
    unless ``require_inside`` is switched off (then ``vanish_s`` of absence beside it is enough)."""
    assert scene.run(VehicleEntryRule(), row.thief(end="vanish")) == []
    fresh = type(scene)()
    events = fresh.run(VehicleEntryRule(VehicleEntryConfig(require_inside=False)), row.thief(end="vanish"))
    assert [(e.severity, e.details["seen_going_in"]) for e in events] == [("high", False)]
    assert events[0].details["gone_s"] >= 2.0


def test_walker_who_vanishes_beside_a_car_without_trying_it_is_nothing(scene, row):
    frames = row.walker()[:60]  # cut off mid-row: the track ends beside car 102 / 103
    frames += [row.cars() for _ in range(40)]
    assert scene.run(VehicleEntryRule(), frames) == []
    assert type(scene)().run(VehicleEntryRule(VehicleEntryConfig(require_inside=False)), frames) == []


def test_no_entry_when_the_car_goes_out_of_view_with_them(scene, row):
    """A camera that pans or cuts to another scene makes everyone vanish at once, the cars too."""
    frames = row.thief(tried=(101, 102), end="stay")
    frames += [[] for _ in range(40)]  # nothing seen any more: not the thief getting in
    assert scene.run(VehicleEntryRule(VehicleEntryConfig(require_inside=False)), frames) == []


def _with_bystander(frames, row, until: int | None):
    """Add a person standing still away from the cars (x 640, lower in the picture) from when the
    thief appears up to frame ``until`` (None: to the end)."""
    out, started = [], False
    for k, objs in enumerate(frames):
        started = started or any(o.cls == 0 for o in objs)
        if started and (until is None or k < until):
            objs = [*objs, row.person(40, 640.0, 700.0, 150.0)]
        out.append(objs)
    return out


def test_jump_cut_ending_every_track_is_not_an_entry(scene, row):
    """The false alarm seen on a real fight clip: tracks end at a jump cut while the cached car boxes
    stay. Here the thief worked at the car and their last box even sits in its outline, but a
    bystander's track ends at the same frame: a cut, not someone getting in."""
    for end, cfg in (("enter", VehicleEntryConfig()), ("vanish", VehicleEntryConfig(require_inside=False))):
        frames = row.thief(tried=(101, 102), end=end)
        gone = max(k for k, objs in enumerate(frames) if any(o.tid == 7 for o in objs)) + 1
        cut = _with_bystander(frames, row, until=gone)
        assert type(scene)().run(VehicleEntryRule(cfg), cut) == [], end
        kept = _with_bystander(frames, row, until=None)  # the bystander stays: the thief alone went
        assert [e.track_ids for e in type(scene)().run(VehicleEntryRule(cfg), kept)] == [(7, 102)], end


@pytest.mark.parametrize(("width", "fires"), [(1280, True), (1100, False)])
def test_no_entry_when_last_seen_at_the_edge_of_the_picture(scene, row, width, fires):
    """Door work at the last car (x 940..1230): in a 1100 px wide picture the person stands cut off at
    the right edge, so vanishing there is walking out of view, not getting in."""
    events = type(scene)(size=(width, 720)).run(VehicleEntryRule(), row.owner(cid=104, hold_s=5.0, end="enter"))
    assert bool(events) is fires


def test_gone_must_last_enter_vanish_s(scene, row):
    frames = row.thief(tried=(101, 102), end="enter")[:-40]  # the clip ends right after they went in
    frames += [row.cars() for _ in range(4)]  # 0.4 s gone
    assert scene.run(VehicleEntryRule(), frames) == []
    assert len(type(scene)().run(VehicleEntryRule(VehicleEntryConfig(enter_vanish_s=0.3)), frames)) == 1


def test_thief_story_both_rules(scene, row):
    """The headline case: tries the doors along the row (door_handle_trying), gets into the last one."""
    rules = [DoorHandleRule(), VehicleEntryRule()]
    events = [e for objs in row.thief(end="enter") for r in rules for e in r.update(scene.frame(objs))]
    assert [(e.kind, e.severity) for e in events] == [("door_handle_trying", "high"), ("vehicle_entry", "high")]
    assert events[0].t_end_utc < events[1].t_end_utc


def test_state_is_dropped_after_the_event(scene, row):
    rule = VehicleEntryRule()
    scene.run(rule, row.thief(end="enter"))
    assert len(rule) == 4  # the parked cars only
