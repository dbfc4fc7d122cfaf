"""Commands: ACK handling, retries with confirmation, rejection reasons, timeouts, modes."""

from __future__ import annotations

import math

import pytest

from flight import (
    CommandRejected,
    CommandTimeout,
    Link,
    UnknownMode,
    arm,
    change_speed,
    disarm,
    goto,
    land,
    rtl,
    set_gimbal,
    set_mode,
    set_roi,
    takeoff,
    trigger_camera,
)
from flight._mav import mavlink
from flight.modes import mode_name, mode_numbers
from tests.flight.fakevehicle import FakeVehicle


@pytest.fixture
def link(vehicle: FakeVehicle):
    with Link.open(vehicle.url, wait_heartbeat_s=5.0) as lk:
        yield lk


def test_arm_takeoff_mode_land_disarm(vehicle: FakeVehicle, link: Link) -> None:
    set_mode(link, "GUIDED")
    assert link.state().mode == "GUIDED"
    ack = arm(link)
    assert ack.accepted and ack.result_name == "ACCEPTED" and link.state().armed
    takeoff(link, 12.5)
    assert vehicle.alt_rel_m == 12.5
    assert link.wait_state(lambda s: s.alt_rel_m == pytest.approx(12.5), timeout_s=3.0)
    rtl(link)
    assert link.wait_state(lambda s: s.mode == "RTL", timeout_s=3.0)
    land(link)
    assert link.wait_state(lambda s: s.mode == "LAND", timeout_s=3.0)
    disarm(link)
    assert not link.state().armed


def test_arm_refused_raises_with_prearm_reason(vehicle: FakeVehicle, link: Link) -> None:
    vehicle.gps_fix = 0
    with pytest.raises(CommandRejected, match="PreArm: GPS 1: Bad fix") as info:
        arm(link)
    assert info.value.command == "arm" and info.value.result == "FAILED"
    assert not link.state().armed


def test_takeoff_unarmed_is_rejected_with_reason(link: Link) -> None:
    with pytest.raises(CommandRejected, match="takeoff rejected by vehicle \\(FAILED\\): Takeoff: vehicle not armed"):
        takeoff(link, 10)


def test_lost_acks_are_retried_with_increasing_confirmation(vehicle: FakeVehicle, link: Link) -> None:
    vehicle.faults.ignore_commands = 2
    ack = change_speed(link, 7.0)
    assert ack.attempts == 3
    confirmations = [c[1] for c in vehicle.commands if c[0] == mavlink.MAV_CMD_DO_CHANGE_SPEED]
    assert confirmations == [0, 1, 2]


def test_no_ack_at_all_times_out(vehicle: FakeVehicle, link: Link) -> None:
    vehicle.faults.ignore_commands = 100
    with pytest.raises(CommandTimeout, match="DO_CHANGE_SPEED: no answer from vehicle after 4 attempt"):
        link.command(1, mavlink.MAV_CMD_DO_CHANGE_SPEED, (1, 5, -1), timeout_s=0.1, retries=3)


def test_unknown_mode_lists_choices(link: Link) -> None:
    with pytest.raises(UnknownMode, match="unknown ArduPilot mode 'warp'; known modes: STABILIZE"):
        set_mode(link, "warp")


def test_denied_mode_is_rejected(link: Link) -> None:
    with pytest.raises(CommandRejected, match="mode ACRO rejected by vehicle \\(DENIED\\)"):
        set_mode(link, "ACRO")


def test_goto_switches_to_guided_and_sends_position_target(vehicle: FakeVehicle, link: Link) -> None:
    goto(link, 52.23, 21.01, 30.0)
    assert link.state().mode == "GUIDED"
    assert link.wait_state(lambda s: "SET_POSITION_TARGET_GLOBAL_INT" in vehicle.received, timeout_s=2.0) is not None


@pytest.mark.parametrize(
    ("call", "command", "check"),
    [
        (lambda lk: set_roi(lk, 52.1, 21.2, 5.0), mavlink.MAV_CMD_DO_SET_ROI_LOCATION,
         lambda p: p[4] == pytest.approx(52.1) and p[5] == pytest.approx(21.2) and p[6] == 5.0),
        (lambda lk: set_gimbal(lk, -45.0, 10.0), mavlink.MAV_CMD_DO_MOUNT_CONTROL,
         lambda p: p[0] == -45.0 and p[2] == 10.0 and p[6] == mavlink.MAV_MOUNT_MODE_MAVLINK_TARGETING),
        (lambda lk: set_gimbal(lk, -90.0, 0.0, gimbal_manager=True), mavlink.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW,
         lambda p: p[0] == -90.0 and math.isnan(p[2])),
        (lambda lk: trigger_camera(lk), mavlink.MAV_CMD_DO_DIGICAM_CONTROL, lambda p: p[4] == 1),
        (lambda lk: trigger_camera(lk, image_capture=True), mavlink.MAV_CMD_IMAGE_START_CAPTURE, lambda p: p[2] == 1),
    ],
)
def test_payload_commands_go_out_with_the_right_params(vehicle: FakeVehicle, link: Link, call, command, check) -> None:
    assert call(link).accepted
    sent = [c for c in vehicle.commands if c[0] == command]
    assert sent and check(sent[-1][2])


@pytest.mark.parametrize(
    ("autopilot", "name", "numbers", "back"),
    [
        ("ardupilot", "guided", (4, 0), "GUIDED"),
        ("ardupilot", "AUTO", (3, 0), "AUTO"),
        ("ardupilot", "smart_rtl", (21, 0), "SMART_RTL"),
        ("px4", "MISSION", (4, 4), "MISSION"),
        ("px4", "auto", (4, 4), "MISSION"),
        ("px4", "POSCTL", (3, 0), "POSCTL"),
        ("px4", "RTL", (4, 5), "RTL"),
    ],
)
def test_mode_tables_round_trip(autopilot: str, name: str, numbers: tuple[int, int], back: str) -> None:
    assert mode_numbers(autopilot, name) == numbers
    main, sub = numbers
    custom = (sub << 24) | (main << 16) if autopilot == "px4" else main
    assert mode_name(autopilot, custom) == back


@pytest.mark.parametrize(("autopilot", "name"), [("ardupilot", ""), ("px4", "GUIDED_NOGPS"), ("ardupilot", "MISSION")])
def test_unknown_mode_names(autopilot: str, name: str) -> None:
    with pytest.raises(UnknownMode):
        mode_numbers(autopilot, name)
