"""missions.edit: inserting and deleting items keeps every DO_JUMP on the item it jumped to."""

from __future__ import annotations

import pytest

from missions import Mission, MissionError, MissionItem, mavcmd
from missions.edit import delete_item, insert_item, move_item


def _wp(k: int) -> MissionItem:
    return MissionItem(mavcmd.NAV_WAYPOINT, 3, 0, 0, 0, 0, 52.0 + k * 1e-4, 13.0, 30.0)


JUMP = MissionItem(mavcmd.DO_JUMP, 2, 3.0, 2.0, 0, 0)  # to seq 3 = index 2, twice more
MISSION = Mission((MissionItem(mavcmd.NAV_TAKEOFF, 3, alt_m=30.0), _wp(1), _wp(2), _wp(3), JUMP,
                   MissionItem(mavcmd.NAV_RETURN_TO_LAUNCH, 2)))  # fmt: skip


def _target(m: Mission) -> MissionItem:
    jump = next(it for it in m.items if it.command == mavcmd.DO_JUMP)
    return m.items[int(jump.param1) - 1]


@pytest.mark.parametrize("at", [0, 1, 2, 3, 4, 5, 6])
def test_insert_keeps_the_jump_target(at: int) -> None:
    m = insert_item(MISSION, at, _wp(9))
    assert len(m.items) == 7 and m.items[at] == _wp(9)
    assert _target(m) == _wp(2)


@pytest.mark.parametrize("at", [0, 1, 3, 5])
def test_delete_keeps_the_jump_target(at: int) -> None:
    m = delete_item(MISSION, at)
    assert len(m.items) == 5 and _target(m) == _wp(2)


def test_deleting_the_target_jumps_to_the_item_after_it() -> None:
    assert _target(delete_item(MISSION, 2)) == _wp(3)


def test_move_and_bad_indexes() -> None:
    m = move_item(MISSION, 1, 52.5, 13.5)
    assert (m.items[1].lat_deg, m.items[1].lon_deg, m.items[1].alt_m) == (52.5, 13.5, 30.0)
    for call in (lambda: insert_item(MISSION, 7, _wp(1)), lambda: delete_item(MISSION, 6),
                 lambda: move_item(MISSION, 1, 95.0, 0.0)):  # fmt: skip
        with pytest.raises(MissionError):
            call()
