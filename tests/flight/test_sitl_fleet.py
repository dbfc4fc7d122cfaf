"""Three real ArduCopter SITL instances at once (``-I 0..2``, sysids 1..3; ``sitl`` marker).

``lookout fly`` (three processes, one per vehicle) and the ``Fleet`` that ``lookout console``
builds from ``[links.*]`` (with its window) each fly every vehicle's own patrol at the same time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flight import Fleet
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


@pytest.mark.gui
def test_console_shows_three_and_each_flies_its_own_patrol(fleet3: list[Sitl], tmp_path: Path, qtbot) -> None:
    """What ``lookout console`` builds from ``[links.*]`` (Fleet, FleetView, FleetActions, MainWindow);
    each drone's "Fly plan..." (``FleetActions.fly_plan``) at the same time."""
    from console.main_window import MainWindow
    from console.services import ConsoleServices
    from lookout.config import parse_config
    from lookout.wiring import FleetActions, FleetView

    cfg = parse_config("".join(f'[links.sitl{s.options.instance}]\nurl = "{s.url}"\n' for s in fleet3))
    with Fleet.from_config(cfg.links, tmp_path / "tlogs") as fleet:
        view = FleetView(fleet)
        actions = FleetActions(view)
        win = MainWindow(ConsoleServices(fleet=view, actions=actions))
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: win.fleet_model.rowCount() == 3, timeout=60000)
        assert sorted(view.snapshot()) == [1, 2, 3]
        assert all(st.autopilot == "ardupilot" and st.vehicle_type == "copter" for st in view.snapshot().values())
        plans = {}
        for s in fleet3:
            plans[s.sysid] = tmp_path / f"patrol{s.sysid}.plan"
            save_plan(patrol_plan(s.options.home, 3, step_deg=0.0001), plans[s.sysid])
        errors: list[BaseException] = []
        said: dict[int, list[str]] = {s.sysid: [] for s in fleet3}

        def fly_one(sysid: int) -> None:
            try:
                actions.fly_plan(sysid, plans[sysid], said[sysid].append)
            except BaseException as exc:  # reported below, with the vehicle
                errors.append(exc)

        threads = [threading.Thread(target=fly_one, args=(s.sysid,)) for s in fleet3]
        for t in threads:
            t.start()
        qtbot.waitUntil(lambda: not any(t.is_alive() for t in threads), timeout=400000)
        assert not errors, errors
        for s in fleet3:
            assert any("landed and disarmed" in line for line in said[s.sysid]), said[s.sysid]
            st = view.snapshot()[s.sysid]
            assert not st.armed  # (EXTENDED_SYS_STATE may still say LANDING in this snapshot)
            h = s.options.home
            assert haversine_m(st.lat_deg, st.lon_deg, h.lat_deg, h.lon_deg) < 10, (s.sysid, st.lat_deg, st.lon_deg)
        assert win.fleet_model.rowCount() == 3
        assert len({link.stats().tlog_path for link in fleet.links.values()}) == 3
