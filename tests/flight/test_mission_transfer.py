"""Mission/fence/rally transfer: round trips, home handling, faults (dup, drop, legacy), cancel."""

from __future__ import annotations

import threading

import pytest

from flight import (
    Link,
    MissionTransferError,
    TransferCancelled,
    download_fence,
    download_mission,
    download_rally,
    upload_fence,
    upload_items,
    upload_mission,
    upload_rally,
)
from flight._mav import mavlink
from missions.types import Home, Mission, MissionItem
from tests.flight.fakevehicle import FakeVehicle

HOME = Home(52.2297, 21.0122, 100.0)


def patrol(n: int) -> Mission:
    items = [MissionItem(command=22, param1=0.0, alt_m=20.0)]  # NAV_TAKEOFF
    items += [MissionItem(command=16, lat_deg=round(52.2297 + i * 1e-4, 7), lon_deg=round(21.0122 - i * 3e-5, 7),
                          alt_m=30.0 + i % 7)
              for i in range(n - 2)]
    items.append(MissionItem(command=20))  # RTL
    return Mission(items=tuple(items), home=HOME)


@pytest.fixture
def link(vehicle: FakeVehicle):
    with Link.open(vehicle.url, wait_heartbeat_s=5.0) as lk:
        yield lk


@pytest.mark.parametrize("n", [2, 3, 50])
def test_mission_round_trip_adds_and_strips_home(vehicle: FakeVehicle, link: Link, n: int) -> None:
    mission = patrol(n)
    seen: list[tuple[int, int]] = []
    upload_mission(link, mission, progress=lambda d, t: seen.append((d, t)))
    assert len(vehicle.missions[0]) == n + 1  # home at seq 0 on the wire
    assert vehicle.missions[0][0].x == round(HOME.lat_deg * 1e7)
    assert seen[-1] == (n, n)
    down: list[tuple[int, int]] = []
    back = download_mission(link, progress=lambda d, t: down.append((d, t)))
    assert back.items == mission.items
    assert back.home == HOME
    assert down[-1] == (n, n)


def test_empty_mission_uploads_home_only(vehicle: FakeVehicle, link: Link) -> None:
    upload_mission(link, Mission(items=(), home=HOME))
    assert len(vehicle.missions[0]) == 1
    assert download_mission(link).items == ()


@pytest.mark.parametrize(
    "faults",
    [
        {"duplicate_every": 3},
        {"drop_item_every": 7},
        {"legacy_requests": True},
        {"duplicate_every": 2, "drop_item_every": 5, "legacy_requests": True},
    ],
)
def test_upload_survives_duplicates_drops_and_legacy_requests(vehicle: FakeVehicle, link: Link, faults) -> None:
    for k, v in faults.items():
        setattr(vehicle.faults, k, v)
    mission = patrol(30)
    upload_mission(link, mission, item_timeout_s=0.2)
    assert download_mission(link).items == mission.items


def test_fence_and_rally_use_their_mission_type_and_no_home(vehicle: FakeVehicle, link: Link) -> None:
    fence = tuple(MissionItem(command=5001, frame=5, param1=4, lat_deg=52.2 + d[0], lon_deg=21.0 + d[1])
                  for d in [(0, 0), (0, 0.01), (0.01, 0.01), (0.01, 0)])
    rally = (MissionItem(command=5100, frame=3, lat_deg=52.21, lon_deg=21.02, alt_m=15.0),)
    upload_fence(link, fence)
    upload_rally(link, rally)
    assert len(vehicle.missions[1]) == 4 and len(vehicle.missions[2]) == 1 and vehicle.missions[0] == []
    assert download_fence(link) == fence
    assert download_rally(link) == rally


def test_vehicle_silence_fails_with_count(vehicle: FakeVehicle, link: Link) -> None:
    vehicle.faults.drop_item_every = 1  # never accepts an item
    with pytest.raises(MissionTransferError, match="stopped answering after 1/5 items"):
        upload_items(link, list(patrol(5).items), item_timeout_s=0.05, retries=2)


def test_cancel_tells_the_vehicle(vehicle: FakeVehicle, link: Link) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done == 5:
            cancel.set()

    with pytest.raises(TransferCancelled, match="mission transfer: cancelled"):
        upload_mission(link, patrol(40), progress=progress, cancel=cancel)
    assert link.wait_state(lambda s: "MISSION_ACK" in vehicle.received, timeout_s=2.0) is not None
    assert vehicle.missions[0] == []


def test_non_global_frames_round_trip(vehicle: FakeVehicle, link: Link) -> None:
    items = (MissionItem(command=mavlink.MAV_CMD_DO_CHANGE_SPEED, frame=2, param1=1, param2=8.5, param3=-1),
             MissionItem(command=16, frame=1, lat_deg=12.3456, lon_deg=-7.5, alt_m=-3.0))
    upload_mission(link, Mission(items=items, home=HOME))
    assert download_mission(link).items == items


def test_px4_has_no_home_item_on_the_wire() -> None:
    px4 = FakeVehicle(autopilot=mavlink.MAV_AUTOPILOT_PX4)
    try:
        with Link.open(px4.url, wait_heartbeat_s=5.0) as link:
            assert link.state().autopilot == "px4"
            mission = patrol(5)
            upload_mission(link, mission)
            assert len(px4.missions[0]) == 5 and px4.missions[0][0].command == 22
            back = download_mission(link)
            assert back.items == mission.items and back.home is None
    finally:
        px4.close()


@pytest.mark.parametrize(
    "bad",
    [MissionItem(command=16, lat_deg=500.0, lon_deg=21.0), MissionItem(command=70000),
     MissionItem(command=16, frame=300)],
)
def test_unencodable_item_is_named_before_anything_is_sent(vehicle: FakeVehicle, link: Link, bad) -> None:
    mission = Mission(items=(MissionItem(command=22, alt_m=10.0), bad), home=HOME)
    with pytest.raises(MissionTransferError, match=r"item 2 .* cannot be encoded"):
        upload_mission(link, mission)
    assert "MISSION_COUNT" not in vehicle.received
