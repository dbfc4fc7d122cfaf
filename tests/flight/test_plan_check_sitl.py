"""``lookout fly run`` refuses a far-away plan on real ArduCopter SITL (``sitl`` marker; tests/sitl_harness.py):
the distance is in the message and the vehicle holds no mission and never armed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flight import Link, download_mission
from missions import Home, Mission, MissionItem, Plan, save_plan
from tests.flight.clihelp import cli
from tests.sitl_harness import CMAC, running_sitl

pytestmark = pytest.mark.sitl
WARSAW = Home(52.2297, 21.0122, 100.0)


def test_far_away_plan_is_refused_before_upload_on_real_sitl(tmp_path: Path, capsys) -> None:
    items = [MissionItem(22, alt_m=20)]
    items += [MissionItem(16, lat_deg=WARSAW.lat_deg + 0.0003 * i, lon_deg=WARSAW.lon_deg, alt_m=30) for i in range(10)]
    items.append(MissionItem(20))
    path = tmp_path / "far.plan"
    save_plan(Plan(Mission(tuple(items), WARSAW)), path)  # the file's own home is next to its waypoints
    with running_sitl(tmp_path / "sitl") as sitl:
        rc = cli(["fly", "--connect", sitl.url, "--wait", "60", "run", str(path), "--ready-timeout", "60"])
        err = capsys.readouterr().err
        with Link.open(sitl.url, wait_heartbeat_s=30) as link:
            st = link.wait_vehicle(timeout_s=30)
            on_vehicle = download_mission(link, sysid=st.sysid)
            armed = link.state(st.sysid).armed
    assert rc == 1
    line = next(ln for ln in err.splitlines() if ln.startswith("lookout fly: error:"))
    assert "check: plan refused, nothing sent to vehicle 1: item 2 (WAYPOINT): 155" in line
    assert " km from the vehicle (limit 5.0 km): is this plan for another site?" in line
    assert on_vehicle.items == () and not armed
    assert CMAC.lat_deg < 0  # the vehicle sits at CMAC, Australia; the plan is for Warsaw


def test_plan_uploaded_before_the_vehicle_had_a_position_is_checked_again_before_arming(tmp_path: Path) -> None:
    # SITL boots without GPS: no position, no home, so the first check can only use the plan's own
    # home (next to its Warsaw waypoints) and the plan is uploaded. Once the GPS comes up, before
    # arming, the plan is checked against where the vehicle really is and refused.
    from flight import write_param
    from flight.autorun import RunProgress, fly_mission
    from flight.errors import UnsafePlan
    from tests.sitl_harness import SitlOptions

    items = [MissionItem(22, alt_m=20), MissionItem(16, lat_deg=WARSAW.lat_deg, lon_deg=WARSAW.lon_deg, alt_m=30),
             MissionItem(20)]  # fmt: skip
    stages: list[RunProgress] = []
    with running_sitl(tmp_path / "sitl", SitlOptions(params={"SIM_GPS1_ENABLE": 0})) as sitl, \
            Link.open(sitl.url, wait_heartbeat_s=60) as link:  # fmt: skip

        def progress(p: RunProgress) -> None:
            stages.append(p)
            if p.stage == "ready":  # uploaded; now the vehicle finds out where it is
                write_param(link, "SIM_GPS1_ENABLE", 1, link.default_sysid())

        with pytest.raises(UnsafePlan) as err:
            fly_mission(link, Plan(Mission(tuple(items), WARSAW)), progress=progress, ready_timeout_s=15,
                        flight_timeout_s=120)  # fmt: skip
        assert not link.state().armed
    assert any("distances measured from the plan's planned home" in p.text for p in stages if p.stage == "check")
    assert err.value.uploaded
    assert str(err.value).startswith("check: plan refused, not flown by vehicle 1 (uploaded while it had no "
                                     "position; nothing armed): item 2 (WAYPOINT): 155")  # fmt: skip
