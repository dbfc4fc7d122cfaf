"""``lookout fly`` end to end against the embedded simulator (flight.sim) on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from flight.sim import SimFleet, SimVehicle
from missions import Home, Mission, MissionItem, Plan, load_plan, save_plan
from tests.flight.clihelp import cli

HOME = (52.2297, 21.0122, 100.0)




@pytest.fixture
def sim() -> Iterator[SimVehicle]:
    with SimFleet.start(vehicles=1, home=HOME, speedup=50.0, listen="tcp:127.0.0.1:0") as fleet:
        yield fleet.vehicles[0]


@pytest.fixture
def patrol(tmp_path: Path) -> Path:
    """Takeoff, a 10-waypoint patrol (a 3 x 4 grid walk, 30 m apart), RTL, as a QGC .plan."""
    items = [MissionItem(command=22, alt_m=20.0)]
    for i in range(10):
        row, col = divmod(i, 3)
        col = col if row % 2 == 0 else 2 - col
        items.append(MissionItem(command=16, lat_deg=round(HOME[0] + 0.00027 * row, 7),
                                 lon_deg=round(HOME[1] + 0.00044 * col, 7), alt_m=20.0 + i))
    items.append(MissionItem(command=20))
    path = tmp_path / "patrol.plan"
    save_plan(Plan(mission=Mission(items=tuple(items), home=Home(*HOME))), path)
    return path


def fly(sim: SimVehicle, *action: str) -> list[str]:
    return ["fly", "--connect", sim.url, "--wait", "10", *action]


def test_run_flies_a_ten_waypoint_patrol_and_lands(sim: SimVehicle, patrol: Path, capsys) -> None:
    rc = cli(fly(sim, "run", str(patrol)))
    out = capsys.readouterr()
    assert rc == 0, out.err
    lines = out.out.splitlines()
    assert "upload 12/12" in lines and "arm: armed" in lines and "auto: AUTO" in lines
    waypoints = [ln for ln in lines if ln.startswith("waypoint ")]
    assert waypoints[-1] == "waypoint 12/12" and len(waypoints) >= 10
    assert lines[-1].startswith("done: vehicle 1 landed and disarmed")
    truth = sim.truth()
    assert not truth.armed and truth.alt_rel_m < 0.5
    assert abs(truth.lat_deg - HOME[0]) < 1e-4 and abs(truth.lon_deg - HOME[1]) < 1e-4  # RTL brought it home


def test_run_refused_arming_exits_nonzero_with_the_prearm_reason(sim: SimVehicle, patrol: Path, capsys) -> None:
    sim.set_gps_fix(0)
    rc = cli(fly(sim, "run", str(patrol), "--ready-timeout", "1"))
    err = capsys.readouterr().err
    assert rc == 1
    errors = [ln for ln in err.splitlines() if ln.startswith("lookout fly:")]  # (the sim also logs here)
    # the simulator words it as ArduCopter 4.7 SITL does (tests/flight/test_sim_vs_sitl.py)
    assert errors == ["lookout fly: error: arm rejected by vehicle (FAILED): Arm: GPS 1: Bad fix"]
    assert not sim.truth().armed


def test_single_actions(sim: SimVehicle, capsys) -> None:
    sim.wait(lambda t: t.ekf_ok, timeout_s=10)
    assert cli(fly(sim, "status")) == 0
    status = capsys.readouterr().out
    assert "vehicle 1/1  ardupilot copter" in status and "position 52.22" in status
    tlogs = list((Path(os.environ["LOOKOUT_DATA"]) / "tlogs").glob("*.tlog"))
    assert tlogs and max(p.stat().st_size for p in tlogs) > 0  # every CLI link is recorded
    for action in (["mode", "guided"], ["arm"], ["takeoff", "15"]):
        assert cli(fly(sim, *action)) == 0, capsys.readouterr().err
    sim.wait(lambda t: t.alt_rel_m > 14.0, timeout_s=20)
    assert cli(fly(sim, "goto", "52.2300", "21.0125", "15")) == 0
    sim.wait(lambda t: abs(t.lat_deg - 52.2300) < 2e-5, timeout_s=30)
    assert cli(fly(sim, "land")) == 0
    sim.wait(lambda t: not t.armed, timeout_s=60)
    assert cli(fly(sim, "mode", "NOSUCHMODE")) == 1
    assert "unknown ArduPilot mode 'NOSUCHMODE'" in capsys.readouterr().err


def test_upload_then_download_round_trips_the_plan(sim: SimVehicle, patrol: Path, tmp_path: Path, capsys) -> None:
    assert cli(fly(sim, "upload", str(patrol))) == 0
    out = tmp_path / "back.plan"
    assert cli(fly(sim, "download", str(out))) == 0
    assert load_plan(out).mission.items == load_plan(patrol).mission.items
    assert "downloaded 12 mission" in capsys.readouterr().out


def test_no_vehicle_is_one_clear_line(capsys) -> None:
    rc = cli(["fly", "--connect", "udpin:127.0.0.1:0", "--wait", "0.3", "status"])
    assert rc == 1
    assert "no heartbeat from any vehicle" in capsys.readouterr().err


def test_run_of_a_plan_without_rtl_brings_the_vehicle_home(sim: SimVehicle, tmp_path: Path, capsys) -> None:
    items = (MissionItem(command=22, alt_m=15.0),
             MissionItem(command=16, lat_deg=round(HOME[0] + 0.0003, 7), lon_deg=HOME[1], alt_m=15.0),
             MissionItem(command=16, lat_deg=round(HOME[0] + 0.0003, 7), lon_deg=round(HOME[1] + 0.0004, 7),
                         alt_m=15.0))
    path = tmp_path / "open.plan"
    save_plan(Plan(mission=Mission(items=items, home=Home(*HOME))), path)
    rc = cli(fly(sim, "run", str(path)))
    out = capsys.readouterr().out
    assert rc == 0
    assert "rtl: plan complete, returning to launch" in out and "waypoint 3/3" in out
    assert abs(sim.truth().lat_deg - HOME[0]) < 1e-4 and not sim.truth().armed
