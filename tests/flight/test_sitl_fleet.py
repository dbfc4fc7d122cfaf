"""Three real ArduCopter SITL instances at once (``-I 0..2``, sysids 1..3; ``sitl`` marker).

``lookout fly`` (three processes, one per vehicle) and the ``Fleet`` that ``lookout console``
builds from ``[links.*]`` each fly every vehicle's own patrol at the same time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flight import Fleet, VehicleState, fly_mission
from flight.config import LinkConfig
from missions import haversine_m, save_plan
from tests.flight.test_sitl import patrol_plan
from tests.sitl_harness import REPO, Sitl, running_fleet

pytestmark = pytest.mark.sitl


@pytest.fixture(scope="module")
def fleet3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Sitl]]:
    with running_fleet(tmp_path_factory.mktemp("fleet"), 3, params={"BATT_CAPACITY": 100000}) as sitls:
        yield sitls


def test_lookout_fly_flies_three_vehicles_at_once(fleet3: list[Sitl], tmp_path: Path) -> None:
    procs = []
    for s in fleet3:
        path = tmp_path / f"patrol{s.sysid}.plan"
        save_plan(patrol_plan(s.options.home, 4), path)
        env = {**os.environ, "LOOKOUT_DATA": str(tmp_path / f"data{s.sysid}")}
        cmd = [sys.executable, "-m", "lookout", "fly", "--connect", s.url, "--sysid", str(s.sysid), "--wait", "30",
               "run", str(path), "--ready-timeout", "120", "--timeout", "400"]  # fmt: skip
        procs.append(subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL, text=True))  # fmt: skip
    results = [p.communicate(timeout=500) for p in procs]
    for s, p, (out, err) in zip(fleet3, procs, results, strict=True):
        assert p.returncode == 0, f"sysid {s.sysid}: {err}"
        assert "waypoint 6/6" in out and "landed and disarmed" in out, out


def test_console_fleet_shows_three_and_each_flies_its_own_patrol(fleet3: list[Sitl], tmp_path: Path) -> None:
    links = {f"sitl{s.options.instance}": LinkConfig(url=s.url, sysid=s.sysid) for s in fleet3}
    with Fleet.from_config(links, tmp_path) as fleet:
        for name, link in fleet.links.items():
            link.wait_state(lambda st: st.lat_deg is not None and st.lat_deg != 0, timeout_s=60)
            assert link.vehicles(), name
        states = fleet.states()
        assert sorted(states) == [("sitl0", 1), ("sitl1", 2), ("sitl2", 3)]
        for (_name, sysid), st in states.items():
            assert st.autopilot == "ardupilot" and st.vehicle_type == "copter", sysid
        finals: dict[int, VehicleState] = {}
        errors: list[BaseException] = []

        def fly_one(s: Sitl) -> None:
            try:
                link = fleet.links[f"sitl{s.options.instance}"]
                plan = patrol_plan(s.options.home, 3, step_deg=0.0001)
                finals[s.sysid] = fly_mission(link, plan, sysid=s.sysid, ready_timeout_s=120, flight_timeout_s=400)
            except BaseException as exc:  # reported below, with the vehicle
                errors.append(exc)

        threads = [threading.Thread(target=fly_one, args=(s,)) for s in fleet3]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=500)
        assert not errors, errors
        for s in fleet3:
            st = finals[s.sysid]
            assert not st.armed  # (EXTENDED_SYS_STATE may still say LANDING in this snapshot)
            h = s.options.home
            assert haversine_m(st.lat_deg, st.lon_deg, h.lat_deg, h.lon_deg) < 10, (s.sysid, st.lat_deg, st.lon_deg)
        # the fleet still sees all three, each with its own tlog
        assert len(fleet.states()) == 3
        assert len({link.stats().tlog_path for link in fleet.links.values()}) == 3
