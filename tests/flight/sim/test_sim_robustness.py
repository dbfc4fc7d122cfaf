"""Garbage, NaNs, disconnects and several clients must not break the simulator."""

from __future__ import annotations

import random
import socket

import pytest
from pymavlink.dialects.v20 import ardupilotmega as M

REL = M.MAV_FRAME_GLOBAL_RELATIVE_ALT
NAN = float("nan")


def test_random_bytes_and_truncated_frames_are_ignored(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    v = fleet.vehicles[0]
    host, port = v.url.split(":")[1:]
    rng = random.Random(5)
    mav = M.MAVLink(None, srcSystem=255, srcComponent=190)
    good = mav.command_long_encode(1, 1, M.MAV_CMD_REQUEST_MESSAGE, 0, 148, 0, 0, 0, 0, 0, 0).pack(mav)
    with socket.create_connection((host, int(port))) as s:
        for _ in range(200):
            s.sendall(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))))
        s.sendall(good[: len(good) // 2])  # a frame cut in half
        s.sendall(b"\xfd" * 50)
    cl = client_factory(v.url)
    assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED


@pytest.mark.parametrize(
    ("cmd", "params"),
    [
        (M.MAV_CMD_NAV_TAKEOFF, (0, 0, 0, 0, 0, 0, NAN)),
        (M.MAV_CMD_DO_CHANGE_SPEED, (1, NAN, -1, 0, 0, 0, 0)),
        (M.MAV_CMD_DO_CHANGE_SPEED, (1, float("inf"), -1, 0, 0, 0, 0)),
        (M.MAV_CMD_COMPONENT_ARM_DISARM, (1, NAN, 0, 0, 0, 0, 0)),
        (M.MAV_CMD_DO_SET_MODE, (1, NAN, 0, 0, 0, 0, 0)),
        (M.MAV_CMD_DO_REPOSITION, (-1, 1, 0, NAN, 500.0, 500.0, 10)),
        (M.MAV_CMD_DO_SET_MISSION_CURRENT, (float("inf"), 0, 0, 0, 0, 0, 0)),
    ],
)
def test_nan_and_out_of_range_command_params_are_refused(fleet_factory, client_factory, cmd, params):
    fleet = fleet_factory(speedup=40)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    cl.set_mode("GUIDED")
    cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1)
    cl.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10)
    v.wait(lambda t: t.alt_rel_m > 9.5, 20)
    result = cl.command(cmd, *params)
    assert result in (M.MAV_RESULT_FAILED, M.MAV_RESULT_DENIED)
    t = v.wait(lambda t: t.t_sim_s > 0, 5)
    assert all(x == x for x in (t.lat_deg, t.lon_deg, t.alt_rel_m, t.groundspeed_m_s))  # no NaN leaked in
    assert cl.command(M.MAV_CMD_DO_CHANGE_SPEED, 1, 5, -1) == M.MAV_RESULT_ACCEPTED  # still answering


def test_mission_items_with_bad_coordinates_are_rejected(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    cl = client_factory(fleet.vehicles[0].url)
    home = (16, 0, 0, 0, 0, 0, 52.0, 21.0, 0)
    bad_lat = [home, (16, REL, 0, 0, 0, 0, 95.0, 21.0, 10)]
    assert cl.upload(bad_lat, use_int=False) == M.MAV_MISSION_INVALID_PARAM5_X
    bad_alt = [home, (16, REL, 0, 0, 0, 0, 52.0, 21.0, NAN)]
    assert cl.upload(bad_alt, use_int=False) == M.MAV_MISSION_INVALID_PARAM7
    nan_param = [home, (177, M.MAV_FRAME_MISSION, NAN, NAN, 0, 0, NAN, 0, 0)]  # DO_JUMP with NaNs: defaults
    assert cl.upload(nan_param, use_int=False) == M.MAV_MISSION_ACCEPTED
    assert fleet.vehicles[0].truth().mission_count == 2


def test_reconnect_and_two_clients_get_their_own_streams(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=10)
    v = fleet.vehicles[0]
    first = client_factory(v.url)
    assert first.recv("HEARTBEAT", 5) is not None
    first.close()
    a, b = client_factory(v.url), client_factory(v.url)
    assert a.recv("HEARTBEAT", 5) is not None and b.recv("HEARTBEAT", 5) is not None
    a.request_streams(4)
    assert a.recv("GLOBAL_POSITION_INT", 5) is not None
    assert b.recv("GLOBAL_POSITION_INT", 1.0) is None  # b did not ask
    assert len(v.peer.conns) == 2


def test_param_set_with_nan_is_ignored(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    cl.m.mav.param_set_send(1, 1, b"BATT_FS_LOW_ACT", NAN, M.MAV_PARAM_TYPE_INT8)
    assert cl.wait_text("Param not found", 5)  # ArduPilot-style refusal; value unchanged
    assert v.param("BATT_FS_LOW_ACT") == 2
    assert fleet.step_errors == 0


def test_client_that_stops_reading_is_dropped_and_others_keep_working(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    v = fleet.vehicles[0]
    host, port = v.url.split(":")[1:]
    mav = M.MAVLink(None, srcSystem=255, srcComponent=190)
    slow = socket.create_connection((host, int(port)))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(mav.request_data_stream_encode(1, 1, M.MAV_DATA_STREAM_ALL, 50, 1).pack(mav))
    v.wait(lambda t: len(v.peer.conns) == 1, 5)
    conn = v.peer.conns[0]
    with fleet.lock:  # make the drop happen quickly instead of after 1 MB of telemetry
        for _ in range(64):  # kernel buffers first, then our 1 MB pending cap
            conn.write(b"x" * 131072)
            if conn.closed:
                break
    assert conn.closed
    fleet.wait(lambda: conn not in v.peer.conns, 5)
    for _ in range(3):  # new connections (possibly reusing the fd number) are accepted fine
        cl = client_factory(v.url)
        assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED
        cl.close()
    slow.close()
