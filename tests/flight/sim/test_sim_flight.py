"""Flying the simulator with an independent pymavlink client: arming, modes, missions, failsafes.

Assertions are on sim time and true state (``truth()``), never on wall-clock timing.
"""

from __future__ import annotations

import math

import pytest
from pymavlink.dialects.v20 import ardupilotmega as M

from tests.flight.sim.geohelp import ne_of, offset_deg

HOME = (52.2297, 21.0122, 100.0)
REL = M.MAV_FRAME_GLOBAL_RELATIVE_ALT


def _dist_m(t, lat, lon) -> float:
    n, e = ne_of(lat, lon, t.lat_deg, t.lon_deg)
    return math.hypot(n, e)


def _airborne(fleet, cl, alt=20.0, index=0):
    v = fleet.vehicles[index]
    v.wait(lambda t: t.ekf_ok, 20)
    assert cl.set_mode("GUIDED") == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, alt) == M.MAV_RESULT_ACCEPTED
    return v.wait(lambda t: t.alt_rel_m > alt - 0.5, 30)


def test_arming_refused_until_gps_fix_with_prearm_text(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=1)  # the EKF uses GPS after 4.5 s of sim time
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    assert cl.wait_booted(5)
    assert cl.set_mode("GUIDED") == M.MAV_RESULT_ACCEPTED  # disarmed: any mode, the arming checks decide
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_FAILED
    assert cl.wait_text("Arm: GPS 1: Bad fix", 5)  # no 3D fix yet (after 3 s of sim time)
    fleet.set_speedup(40)
    v.wait(lambda t: t.ekf_ok, 20)
    v.set_gps_fix(0)  # test hook: GPS lost
    cl.texts.clear()
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_FAILED
    assert cl.wait_text("Arm: GPS 1: Bad fix", 5)
    assert cl.set_mode("STABILIZE") == M.MAV_RESULT_ACCEPTED  # like ArduCopter: no GPS needed here
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED
    assert cl.set_mode("GUIDED") == M.MAV_RESULT_FAILED  # armed: a position mode needs a position
    assert cl.wait_text("Mode change to GUIDED failed: requires position", 5)
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 0) == M.MAV_RESULT_ACCEPTED
    v.set_gps_fix(None)
    assert cl.set_mode("GUIDED") == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED
    assert v.truth().armed


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        ("auto_mode", "Arm: AUTO mode not armable"),
        ("low_battery", "Arm: Battery 1 low voltage failsafe"),
        ("outside_fence", "Arm: Fence: vehicle outside fence"),
    ],
)
def test_arming_checks(fleet_factory, client_factory, setup, fragment):
    fleet = fleet_factory(speedup=40)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    cl.set_mode("GUIDED")
    if setup == "auto_mode":
        items = [(16, 0, 0, 0, 0, 0, HOME[0], HOME[1], 0), (22, REL, 0, 0, 0, 0, 0, 0, 10)]
        assert cl.upload(items) == M.MAV_MISSION_ACCEPTED
        assert cl.set_mode("AUTO") == M.MAV_RESULT_ACCEPTED
    elif setup == "low_battery":
        v.set_battery_pct(10)
    else:
        lat, lon = offset_deg(HOME[0], HOME[1], 500, 0)
        d = 0.001
        fence = [
            (5001, 0, 4, 0, 0, 0, la, lo, 0)
            for la, lo in ((lat - d, lon - d), (lat - d, lon + d), (lat + d, lon + d), (lat + d, lon - d))
        ]
        assert cl.upload(fence, M.MAV_MISSION_TYPE_FENCE) == M.MAV_MISSION_ACCEPTED
        v.set_param("FENCE_ENABLE", 1)
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_FAILED
    assert cl.wait_text(fragment, 5), cl.texts
    assert not v.truth().armed


def test_takeoff_refused_when_disarmed_and_auto_disarm(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=40)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    fleet.set_speedup(5)  # so the client's round trip is small against DISARM_DELAY
    cl.set_mode("GUIDED")
    assert cl.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10) == M.MAV_RESULT_FAILED
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED
    armed_at = v.truth().t_sim_s
    t = v.wait(lambda t: not t.armed, 20)
    assert 7.0 <= t.t_sim_s - armed_at <= 12.0  # DISARM_DELAY = 10 s (wide: a loaded machine merges ticks)
    assert cl.wait_text("Disarming motors", 5)


def test_guided_goto_set_mode_message_and_land(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=40)
    cl = client_factory(fleet.vehicles[0].url)
    v = fleet.vehicles[0]
    _airborne(fleet, cl, 15)
    lat, lon = offset_deg(HOME[0], HOME[1], 0, 120)  # 120 m east
    cl.m.mav.set_position_target_global_int_send(
        0, 1, 1, REL, 0b110111111000, round(lat * 1e7), round(lon * 1e7), 30, 0, 0, 0, 0, 0, 0, 0, 0
    )
    mid = v.wait(lambda t: t.groundspeed_m_s > 8, 30)
    assert 80 <= mid.heading_deg <= 100  # faces where it flies
    t = v.wait(lambda t: _dist_m(t, lat, lon) < 0.5 and abs(t.alt_rel_m - 30) < 0.3, 40)
    assert t.groundspeed_m_s <= 10.5  # WPNAV_SPEED 1000 cm/s
    cl.m.mav.set_mode_send(1, M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, 9)  # SET_MODE -> LAND
    t = v.wait(lambda t: not t.armed, 60)
    assert t.landed and t.mode == "LAND" and _dist_m(t, lat, lon) < 1.0


def _ten_item_mission(lat, lon):
    n1 = offset_deg(lat, lon, 150, 0)
    ne = offset_deg(lat, lon, 150, 150)
    e1 = offset_deg(lat, lon, 0, 150)
    return [
        (16, 0, 0, 0, 0, 0, lat, lon, 0),  # 0 home (ArduPilot convention)
        (22, REL, 0, 0, 0, 0, 0, 0, 20),  # 1 takeoff 20 m
        (178, M.MAV_FRAME_MISSION, 1, 12, -1, 0, 0, 0, 0),  # 2 speed 12 m/s
        (16, REL, 0, 0, 0, 0, *n1, 20),  # 3 waypoint
        (201, REL, 0, 0, 0, 0, *e1, 0),  # 4 ROI
        (16, REL, 2, 3, 0, 0, *ne, 25),  # 5 waypoint, hold 2 s, radius 3 m
        (205, M.MAV_FRAME_MISSION, -45, 0, 0, 0, 0, 0, 0),  # 6 mount pitch -45 (clears ROI)
        (203, M.MAV_FRAME_MISSION, 0, 0, 0, 0, 1, 0, 0),  # 7 take a photo
        (19, REL, 5, 0, 0, 0, *e1, 20),  # 8 loiter 5 s
        (18, REL, 1, 0, 20, 0, *e1, 20),  # 9 one 20 m circle
        (177, M.MAV_FRAME_MISSION, 3, 1, 0, 0, 0, 0, 0),  # 10 jump to 3, once
        (20, REL, 0, 0, 0, 0, 0, 0, 0),  # 11 RTL
    ]


def test_ten_item_auto_mission_rtl_land_disarm(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    assert cl.upload(_ten_item_mission(HOME[0], HOME[1])) == M.MAV_MISSION_ACCEPTED
    assert cl.set_mode("GUIDED") == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_MISSION_START, 0, 0) == M.MAV_RESULT_ACCEPTED
    reached = []
    cruise = v.wait(lambda t: t.mission_current == 3 and t.groundspeed_m_s > 11, 60)
    assert cruise.groundspeed_m_s <= 12.2  # DO_CHANGE_SPEED
    roi = v.wait(lambda t: t.mission_current == 5 and t.roi is not None, 60)
    assert roi.gimbal_pitch_deg < -5  # looking down at the ROI
    while True:
        msg = cl.recv(
            ["MISSION_ITEM_REACHED", "HEARTBEAT"],
            60,
            lambda m: m.get_type() != "HEARTBEAT" or not (m.base_mode & M.MAV_MODE_FLAG_SAFETY_ARMED),
        )
        assert msg is not None
        if msg.get_type() == "HEARTBEAT":
            break
        reached.append(msg.seq)
    while (late := cl.recv("MISSION_ITEM_REACHED", 0.3)) is not None:
        reached.append(late.seq)
    t = v.truth()
    # each NAV command once, DO_JUMP repeated the loop once; like ArduCopter, no REACHED for the item that lands
    assert reached == [1, 3, 5, 8, 9, 3, 5, 8, 9]
    assert t.camera_triggers == 2 and t.gimbal_pitch_deg == -45
    assert not t.armed and t.landed and t.mode == "AUTO"
    assert _dist_m(t, HOME[0], HOME[1]) < 1.0
    assert any("Mission: 11 RTL" in x for x in cl.texts)
    assert t.distance_flown_m > 2 * (150 + 150 + 150 + 2 * math.pi * 20) * 0.9


def test_patrol_2km_at_speedup_finishes_in_sim_time(fleet_factory, client_factory):
    """A 2 km square patrol (500 m sides) at 10 m/s: ~200 s of cruise plus take-off and landing."""
    fleet = fleet_factory(speedup=100)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    corners = [(500, 0), (500, 500), (0, 500), (0, 0)]
    items = [(16, 0, 0, 0, 0, 0, HOME[0], HOME[1], 0), (22, REL, 0, 0, 0, 0, 0, 0, 30)]
    items += [(16, REL, 0, 0, 0, 0, *offset_deg(HOME[0], HOME[1], n, e), 30) for n, e in corners]
    items.append((21, REL, 0, 0, 0, 0, 0, 0, 0))
    assert cl.upload(items) == M.MAV_MISSION_ACCEPTED
    cl.set_mode("GUIDED")
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED
    start = v.truth().t_sim_s
    assert cl.command(M.MAV_CMD_MISSION_START) == M.MAV_RESULT_ACCEPTED
    t = v.wait(lambda t: not t.armed, 60)
    assert t.distance_flown_m >= 1990
    assert t.t_sim_s - start < 300  # cruise 200 s + climb/landing; at --speedup 10 that is < 30 s wall


def test_low_battery_failsafe_returns_home(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    _airborne(fleet, cl, 20)
    lat, lon = offset_deg(HOME[0], HOME[1], 150, 0)
    cl.m.mav.set_position_target_global_int_send(
        0, 1, 1, REL, 0b110111111000, round(lat * 1e7), round(lon * 1e7), 20, 0, 0, 0, 0, 0, 0, 0, 0
    )
    v.wait(lambda t: _dist_m(t, lat, lon) < 5, 40)
    v.set_battery_pct(15)
    assert cl.wait_text("Battery 1 is low", 10)
    assert v.wait(lambda t: t.mode == "RTL", 5).failsafe == "Battery"
    t = v.wait(lambda t: not t.armed, 90)
    assert t.landed and _dist_m(t, t.home_lat_deg, t.home_lon_deg) < 1.0


def test_fence_breach_triggers_rtl(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60, params={"FENCE_ENABLE": 1, "FENCE_RADIUS": 100, "FENCE_TYPE": 3})
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    _airborne(fleet, cl, 20)
    lat, lon = offset_deg(HOME[0], HOME[1], 0, -250)
    cl.m.mav.set_position_target_global_int_send(
        0, 1, 1, REL, 0b110111111000, round(lat * 1e7), round(lon * 1e7), 20, 0, 0, 0, 0, 0, 0, 0, 0
    )
    assert cl.wait_text("Fence Breached", 30)
    t = v.wait(lambda t: t.mode == "RTL", 5)
    assert t.failsafe == "Fence" and _dist_m(t, HOME[0], HOME[1]) < 130  # turned back at the 100 m circle
    t = v.wait(lambda t: not t.armed, 90)
    assert _dist_m(t, HOME[0], HOME[1]) < 1.0


def test_gcs_link_loss_failsafe_returns_home(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=30, params={"FS_GCS_ENABLE": 1, "FS_GCS_TIMEOUT": 2})
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    _airborne(fleet, cl, 20)
    lat, lon = offset_deg(HOME[0], HOME[1], -200, 0)
    cl.m.mav.set_position_target_global_int_send(
        0, 1, 1, REL, 0b110111111000, round(lat * 1e7), round(lon * 1e7), 20, 0, 0, 0, 0, 0, 0, 0, 0
    )
    v.wait(lambda t: _dist_m(t, lat, lon) < 30, 40)
    assert v.truth().gcs_seen and v.truth().mode == "GUIDED"
    cl.heartbeat = False  # the ground station goes silent
    assert cl.wait_text("GCS Failsafe", 15)
    assert v.wait(lambda t: t.mode == "RTL", 5).failsafe == "GCS"
    t = v.wait(lambda t: not t.armed, 90)
    assert t.landed and _dist_m(t, HOME[0], HOME[1]) < 1.0


def test_wind_drift_in_alt_hold(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    start = _airborne(fleet, cl, 20)
    v.set_wind(4.0, 0.0)  # from the north: pushes south
    assert cl.set_mode("ALT_HOLD") == M.MAV_RESULT_ACCEPTED
    t0 = v.truth().t_sim_s
    t = v.wait(lambda t: t.t_sim_s > t0 + 20, 30)
    n, e = ne_of(start.lat_deg, start.lon_deg, t.lat_deg, t.lon_deg)
    assert n < -40 and abs(e) < 5 and abs(t.alt_rel_m - 20) < 0.5
    assert cl.set_mode("LOITER") == M.MAV_RESULT_ACCEPTED
    held = v.wait(lambda t: t.groundspeed_m_s < 0.1, 30)
    later = v.wait(lambda t: t.t_sim_s > held.t_sim_s + 10, 30)
    assert _dist_m(later, held.lat_deg, held.lon_deg) < 0.5


def test_gimbal_commands_and_mount_status(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=40)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    assert cl.command(M.MAV_CMD_DO_MOUNT_CONTROL, -30, 0, 45) == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_SET_MESSAGE_INTERVAL, M.MAVLINK_MSG_ID_MOUNT_STATUS, 200_000) == M.MAV_RESULT_ACCEPTED
    ms = cl.recv("MOUNT_STATUS", 5)
    assert (ms.pointing_a, ms.pointing_c) == (-3000, 4500)
    assert cl.command(M.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW, -90, 0, 0, 0, 0) == M.MAV_RESULT_ACCEPTED
    assert v.truth().gimbal_pitch_deg == -90
    assert cl.command(M.MAV_CMD_DO_DIGICAM_CONTROL, 0, 0, 0, 0, 1) == M.MAV_RESULT_ACCEPTED
    assert cl.recv("CAMERA_FEEDBACK", 5).img_idx == 1
    roi = offset_deg(HOME[0], HOME[1], 100, 0)
    assert cl.command(M.MAV_CMD_DO_SET_ROI_LOCATION, 0, 0, 0, 0, *roi, 0) == M.MAV_RESULT_ACCEPTED
    t = v.truth()
    assert t.roi is not None and abs((t.gimbal_yaw_deg + 180) % 360 - 180) < 1.0  # ROI due north
    assert t.gimbal_pitch_deg == pytest.approx(0, abs=1)  # on the ground, looking at a ground point 100 m away


def test_gps_loss_in_flight_triggers_ekf_failsafe_land(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    _airborne(fleet, cl, 20)
    v.set_gps_fix(0)
    assert cl.wait_text("EKF Failsafe", 10)
    assert v.wait(lambda t: t.mode == "LAND", 5).failsafe == "EKF"
    assert v.wait(lambda t: not t.armed, 60).landed
    assert cl.set_mode("GUIDED") == M.MAV_RESULT_ACCEPTED  # disarmed: any mode ...
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_FAILED  # ... but no position to arm


def test_pause_continue_in_auto_and_fence_enable_command(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    far = offset_deg(HOME[0], HOME[1], 400, 0)
    items = [(16, 0, 0, 0, 0, 0, HOME[0], HOME[1], 0), (22, REL, 0, 0, 0, 0, 0, 0, 20),
             (16, REL, 0, 0, 0, 0, *far, 20), (21, REL, 0, 0, 0, 0, 0, 0, 0)]  # fmt: skip
    assert cl.upload(items) == M.MAV_MISSION_ACCEPTED
    cl.set_mode("GUIDED")
    cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1)
    assert cl.command(M.MAV_CMD_MISSION_START) == M.MAV_RESULT_ACCEPTED
    v.wait(lambda t: t.mission_current == 2 and t.groundspeed_m_s > 9, 30)
    assert cl.command(M.MAV_CMD_DO_PAUSE_CONTINUE, 0) == M.MAV_RESULT_ACCEPTED
    held = v.wait(lambda t: t.groundspeed_m_s < 0.05, 30)
    later = v.wait(lambda t: t.t_sim_s > held.t_sim_s + 5, 30)
    assert _dist_m(later, held.lat_deg, held.lon_deg) < 0.3 and later.mission_current == 2
    assert cl.command(M.MAV_CMD_DO_PAUSE_CONTINUE, 1) == M.MAV_RESULT_ACCEPTED
    v.wait(lambda t: t.mission_current == 3, 60)
    assert cl.command(M.MAV_CMD_DO_FENCE_ENABLE, 1) == M.MAV_RESULT_ACCEPTED
    assert v.param("FENCE_ENABLE") == 1
    assert cl.command(M.MAV_CMD_DO_FENCE_ENABLE, 7) == M.MAV_RESULT_FAILED


def test_critical_battery_lands_in_place(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    start = _airborne(fleet, cl, 20)
    v.set_battery_pct(5)
    assert cl.wait_text("Battery 1 is critical", 10)
    t = v.wait(lambda t: not t.armed, 60)
    assert t.mode == "LAND" and _dist_m(t, start.lat_deg, start.lon_deg) < 1.0


def test_set_position_hook_teleports_and_holds(fleet_factory, client_factory):
    from flight.sim import SimConfigError

    fleet = fleet_factory(speedup=60)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    _airborne(fleet, cl, 20)
    lat, lon = offset_deg(HOME[0], HOME[1], 300, -200)
    v.set_position(lat, lon, 40)
    t = v.wait(lambda t: t.t_sim_s > 0, 5)
    later = v.wait(lambda x: x.t_sim_s > t.t_sim_s + 5, 10)
    assert _dist_m(later, lat, lon) < 0.2 and abs(later.alt_rel_m - 40) < 0.2 and later.mode == "GUIDED"
    with pytest.raises(SimConfigError, match="position"):
        v.set_position(91, 0)


def test_rtl_goes_to_the_nearest_rally_point(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=60, params={"RTL_LOIT_TIME": 0})
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    near = offset_deg(HOME[0], HOME[1], 250, 0)
    far = offset_deg(HOME[0], HOME[1], -400, 0)
    rally = [(5100, REL, 0, 0, 0, 0, *near, 30), (5100, REL, 0, 0, 0, 0, *far, 30)]
    assert cl.upload(rally, M.MAV_MISSION_TYPE_RALLY) == M.MAV_MISSION_ACCEPTED
    _airborne(fleet, cl, 20)
    out = offset_deg(HOME[0], HOME[1], 220, 30)
    cl.m.mav.set_position_target_global_int_send(0, 1, 1, REL, 0b110111111000, round(out[0] * 1e7),
                                                 round(out[1] * 1e7), 20, 0, 0, 0, 0, 0, 0, 0, 0)  # fmt: skip
    v.wait(lambda t: _dist_m(t, *out) < 1, 40)
    assert cl.command(M.MAV_CMD_NAV_RETURN_TO_LAUNCH) == M.MAV_RESULT_ACCEPTED
    climb = v.wait(lambda t: t.alt_rel_m > 14.9 and t.groundspeed_m_s > 5, 40)
    assert climb.mode == "RTL"
    t = v.wait(lambda t: not t.armed, 90)
    assert _dist_m(t, *near) < 1.0  # landed at the rally point, not at home 250 m away
