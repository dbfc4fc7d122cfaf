"""The zone rules (water entry, loitering, zone entry) and crowd, driven through the engine with
scripted tracked detections over capture times."""

from __future__ import annotations

import pytest

from tests.vision.behaviours.scripted import CAR, T0, person_at, run, square, tracked
from vision.behaviours import BehaviourEngine, RulesConfig

RIVER = square("river_bank", "water", 0, 300, 640, 480)  # the lower part of the frame is water
YARD = square("yard", "watch", 0, 0, 300, 480)
DOOR = square("door", "restricted", 400, 0, 640, 200)
CAR_ROW = square("car_row", "parking", 300, 200, 640, 480)


def _engine(zones, **rules) -> BehaviourEngine:
    cfg = RulesConfig.model_validate({"cooldown_s": 0, **rules})
    return BehaviourEngine("cam", cfg, zones)


def _only(events, kind):
    return [(k, t, e) for k, t, e in events if e.kind == kind]


# ---- water entry --------------------------------------------------------------------------------
def test_water_entry_fires_once_after_min_inside_s():
    eng = _engine([RIVER], water_entry={"min_inside_s": 1.0})
    # person 12 walks on the bank (y 250) for 1 s, then stands in the water (y 350) for 3 s
    frames = [tracked({12: person_at(320, 250)})] * 10 + [tracked({12: person_at(320, 350)})] * 30
    events = _only(run(eng, frames), "water_entry")
    assert len(events) == 1
    k, t, ev = events[0]
    assert k == 20 and t == pytest.approx(2.0)  # entered at frame 10 (1.0 s), fired 1.0 s later
    assert (ev.severity, ev.zone, ev.track_ids, ev.feed) == ("high", "river_bank", (12,), "cam")
    assert ev.xy_px == (320.0, 350.0)
    assert ev.t_start_utc == T0.replace(second=1) and ev.t_end_utc == T0.replace(second=2)
    assert ev.summary == "person 12 in the water at 'river_bank' for 1.0 s"
    assert ev.to_json()["kind"] == "water_entry"


def test_water_entry_ignores_a_box_that_wobbles_across_the_edge():
    eng = _engine([RIVER], water_entry={"min_inside_s": 0.5})
    frames = [tracked({3: person_at(320, 305 if k % 3 else 295)}) for k in range(100)]  # 2 frames in, 1 out
    assert _only(run(eng, frames), "water_entry") == []


def test_water_entry_fires_again_only_after_leaving_the_water():
    eng = _engine([RIVER], water_entry={"min_inside_s": 0.5})
    wet, dry = tracked({5: person_at(100, 400)}), tracked({5: person_at(100, 200)})
    frames = [wet] * 20 + [tracked({})] * 5 + [wet] * 20 + [dry] * 3 + [wet] * 10  # unseen != left
    events = _only(run(eng, frames), "water_entry")
    assert [k for k, _, _ in events] == [5, 53]


def test_no_water_zone_no_water_entry():
    eng = _engine([YARD, DOOR])
    assert _only(run(eng, [tracked({1: person_at(100, 400)})] * 30), "water_entry") == []


# ---- loitering ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("zone", "severity"), [(YARD, "low"), (square("gate", "restricted", 0, 0, 300, 480), "medium")]
)
def test_loitering_fires_at_dwell_s_in_watch_and_restricted_zones(zone, severity):
    eng = _engine([zone], loitering={"dwell_s": 2.0})
    frames = [tracked({7: person_at(150, 300 + (k % 4))}) for k in range(60)]
    events = _only(run(eng, frames), "loitering")
    assert [(k, e.zone, e.severity) for k, _, e in events] == [(20, zone.name, severity)]
    assert events[0][2].details == {"dwell_s": 2.0, "zone_kind": zone.kind}


@pytest.mark.parametrize("zones", [[], [RIVER], [CAR_ROW], [square("way_in", "entrance", 0, 0, 640, 480)]])
def test_loitering_needs_a_restricted_or_watch_zone(zones):
    eng = _engine(zones, loitering={"dwell_s": 0.5})
    assert _only(run(eng, [tracked({7: person_at(150, 350)})] * 50), "loitering") == []


def test_loitering_survives_short_exits_but_not_long_ones():
    eng = _engine([YARD], loitering={"dwell_s": 3.0, "exit_grace_s": 1.0})
    inside, outside = tracked({4: person_at(150, 300)}), tracked({4: person_at(500, 300)})
    short = [inside] * 15 + [outside] * 5 + [inside] * 15  # 0.5 s out: the stay goes on, fires at 3.0 s
    assert [k for k, _, _ in _only(run(eng, short), "loitering")] == [30]
    eng = _engine([YARD], loitering={"dwell_s": 3.0, "exit_grace_s": 1.0})
    long = [inside] * 25 + [outside] * 15 + [inside] * 25  # 1.5 s out: the clock restarts at frame 40
    assert _only(run(eng, long), "loitering") == []


def test_people_outside_the_zone_and_vehicles_do_not_loiter():
    eng = _engine([YARD], loitering={"dwell_s": 0.5})
    frames = [tracked({1: person_at(500, 300), 2: (100, 200, 250, 300)}, {2: CAR})] * 30
    assert _only(run(eng, frames), "loitering") == []


# ---- zone entry ---------------------------------------------------------------------------------
def test_zone_entry_fires_on_entering_a_restricted_zone():
    eng = _engine([DOOR, YARD])
    path = [person_at(200 + 20 * k, 150) for k in range(20)]  # walks right, into the door zone at x >= 400
    events = _only(run(eng, [tracked({9: b}) for b in path]), "zone_entry")
    assert len(events) == 1
    k, _, ev = events[0]
    assert k == 10 and (ev.zone, ev.severity, ev.track_ids) == ("door", "medium", (9,))
    assert ev.summary == "person 9 entered restricted zone 'door'"


def test_zone_entry_counts_each_entry_and_a_track_first_seen_inside():
    eng = _engine([DOOR])
    inside, outside = person_at(500, 100), person_at(200, 100)
    frames = [tracked({1: inside})] * 3 + [tracked({1: outside})] * 3 + [tracked({1: inside, 2: outside})] * 3
    events = _only(run(eng, frames), "zone_entry")
    assert [(k, e.track_ids) for k, _, e in events] == [(0, (1,)), (6, (1,))]


def test_watch_zones_are_not_restricted():
    eng = _engine([YARD])
    assert _only(run(eng, [tracked({1: person_at(100, 100)})] * 5), "zone_entry") == []


# ---- crowd --------------------------------------------------------------------------------------
def _group(n: int, x0: float = 100, spacing: float = 50, first_id: int = 1):
    return {first_id + i: person_at(x0 + spacing * i, 400) for i in range(n)}


def test_crowd_fires_once_when_a_group_holds():
    eng = _engine([], crowd={"min_people": 5, "min_duration_s": 1.0})
    frames = [tracked(_group(4))] * 10 + [tracked(_group(6))] * 30  # 4 people: no crowd; 6: after 1 s
    events = _only(run(eng, frames), "crowd")
    assert len(events) == 1
    k, _, ev = events[0]
    assert k == 20 and ev.track_ids == (1, 2, 3, 4, 5, 6) and ev.severity == "medium"
    assert ev.details["people"] == 6 and ev.summary == "crowd of 6 people for 1.0 s"
    assert ev.box_xyxy[0] < 100 < 350 < ev.box_xyxy[2]


def test_crowd_needs_people_close_together_relative_to_their_height():
    eng = _engine([], crowd={"min_people": 5, "min_duration_s": 0.5})
    spread = tracked(_group(6, x0=20, spacing=120))  # 1.2 box heights apart: not one group
    assert _only(run(eng, [spread] * 30), "crowd") == []
    eng = _engine([], crowd={"min_people": 5, "min_duration_s": 0.5, "link_heights": 1.5})
    assert len(_only(run(eng, [spread] * 30), "crowd")) == 1


def test_crowd_two_small_groups_are_not_a_crowd():
    eng = _engine([], crowd={"min_people": 5, "min_duration_s": 0.5})
    two = tracked({**_group(3, x0=20), **_group(3, x0=450, first_id=10)})
    assert _only(run(eng, [two] * 30), "crowd") == []


def test_crowd_flicker_within_gap_s_is_one_crowd():
    eng = _engine([], crowd={"min_people": 5, "min_duration_s": 1.0, "gap_s": 0.5})
    big, small = tracked(_group(5)), tracked(_group(4))
    frames = ([big] * 8 + [small] * 2) * 6  # one person missed for 0.2 s now and then
    assert [k for k, _, _ in _only(run(eng, frames), "crowd")] == [10]
