"""The flight layer against real ArduCopter SITL (``sitl`` marker): connect, streams, status,
params, every console mode, arm/disarm, takeoff, goto, pause/continue, RTL, land, tlog.

One SITL and one ``Link`` for the module; tests run in file order and each leaves the vehicle
landed and disarmed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.main_window import MODES
from flight import (
    CommandRejected,
    Link,
    arm,
    disarm,
    goto,
    land,
    list_params,
    pause,
    read_param,
    resume,
    rtl,
    set_mode,
    takeoff,
    upload_mission,
    write_param,
)
from flight._mav import mavutil
from missions import Mission, MissionItem, haversine_m
from tests.flight.clihelp import cli
from tests.sitl_harness import CMAC, Sitl, SitlOptions, running_sitl

pytestmark = pytest.mark.sitl


@pytest.fixture(scope="module")
def sitl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sitl]:
    with running_sitl(tmp_path_factory.mktemp("sitl"), SitlOptions(params={"BATT_CAPACITY": 100000})) as s:
        yield s


@pytest.fixture(scope="module")
def tlog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tlogs")


@pytest.fixture(scope="module")
def link(sitl: Sitl, tlog_dir: Path) -> Iterator[Link]:
    with Link.open(sitl.url, wait_heartbeat_s=30, tlog_dir=tlog_dir) as lk:
        ready = lk.wait_state(lambda s: s.gps_fix >= 3 and s.ekf_ok and s.home_lat_deg is not None, timeout_s=120)
        assert ready is not None, f"SITL never got GPS + EKF + home: {lk.state()}"
        yield lk


def near(link: Link, lat: float, lon: float, within_m: float, timeout_s: float = 120) -> bool:
    def there(s) -> bool:  # type: ignore[no-untyped-def]
        return s.lat_deg is not None and haversine_m(s.lat_deg, s.lon_deg, lat, lon) < within_m

    return link.wait_state(there, timeout_s=timeout_s) is not None


def landed_disarmed(link: Link, timeout_s: float = 120) -> bool:
    return link.wait_state(lambda s: not s.armed, timeout_s=timeout_s) is not None


def test_status_streams_and_cli_status(link: Link, sitl: Sitl, capsys) -> None:
    st = link.state()
    assert (st.sysid, st.autopilot, st.vehicle_type) == (sitl.sysid, "ardupilot", "copter")
    assert st.mode == "STABILIZE" and not st.armed and st.system_status == "STANDBY"
    assert haversine_m(st.lat_deg, st.lon_deg, CMAC.lat_deg, CMAC.lon_deg) < 5
    assert abs(st.home_alt_amsl_m - CMAC.alt_amsl_m) < 5
    assert st.battery_v is not None and st.battery_v > 10 and st.gps_sats >= 6 and st.prearm_ok is not False
    assert st.landed_state == "ON_GROUND"
    # streams keep coming (SET_MESSAGE_INTERVAL was honoured): the snapshot keeps changing
    v = link.versions()[sitl.sysid]
    assert link.wait_update(sitl.sysid, v, timeout_s=5) != v
    assert cli(["fly", "--connect", sitl.url.replace("5760", "5762"), "--no-tlog", "status"]) == 0
    out = capsys.readouterr().out
    assert f"vehicle {sitl.sysid}/1  ardupilot copter  mode STABILIZE  disarmed" in out


def test_params_get_set_list(link: Link) -> None:
    assert read_param(link, "WPNAV_SPEED") > 0
    assert write_param(link, "WPNAV_SPEED", 800.0) == 800.0
    assert read_param(link, "WPNAV_SPEED") == 800.0
    params = list_params(link)
    assert len(params) > 500
    assert params["WPNAV_SPEED"] == 800.0
    assert "FS_GCS_ENABLE" in params


def test_every_console_mode_on_the_ground(link: Link) -> None:
    upload_mission(link, Mission(items=(MissionItem(command=22, alt_m=10.0), MissionItem(command=20)), home=CMAC))
    for name in MODES:
        set_mode(link, name)  # confirmed by the heartbeat
        assert link.state().mode == name
    set_mode(link, "STABILIZE")


def test_arm_disarm(link: Link) -> None:
    set_mode(link, "GUIDED")
    arm(link)
    assert link.state().armed
    disarm(link)
    assert not link.state().armed


def test_takeoff_goto_pause_continue_land(link: Link, sitl: Sitl, capsys) -> None:
    set_mode(link, "GUIDED")
    arm(link)
    takeoff(link, 10.0)
    assert link.wait_state(lambda s: (s.alt_rel_m or 0) > 9.0, timeout_s=60) is not None
    lat, lon = CMAC.lat_deg + 0.0009, CMAC.lon_deg  # ~100 m north
    goto(link, lat, lon, 10.0)
    assert link.wait_state(lambda s: s.groundspeed_m_s > 2.0, timeout_s=30) is not None
    side = sitl.url.replace(str(sitl.port(0)), str(sitl.port(2)))  # the CLI on SERIAL2, our link stays
    assert cli(["fly", "--connect", side, "--no-tlog", "pause"]) == 0  # GUIDED: brake and hold
    assert link.wait_state(lambda s: s.groundspeed_m_s < 0.3, timeout_s=30) is not None
    held = link.state()
    assert haversine_m(held.lat_deg, held.lon_deg, lat, lon) > 10, "paused only on arrival"
    assert cli(["fly", "--connect", side, "--no-tlog", "continue"]) == 0
    assert "pause: ok" in capsys.readouterr().out
    assert near(link, lat, lon, 3.0)
    land(link)
    assert link.wait_state(lambda s: s.mode == "LAND", timeout_s=10) is not None
    assert landed_disarmed(link)
    st = link.state()
    assert haversine_m(st.lat_deg, st.lon_deg, lat, lon) < 5


def test_auto_pause_with_brake_and_loiter_then_continue_and_rtl(link: Link) -> None:
    north = CMAC.lat_deg + 0.0009  # ~100 m
    items = (MissionItem(command=22, alt_m=10.0),
             MissionItem(command=16, lat_deg=north, lon_deg=CMAC.lon_deg, alt_m=10.0),
             MissionItem(command=16, lat_deg=north, lon_deg=CMAC.lon_deg + 0.0005, alt_m=10.0))  # fmt: skip
    upload_mission(link, Mission(items=items, home=CMAC))
    start = link.state()  # ArduCopter sets home where it arms: here, where the last test landed
    set_mode(link, "GUIDED")
    arm(link)
    takeoff(link, 10.0)
    assert link.wait_state(lambda s: (s.alt_rel_m or 0) > 9.0, timeout_s=60) is not None
    set_mode(link, "AUTO")
    assert link.wait_state(lambda s: s.mission_seq >= 2 and s.groundspeed_m_s > 2.0, timeout_s=60) is not None
    pause(link)  # MAV_CMD_DO_PAUSE_CONTINUE in AUTO
    assert link.wait_state(lambda s: s.groundspeed_m_s < 0.3, timeout_s=30) is not None
    assert link.state().mode == "AUTO"
    resume(link)
    assert link.wait_state(lambda s: s.groundspeed_m_s > 2.0, timeout_s=30) is not None
    set_mode(link, "BRAKE")  # the other way to pause: a holding mode, then AUTO again
    assert link.wait_state(lambda s: s.groundspeed_m_s < 0.3, timeout_s=30) is not None
    set_mode(link, "LOITER")
    set_mode(link, "AUTO")
    assert link.wait_state(lambda s: s.mission_seq >= 3, timeout_s=60) is not None
    rtl(link)
    assert link.wait_state(lambda s: s.mode == "RTL", timeout_s=10) is not None
    assert landed_disarmed(link, 180)
    st = link.state()
    assert haversine_m(st.lat_deg, st.lon_deg, start.lat_deg, start.lon_deg) < 5
    assert haversine_m(st.home_lat_deg, st.home_lon_deg, start.lat_deg, start.lon_deg) < 5


def test_refused_command_carries_the_vehicles_reason(link: Link) -> None:
    set_mode(link, "STABILIZE")
    with pytest.raises(CommandRejected) as exc:
        takeoff(link, 10.0)  # disarmed, STABILIZE
    assert exc.value.result in ("FAILED", "DENIED", "TEMPORARILY_REJECTED")


def test_tlog_is_readable_by_pymavlink(link: Link, tlog_dir: Path) -> None:
    path = Path(link.stats().tlog_path or "")
    assert path.parent == tlog_dir
    link._tlog.flush()  # type: ignore[union-attr]
    log = mavutil.mavlink_connection(str(path), dialect="ardupilotmega")
    types: dict[str, int] = {}
    while (m := log.recv_match()) is not None:
        types[m.get_type()] = types.get(m.get_type(), 0) + 1
    for t in ("HEARTBEAT", "GLOBAL_POSITION_INT", "MISSION_ITEM_INT", "MISSION_ACK", "COMMAND_LONG", "COMMAND_ACK",
              "PARAM_VALUE", "STATUSTEXT"):  # fmt: skip
        assert types.get(t, 0) > 0, (t, sorted(types))
