"""``lookout fly run`` on real ArduCopter SITL (``sitl`` marker; see tests/sitl_harness.py).

The SITL is started fresh for each test and used at once, while ArduCopter is still booting
(heartbeat ``BOOT``): the upload must cope, as with a real vehicle switched on just now.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from missions import Home, Mission, MissionItem, Plan, save_plan
from tests.flight.clihelp import cli
from tests.sitl_harness import CMAC, SitlOptions, running_sitl

pytestmark = pytest.mark.sitl


def patrol_plan(home: Home, n: int = 10, *, alt_m: float = 15.0, step_deg: float = 0.00015) -> Plan:
    """Takeoff, ``n`` waypoints zig-zagging east of ``home``, RTL."""
    items = [MissionItem(command=22, alt_m=alt_m)]
    items += [MissionItem(command=16, lat_deg=round(home.lat_deg + step_deg * (i % 2), 7),
                          lon_deg=round(home.lon_deg + step_deg * (i + 1), 7), alt_m=alt_m)
              for i in range(n)]  # fmt: skip
    items.append(MissionItem(command=20))
    return Plan(mission=Mission(items=tuple(items), home=home))


def test_fly_run_flies_a_10_waypoint_patrol_to_landed_and_disarmed(tmp_path: Path, capsys) -> None:
    path = tmp_path / "patrol.plan"
    save_plan(patrol_plan(CMAC), path)
    with running_sitl(tmp_path / "sitl") as sitl:
        rc = cli(["fly", "--connect", sitl.url, "--wait", "30", "run", str(path), "--ready-timeout", "120",
                  "--timeout", "600"])  # fmt: skip
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "upload 12/12" in out.out
    assert "waypoint 12/12" in out.out
    assert "landed and disarmed" in out.out


def _armed_in_tlogs(data_dir: Path) -> bool:
    """Did the vehicle say "Arming motors" in any tlog ``lookout fly`` recorded (pymavlink reads them)?"""
    from flight._mav import mavutil

    for path in (data_dir / "tlogs").glob("*.tlog"):
        log = mavutil.mavlink_connection(str(path), dialect="ardupilotmega")
        while (m := log.recv_match(type="STATUSTEXT")) is not None:
            if m.text.startswith("Arming motors"):
                return True
    return False


def test_fly_run_without_gps_exits_with_the_vehicles_reason_and_never_arms(tmp_path: Path, capsys,
                                                                             monkeypatch) -> None:
    monkeypatch.setenv("LOOKOUT_DATA", str(tmp_path / "data"))  # this test's tlogs only
    path = tmp_path / "patrol.plan"
    save_plan(patrol_plan(CMAC, 2), path)
    with running_sitl(tmp_path / "sitl", SitlOptions(params={"SIM_GPS1_ENABLE": 0})) as sitl:
        rc = cli(["fly", "--connect", sitl.url, "--wait", "30", "run", str(path), "--ready-timeout", "10",
                  "--timeout", "120"])  # fmt: skip
    out = capsys.readouterr()
    assert rc == 1
    err = out.err.strip().splitlines()[-1]
    # ArduCopter's own words, depending on how far its EKF got without GPS: GUIDED refused
    # ("Mode change to GUIDED failed: requires position") or the arm refused ("Arm: GPS 1: Bad fix")
    assert err.startswith(("lookout fly: error: arm: vehicle 1 cannot arm for the plan (GPS fix",
                           "lookout fly: error: arm rejected by vehicle")), err
    assert "requires position" in err or "GPS 1: Bad fix" in err, err
    assert "arm: armed" not in out.out
    assert list((tmp_path / "data" / "tlogs").glob("*.tlog")), "lookout fly recorded no tlog"
    assert not _armed_in_tlogs(tmp_path / "data")


def test_fly_run_prearm_failure_exits_with_the_prearm_text(tmp_path: Path, capsys) -> None:
    path = tmp_path / "patrol.plan"
    save_plan(patrol_plan(CMAC, 2), path)
    with running_sitl(tmp_path / "sitl", SitlOptions(params={"BATT_ARM_VOLT": 13.5})) as sitl:
        rc = cli(["fly", "--connect", sitl.url, "--wait", "30", "run", str(path), "--ready-timeout", "120",
                  "--timeout", "180"])  # fmt: skip
    out = capsys.readouterr()
    assert rc == 1
    err = out.err.strip().splitlines()[-1]
    # the vehicle's own words: from its pre-arm checks before the upload ("PreArm: ...", flight.plan_check)
    # or from the arming attempt ("Arm: ...", ArduCopter 4.7's wording for a refused arm)
    assert err.startswith("lookout fly: error: "), err
    assert "Arm: Battery 1 below minimum arming voltage" in err, err
    assert "arm: armed" not in out.out
