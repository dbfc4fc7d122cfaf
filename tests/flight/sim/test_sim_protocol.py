"""MAVLink protocol behaviour of the simulator, seen by an independent pymavlink client."""

from __future__ import annotations

import socket

import pytest
from pymavlink.dialects.v20 import ardupilotmega as M

from flight.sim import SimConfigError, SimFleet

HOME = (52.2297, 21.0122, 100.0)


def test_heartbeat_only_until_streams_are_requested(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    cl = client_factory(fleet.vehicles[0].url)
    hb = cl.recv("HEARTBEAT", 5)
    assert hb is not None
    assert (hb.type, hb.autopilot, hb.custom_mode) == (M.MAV_TYPE_QUADROTOR, M.MAV_AUTOPILOT_ARDUPILOTMEGA, 0)
    assert hb.get_srcSystem() == 1 and hb.get_srcComponent() == 1
    assert cl.recv("GLOBAL_POSITION_INT", 1.0) is None  # like ArduCopter: nothing until asked
    cl.request_streams(4)
    for kind in (
        "GLOBAL_POSITION_INT",
        "ATTITUDE",
        "VFR_HUD",
        "SYS_STATUS",
        "GPS_RAW_INT",
        "BATTERY_STATUS",
        "EKF_STATUS_REPORT",
        "MISSION_CURRENT",
        "MOUNT_STATUS",
    ):
        assert cl.recv(kind, 5) is not None, kind
    pos = cl.seen["GLOBAL_POSITION_INT"]
    assert pos.lat == pytest.approx(HOME[0] * 1e7, abs=10) and pos.alt == pytest.approx(100_000, abs=5)


def test_set_message_interval_and_request_message(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=2)  # 10 Hz sim = 20 Hz wall, under the 50 Hz wall cap
    cl = client_factory(fleet.vehicles[0].url)
    assert cl.command(M.MAV_CMD_SET_MESSAGE_INTERVAL, M.MAVLINK_MSG_ID_ATTITUDE, 100_000) == M.MAV_RESULT_ACCEPTED
    first = cl.recv("ATTITUDE", 5)
    assert first is not None
    count = 0
    while (m := cl.recv("ATTITUDE", 5)) is not None and m.time_boot_ms < first.time_boot_ms + 1000:
        count += 1
    assert 5 <= count <= 11  # ~10 Hz in sim time (a loaded machine may merge ticks), not the 1 Hz default
    assert cl.recv("GLOBAL_POSITION_INT", 0.5) is None
    assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED
    ver = cl.recv("AUTOPILOT_VERSION", 5)
    assert ver is not None and ver.capabilities & M.MAV_PROTOCOL_CAPABILITY_MISSION_INT
    assert cl.command(M.MAV_CMD_SET_MESSAGE_INTERVAL, M.MAVLINK_MSG_ID_ATTITUDE, -1) == M.MAV_RESULT_ACCEPTED
    assert cl.command(42424) == M.MAV_RESULT_UNSUPPORTED


def test_home_is_set_after_gps_warmup(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    cl = client_factory(fleet.vehicles[0].url)
    assert cl.wait_text("EKF3 IMU0 is using GPS", 10)
    home = cl.recv("HOME_POSITION", 5)
    if home is None:  # sent once on fix; ask for it like QGC does
        assert cl.command(M.MAV_CMD_GET_HOME_POSITION) == M.MAV_RESULT_ACCEPTED
        home = cl.recv("HOME_POSITION", 5)
    assert home.latitude == pytest.approx(HOME[0] * 1e7, abs=10)


def test_parameters_list_read_set(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20, params={"WPNAV_SPEED": 800})
    cl = client_factory(fleet.vehicles[0].url)
    cl.m.mav.param_request_list_send(1, 1)
    got = {}
    while True:
        pv = cl.recv("PARAM_VALUE", 5)
        assert pv is not None
        got[pv.param_id] = pv.param_value
        if len(got) == pv.param_count:
            break
    for name in (
        "WPNAV_SPEED",
        "WPNAV_ACCEL",
        "RTL_ALT",
        "FENCE_ENABLE",
        "FENCE_ALT_MAX",
        "FENCE_RADIUS",
        "FENCE_ACTION",
        "BATT_CAPACITY",
        "BATT_LOW_VOLT",
        "BATT_FS_LOW_ACT",
        "FS_GCS_ENABLE",
        "SYSID_THISMAV",
    ):
        assert name in got, name
    assert got["WPNAV_SPEED"] == 800 and got["SYSID_THISMAV"] == 1
    cl.m.mav.param_set_send(1, 1, b"RTL_ALT", 3000, M.MAV_PARAM_TYPE_INT32)
    pv = cl.recv("PARAM_VALUE", 5, lambda m: m.param_id == "RTL_ALT")
    assert pv is not None and pv.param_value == 3000
    assert fleet.vehicles[0].param("RTL_ALT") == 3000
    cl.m.mav.param_request_read_send(1, 1, b"FENCE_RADIUS", -1)
    assert cl.recv("PARAM_VALUE", 5, lambda m: m.param_id == "FENCE_RADIUS").param_value == 300
    cl.m.mav.param_set_send(1, 1, b"NO_SUCH_PARAM", 1, M.MAV_PARAM_TYPE_REAL32)
    assert cl.wait_text("Param not found", 5)


def _mission(lat, lon):
    rel = M.MAV_FRAME_GLOBAL_RELATIVE_ALT
    return [
        (16, 0, 0, 0, 0, 0, lat, lon, 0),
        (22, rel, 0, 0, 0, 0, 0, 0, 20),
        (16, rel, 2, 3, 0, 0, lat + 0.001, lon, 25),
        (203, M.MAV_FRAME_MISSION, 0, 0, 0, 0, 1, 0, 0),
        (20, rel, 0, 0, 0, 0, 0, 0, 0),
    ]


@pytest.mark.parametrize("use_int", [True, False], ids=["mission_item_int", "legacy_mission_item"])
def test_mission_upload_download_roundtrip(fleet_factory, client_factory, use_int):
    fleet = fleet_factory(speedup=20)
    v = fleet.vehicles[0]
    v.wait(lambda t: t.ekf_ok, 20)
    cl = client_factory(v.url)
    items = _mission(HOME[0], HOME[1])
    assert cl.upload(items, use_int=use_int) == M.MAV_MISSION_ACCEPTED
    assert v.truth().mission_count == 5
    back = cl.download()
    assert [m.command for m in back] == [16, 22, 16, 203, 20]
    assert back[0].frame == M.MAV_FRAME_GLOBAL and back[0].x == pytest.approx(HOME[0] * 1e7, abs=2)  # seq 0 = home
    tol = 2 if use_int else 40  # legacy MISSION_ITEM carries float32 degrees (~4e-6 deg steps)
    assert back[2].x == pytest.approx((HOME[0] + 0.001) * 1e7, abs=tol) and back[2].z == 25
    assert (back[2].param1, back[2].param2) == (2, 3)
    assert back[3].x == 1  # DO_DIGICAM_CONTROL param5 stays a raw number, not degrees


def test_fence_and_rally_upload_clear_and_bad_type(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    lat, lon = HOME[0], HOME[1]
    d = 0.002
    fence = [
        (5001, 0, 4, 0, 0, 0, la, lo, 0)
        for la, lo in ((lat - d, lon - d), (lat - d, lon + d), (lat + d, lon + d), (lat + d, lon - d))
    ]
    assert cl.upload(fence, M.MAV_MISSION_TYPE_FENCE) == M.MAV_MISSION_ACCEPTED
    rally = [(5100, 3, 0, 0, 0, 0, lat + 0.001, lon, 30)]
    assert cl.upload(rally, M.MAV_MISSION_TYPE_RALLY) == M.MAV_MISSION_ACCEPTED
    t = v.truth()
    assert (t.fence_count, t.rally_count) == (4, 1)
    assert len(cl.download(M.MAV_MISSION_TYPE_FENCE)) == 4
    bad = [(16, 3, 0, 0, 0, 0, lat, lon, 10)]
    assert cl.upload(bad, M.MAV_MISSION_TYPE_FENCE) == M.MAV_MISSION_UNSUPPORTED
    cl.m.mav.mission_clear_all_send(1, 1, M.MAV_MISSION_TYPE_ALL)
    assert cl.recv("MISSION_ACK", 5).type == M.MAV_MISSION_ACCEPTED
    t = v.truth()
    assert (t.fence_count, t.rally_count, t.mission_count) == (0, 0, 0)
    cl.m.mav.mission_request_list_send(1, 1, 77)
    assert cl.recv("MISSION_ACK", 5).type == M.MAV_MISSION_UNSUPPORTED


def _free_base_port() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + 20 > 65535:
            continue
        ok = True
        for i in range(3):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", base + 10 * i))
                except OSError:
                    ok = False
        if ok:
            return base
    raise RuntimeError("no free port triple")


def test_multiple_vehicles_ports_and_sysids_like_sitl(fleet_factory, client_factory):
    base = _free_base_port()
    fleet = fleet_factory(vehicles=3, listen=f"tcp:127.0.0.1:{base}")
    assert [v.url for v in fleet.vehicles] == [f"tcp:127.0.0.1:{base + 10 * i}" for i in range(3)]
    for i, v in enumerate(fleet.vehicles):
        hb = client_factory(v.url, sysid=i + 1).recv("HEARTBEAT", 5)
        assert hb.get_srcSystem() == i + 1
    lons = [v.truth().lon_deg for v in fleet.vehicles]
    assert lons[0] < lons[1] < lons[2]  # spaced along the east axis, not on top of each other


def test_udp_out_sends_to_client_and_answers(fleet_factory, client_factory):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fleet = fleet_factory(out=f"udp:127.0.0.1:{port}")
    v = fleet.vehicles[0]
    assert v.url == f"udp:127.0.0.1:{port}"
    cl = client_factory(f"udpin:127.0.0.1:{port}")
    assert cl.recv("HEARTBEAT", 5) is not None
    assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"vehicles": 0}, "vehicle count"),
        ({"speedup": 0}, "speedup"),
        ({"listen": "tcp:127.0.0.1"}, "endpoint"),
        ({"listen": "udp:127.0.0.1:5"}, "endpoint"),
        ({"out": "udp:127.0.0.1:0"}, "endpoint"),
        ({"listen": "tcp:127.0.0.1:0", "out": "udp:127.0.0.1:9"}, "endpoints"),
        ({"params": {"NOPE": 1}}, "parameter"),
        ({"signing_key": b"short"}, "signing key"),
    ],
)
def test_bad_arguments_raise_sim_config_error(kwargs, fragment):
    kwargs.setdefault("listen", None if "out" in kwargs else "tcp:127.0.0.1:0")
    with pytest.raises(SimConfigError, match=fragment):
        SimFleet.start(**kwargs).stop()
