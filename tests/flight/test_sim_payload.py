"""Payload commands, params, signing and a failsafe mid-mission, against the embedded simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flight import (
    FlightAborted,
    Link,
    change_speed,
    read_param,
    set_gimbal,
    set_roi,
    trigger_camera,
    write_param,
)
from flight.autorun import RunProgress, fly_mission
from flight.sim import SimFleet, SimVehicle
from missions import Home, Mission, MissionItem, Plan

HOME = (52.2297, 21.0122, 100.0)
KEY_HEX = "5a" * 32


@pytest.fixture
def sim() -> Iterator[SimVehicle]:
    with SimFleet.start(vehicles=1, home=HOME, speedup=50.0, listen="tcp:127.0.0.1:0") as fleet:
        yield fleet.vehicles[0]


def test_gimbal_roi_camera_speed_and_params(sim: SimVehicle) -> None:
    with Link.open(sim.url, wait_heartbeat_s=5.0) as link:
        sim.wait(lambda t: t.gcs_seen, timeout_s=5)  # our 1 Hz GCS heartbeat reaches the vehicle
        set_gimbal(link, -45.0, 0.0)
        sim.wait(lambda t: abs(t.gimbal_pitch_deg + 45.0) < 1.0, timeout_s=10)
        set_gimbal(link, -90.0, 0.0, gimbal_manager=True)
        sim.wait(lambda t: abs(t.gimbal_pitch_deg + 90.0) < 1.0, timeout_s=10)
        set_roi(link, 52.2300, 21.0130, 0.0)
        assert sim.truth().roi is not None
        before = sim.truth().camera_triggers
        trigger_camera(link)
        sim.wait(lambda t: t.camera_triggers == before + 1, timeout_s=10)
        assert change_speed(link, 6.0).accepted
        assert read_param(link, "SYSID_THISMAV") == 1.0
        write_param(link, "RTL_ALT", 2500.0)
        assert sim.param("RTL_ALT") == 2500.0


def test_signed_link_to_signed_sim() -> None:
    key = bytes.fromhex(KEY_HEX)
    with SimFleet.start(vehicles=1, home=HOME, speedup=5.0, listen="tcp:127.0.0.1:0", signing_key=key) as fleet:
        with Link.open(fleet.vehicles[0].url, signing_key=KEY_HEX, wait_heartbeat_s=5.0) as link:
            assert link.wait_state(lambda s: s.lat_deg is not None, timeout_s=5.0) is not None
            assert read_param(link, "SYSID_THISMAV") == 1.0  # commands get through signed
        with Link.open(fleet.vehicles[0].url, signing_key="6b" * 32) as wrong:
            assert wrong.wait_state(lambda s: True, timeout_s=1.0) is None
            assert wrong.stats().bad_signature > 0


def test_battery_failsafe_mid_mission_is_reported(sim: SimVehicle) -> None:
    items = [MissionItem(command=22, alt_m=20.0)]
    items += [MissionItem(command=16, lat_deg=round(HOME[0] + 0.0004 * i, 7), lon_deg=HOME[1], alt_m=20.0)
              for i in range(1, 9)]
    items.append(MissionItem(command=20))
    plan = Plan(mission=Mission(items=tuple(items), home=Home(*HOME)))

    def progress(p: RunProgress) -> None:
        if p.stage == "waypoint" and p.done == 3:
            sim.set_battery_pct(10.0)

    with Link.open(sim.url, wait_heartbeat_s=5.0) as link, pytest.raises(FlightAborted) as info:
        fly_mission(link, plan, progress=progress, ready_timeout_s=30, flight_timeout_s=120)
    msg = str(info.value)
    print(msg)
    assert msg.startswith("flight: vehicle switched to") and "waypoint 3/10" in msg
    assert not sim.truth().armed  # it still waited for the landing before reporting


def test_the_same_plan_twice_on_one_vehicle_flies_both_times(sim: SimVehicle) -> None:
    items = (MissionItem(command=22, alt_m=15.0),
             *(MissionItem(command=16, lat_deg=round(HOME[0] + 0.0003 * i, 7), lon_deg=HOME[1], alt_m=15.0)
               for i in (1, 2, 3)),
             MissionItem(command=20))
    plan = Plan(mission=Mission(items=items, home=Home(*HOME)))
    with Link.open(sim.url, wait_heartbeat_s=5.0) as link:
        for _ in range(2):
            seen: list[int] = []
            before = sim.truth().distance_flown_m
            def note(p: RunProgress, seen: list[int] = seen) -> None:
                if p.stage == "waypoint":
                    seen.append(p.done)

            fly_mission(link, plan, progress=note, flight_timeout_s=120)
            assert seen[0] <= 3 and seen[-1] == 5  # progress starts low again: no stale "last item"
            assert sim.truth().distance_flown_m - before > 60  # and it really flew the patrol


def test_vehicle_silent_mid_mission_aborts_with_link_lost() -> None:
    items = (MissionItem(command=22, alt_m=15.0),
             *(MissionItem(command=16, lat_deg=round(HOME[0] + 0.0005 * i, 7), lon_deg=HOME[1], alt_m=15.0)
               for i in range(1, 6)),
             MissionItem(command=20))
    plan = Plan(mission=Mission(items=items, home=Home(*HOME)))
    fleet = SimFleet.start(vehicles=1, home=HOME, speedup=20.0, listen="tcp:127.0.0.1:0")
    try:
        def progress(p: RunProgress) -> None:
            if p.stage == "waypoint" and p.done == 3:
                fleet.stop()  # the vehicle vanishes (power, radio range)

        with (Link.open(fleet.vehicles[0].url, wait_heartbeat_s=5.0, heartbeat_timeout_s=0.5) as link,
              pytest.raises(FlightAborted, match="no heartbeat for 1 s at waypoint 3/7")):
            fly_mission(link, plan, progress=progress, flight_timeout_s=120, link_lost_s=1.0)
    finally:
        fleet.stop()
