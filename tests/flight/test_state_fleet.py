"""State reducer (ArduPilot/PX4 modes, EKF, gimbal, texts) and Fleet over the embedded simulator."""

from __future__ import annotations

import math

import pytest

from flight import Fleet, Link
from flight._mav import mavlink as M
from flight.sim import SimFleet
from flight.state import STATUSTEXT_KEEP, is_vehicle_heartbeat, reduce
from flight.types import VehicleState

S0 = VehicleState(sysid=1)
ARMED = M.MAV_MODE_FLAG_SAFETY_ARMED | M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED


def hb(autopilot: int, custom: int, base: int = 1, mav_type: int = M.MAV_TYPE_QUADROTOR):  # type: ignore[no-untyped-def]
    return M.MAVLink_heartbeat_message(mav_type, autopilot, base, custom, M.MAV_STATE_ACTIVE, 3)


@pytest.mark.parametrize(
    ("msg", "expect"),
    [
        (hb(M.MAV_AUTOPILOT_ARDUPILOTMEGA, 4, ARMED), {"mode": "GUIDED", "armed": True, "autopilot": "ardupilot"}),
        (hb(M.MAV_AUTOPILOT_ARDUPILOTMEGA, 99), {"mode": "MODE(99)", "armed": False}),
        (hb(M.MAV_AUTOPILOT_PX4, (4 << 24) | (4 << 16)), {"mode": "MISSION", "autopilot": "px4"}),
        (hb(M.MAV_AUTOPILOT_PX4, 3 << 16), {"mode": "POSCTL"}),
        (hb(M.MAV_AUTOPILOT_PX4, (5 << 24) | (4 << 16)), {"mode": "RTL"}),
        (hb(M.MAV_AUTOPILOT_ARDUPILOTMEGA, 0, mav_type=M.MAV_TYPE_FIXED_WING), {"vehicle_type": "plane"}),
        (M.MAVLink_ekf_status_report_message(0x17F, 0, 0, 0, 0, 0), {"ekf_ok": True}),
        (M.MAVLink_ekf_status_report_message(0x17F | 128, 0, 0, 0, 0, 0), {"ekf_ok": False}),  # const pos mode
        (M.MAVLink_ekf_status_report_message(0x7, 0, 0, 0, 0, 0), {"ekf_ok": False}),
        (M.MAVLink_gps_raw_int_message(0, 3, 0, 0, 0, 65535, 0, 0, 0, 255), {"gps_fix": 3, "gps_sats": 0,
                                                                             "gps_hdop": None}),
        (M.MAVLink_sys_status_message(0, 0, 0, 0, 0, -1, -1, 0, 0, 0, 0, 0, 0), {"battery_pct": None,
                                                                                 "battery_v": None}),
        (M.MAVLink_mission_current_message(5, 12, 0, 0), {"mission_seq": 5, "mission_total": 12}),
        (M.MAVLink_extended_sys_state_message(0, M.MAV_LANDED_STATE_IN_AIR), {"landed_state": "IN_AIR"}),
        (M.MAVLink_mount_status_message(1, 1, -4500, 0, 1000, 0), {"gimbal_pitch_deg": -45.0,
                                                                   "gimbal_yaw_deg": 10.0}),
        (M.MAVLink_vfr_hud_message(1.0, 7.5, 270, 50, 100.0, -0.5), {"groundspeed_m_s": 7.5, "heading_deg": 270}),
        (M.MAVLink_param_value_message(b"X", 1.0, 9, 1, 0), {}),  # not state: unchanged
    ],
)
def test_reducer_table(msg, expect: dict) -> None:  # type: ignore[no-untyped-def]
    msg.pack(M.MAVLink(None, srcSystem=1, srcComponent=1))  # sets header (src ids) like a received frame
    st = reduce(S0, msg, 10.0)
    for field, value in expect.items():
        assert getattr(st, field) == value, field
    if not expect:
        assert st is S0


def test_gimbal_quaternion_pitch_down() -> None:
    half = math.radians(-90) / 2
    msg = M.MAVLink_gimbal_device_attitude_status_message(1, 1, 0, 0, [math.cos(half), 0, math.sin(half), 0],
                                                          0, 0, 0, 0)  # fmt: skip
    st = reduce(S0, msg, 0.0)
    assert st.gimbal_pitch_deg == pytest.approx(-90.0, abs=1e-3)


def test_statustexts_are_bounded_newest_last() -> None:
    st = S0
    for i in range(STATUSTEXT_KEEP + 5):
        st = reduce(st, M.MAVLink_statustext_message(6, f"text {i}".encode()), 0.0)
    assert len(st.statustexts) == STATUSTEXT_KEEP and st.statustexts[-1] == f"text {STATUSTEXT_KEEP + 4}"


@pytest.mark.parametrize(
    ("mav_type", "autopilot", "vehicle"),
    [(M.MAV_TYPE_GCS, M.MAV_AUTOPILOT_INVALID, False), (M.MAV_TYPE_GIMBAL, M.MAV_AUTOPILOT_INVALID, False),
     (M.MAV_TYPE_QUADROTOR, M.MAV_AUTOPILOT_INVALID, False), (M.MAV_TYPE_QUADROTOR, M.MAV_AUTOPILOT_PX4, True)],
)
def test_only_autopilot_heartbeats_make_vehicles(mav_type: int, autopilot: int, vehicle: bool) -> None:
    assert is_vehicle_heartbeat(hb(autopilot, 0, mav_type=mav_type)) is vehicle


def test_fleet_of_two_sim_copters_reports_changes() -> None:
    with SimFleet.start(vehicles=2, speedup=5.0, listen="tcp:127.0.0.1:0") as sim, Fleet() as fleet:
        for v in sim.vehicles:
            fleet.add(f"drone{v.truth().sysid}", Link.open(v.url, wait_heartbeat_s=5.0))
        for name, link in fleet.links.items():
            assert link.wait_state(lambda s: s.lat_deg is not None, timeout_s=5.0), name
        first = fleet.changed_since_last_poll()
        assert set(first) == {("drone1", 1), ("drone2", 2)}
        assert first[("drone2", 2)].lon_deg != first[("drone1", 1)].lon_deg  # spaced apart
        link2 = fleet.links["drone2"]
        v = link2.versions()[2]
        link2.wait_update(2, v, timeout_s=3.0)
        assert ("drone2", 2) in fleet.changed_since_last_poll()
        with pytest.raises(ValueError, match="already in the fleet"):
            fleet.add("drone1", link2)
        fleet.remove("drone1")
        assert set(fleet.states()) == {("drone2", 2)}


def test_udp_out_sim_reaches_a_listening_link() -> None:
    with Link.open("udpin:127.0.0.1:0") as link:
        port = link.local_address()[1]
        with SimFleet.start(vehicles=1, speedup=5.0, out=f"udp:127.0.0.1:{port}"):
            st = link.wait_state(lambda s: s.lat_deg is not None and s.gps_sats > 0, timeout_s=10.0)
            assert st is not None and st.autopilot == "ardupilot" and st.link_ok
