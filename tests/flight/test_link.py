"""Link: heartbeat, telemetry request (with fallback), watchdog, routing, subscriptions, tlog."""

from __future__ import annotations

import socket

import pytest

from flight import Link, LinkError, NoVehicle
from flight._mav import mavlink, mavutil
from flight.types import VehicleState
from tests.flight.fakevehicle import FakeVehicle


def test_first_heartbeat_requests_telemetry_and_fills_state(vehicle: FakeVehicle) -> None:
    with Link.open(vehicle.url, wait_heartbeat_s=5.0) as link:
        st = link.wait_state(lambda s: None not in (s.lat_deg, s.home_lat_deg, s.battery_pct, s.prearm_ok)
                             and s.gps_fix == 3 and s.ekf_ok and s.landed_state != "UNDEFINED", timeout_s=5.0)
        assert st is not None
        assert (st.autopilot, st.vehicle_type, st.mode, st.armed) == ("ardupilot", "copter", "STABILIZE", False)
        assert st.lat_deg == pytest.approx(52.2297) and st.alt_rel_m == pytest.approx(0.0)
        assert st.battery_pct == 76.0 and st.battery_v == pytest.approx(12.4) and st.gps_sats == 12
        assert st.home_lat_deg == pytest.approx(52.2297) and st.link_ok and st.link_age_s < 2.0
        assert st.prearm_ok is True and st.landed_state == "ON_GROUND"
    assert any(c[0] == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL for c in vehicle.commands)
    assert "REQUEST_DATA_STREAM" not in vehicle.received


def test_falls_back_to_request_data_stream_when_message_interval_refused(vehicle: FakeVehicle) -> None:
    vehicle.faults.refuse_message_interval = True
    with Link.open(vehicle.url, wait_heartbeat_s=5.0) as link:
        assert link.wait_state(lambda s: s.lat_deg is not None, timeout_s=5.0) is not None
    assert "REQUEST_DATA_STREAM" in vehicle.received


def test_watchdog_marks_link_lost_and_recovered(vehicle: FakeVehicle) -> None:
    with Link.open(vehicle.url, wait_heartbeat_s=5.0, heartbeat_timeout_s=0.5) as link:
        vehicle.faults.silent = True
        assert link.wait_state(lambda s: not s.link_ok, timeout_s=5.0) is not None
        vehicle.faults.silent = False
        assert link.wait_state(lambda s: s.link_ok, timeout_s=5.0) is not None


def test_no_vehicle_raises_with_hint() -> None:
    silent = FakeVehicle()
    silent.faults.silent = True
    try:
        with pytest.raises(NoVehicle, match="no heartbeat from vehicle sysid 7"):
            Link.open(silent.url, sysid=7, wait_heartbeat_s=0.5)
    finally:
        silent.close()


@pytest.mark.parametrize("url", ["tcp:127.0.0.1:1", "nonsense-device-that-does-not-exist"])
def test_bad_url_raises_link_error(url: str) -> None:
    with pytest.raises(LinkError, match="cannot open"):
        Link.open(url)


def test_subscribers_get_snapshots_and_a_bad_callback_does_not_kill_the_reader(vehicle: FakeVehicle) -> None:
    seen: list[VehicleState] = []

    def boom(_: VehicleState) -> None:
        raise RuntimeError("subscriber bug")

    with Link.open(vehicle.url) as link:
        link.subscribe(boom)
        link.subscribe(seen.append)
        q = link.subscribe_queue(maxsize=2)
        assert link.wait_state(lambda s: s.lat_deg is not None and s.heartbeat_count > 3, timeout_s=5.0)
        assert q.get(timeout_s=2.0) is not None
        assert seen and all(isinstance(s, VehicleState) for s in seen)
        assert link.stats().callback_errors > 0
        assert q.queue is not None and q.queue.dropped > 0  # bounded: the producer never waited


def test_two_vehicles_on_one_udp_link_are_routed_by_sysid() -> None:
    with Link.open("udpin:127.0.0.1:0", request_telemetry=False) as link:
        port = link.local_address()[1]
        senders = [mavutil.mavlink_connection(f"udpout:127.0.0.1:{port}", source_system=s, source_component=1)
                   for s in (3, 4)]
        try:
            for s, mode in zip(senders, (4, 6), strict=True):
                for _ in range(3):
                    s.mav.heartbeat_send(mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                                         mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, mode, mavlink.MAV_STATE_STANDBY)
            assert link.wait_state(lambda s: s.sysid == 4, timeout_s=5.0) is not None
            assert link.wait_state(lambda s: s.sysid == 3, timeout_s=5.0) is not None
            states = link.vehicles()
            assert (states[3].mode, states[4].mode) == ("GUIDED", "RTL")
        finally:
            for s in senders:
                s.close()


def test_tlog_is_readable_by_pymavlink(vehicle: FakeVehicle, tmp_path) -> None:
    with Link.open(vehicle.url, tlog_dir=tmp_path / "tlogs") as link:
        assert link.wait_state(lambda s: s.lat_deg is not None, timeout_s=5.0) is not None
        path = link.stats().tlog_path
    assert path is not None
    log = mavutil.mavlink_connection(path)
    types = set()
    while (m := log.recv_match()) is not None:
        types.add((m.get_type(), m.get_srcSystem()))
    assert ("HEARTBEAT", 1) in types and ("GLOBAL_POSITION_INT", 1) in types
    assert ("HEARTBEAT", 255) in types and ("COMMAND_LONG", 255) in types  # outgoing recorded too


def test_tcp_drop_reconnects_by_itself(vehicle: FakeVehicle) -> None:
    with Link.open(vehicle.url, wait_heartbeat_s=5.0) as link:
        assert link.wait_state(lambda s: s.link_ok, timeout_s=5.0)
        vehicle.drop_client()
        assert link.wait_state(lambda s: vehicle.accepts >= 2, timeout_s=10.0) is not None
        before = link.state().heartbeat_count
        assert link.wait_state(lambda s: s.link_ok and s.heartbeat_count > before + 2, timeout_s=10.0) is not None
        assert link.alive  # a reset may count one reader error; it never escapes


def test_udpout_link_announces_itself_so_the_vehicle_can_answer() -> None:
    vehicle = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    vehicle.bind(("127.0.0.1", 0))
    vehicle.settimeout(5.0)
    port = vehicle.getsockname()[1]
    try:
        with Link.open(f"udpout:127.0.0.1:{port}", request_telemetry=False) as link:
            data, gcs = vehicle.recvfrom(4096)  # our GCS heartbeat, sent on open
            parsed = mavlink.MAVLink(None).parse_buffer(data)
            assert parsed and parsed[0].get_type() == "HEARTBEAT" and parsed[0].type == mavlink.MAV_TYPE_GCS
            enc = mavlink.MAVLink(None, srcSystem=5, srcComponent=1)
            hb = mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_QUADROTOR, mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA,
                                                   0, 5, mavlink.MAV_STATE_STANDBY, 3)
            vehicle.sendto(bytes(hb.pack(enc)), gcs)
            st = link.wait_vehicle(5, timeout_s=5.0)
            assert (st.sysid, st.mode) == (5, "LOITER")
    finally:
        vehicle.close()
