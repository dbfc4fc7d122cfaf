"""Real ArduPilot SITL (``sitl`` marker): skipped unless a SITL is configured.

Configure one of:
- ``LOOKOUT_SITL_URL=tcp:127.0.0.1:5760``: an ArduCopter SITL you started yourself;
- ``LOOKOUT_SITL_BIN=/path/to/arducopter`` (+ optional ``LOOKOUT_SITL_DEFAULTS=/path/copter.parm``):
  the test starts it (``--model + --speedup 5 -I0``) in a temp dir and stops it;
- ``sim_vehicle.py`` on PATH: started as ``sim_vehicle.py -v ArduCopter --no-mavproxy -w``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from flight import Link
from missions import Home, Mission, MissionItem, Plan, save_plan
from tests.flight.clihelp import cli

pytestmark = pytest.mark.sitl
HOME = (52.2297, 21.0122, 100.0)


@pytest.fixture
def sitl_url(tmp_path: Path) -> Iterator[str]:
    if url := os.environ.get("LOOKOUT_SITL_URL"):
        yield url
        return
    home = ",".join(str(x) for x in (*HOME, 0))
    if binary := os.environ.get("LOOKOUT_SITL_BIN"):
        cmd = [binary, "--model", "+", "--speedup", "5", "-I0", "--home", home]
        if defaults := os.environ.get("LOOKOUT_SITL_DEFAULTS"):
            cmd += ["--defaults", defaults]
    elif shutil.which("sim_vehicle.py"):
        cmd = ["sim_vehicle.py", "-v", "ArduCopter", "--no-mavproxy", "-w", "--speedup", "5", "-l", home]
    else:
        pytest.skip("no SITL: set LOOKOUT_SITL_URL or LOOKOUT_SITL_BIN, or put sim_vehicle.py on PATH")
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield "tcp:127.0.0.1:5760"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_sitl_status_and_patrol_run(sitl_url: str, tmp_path: Path, capsys) -> None:
    with Link.open(sitl_url, wait_heartbeat_s=60.0) as link:
        st = link.wait_state(lambda s: s.lat_deg is not None, timeout_s=60.0)
        assert st is not None and st.autopilot == "ardupilot" and st.vehicle_type == "copter"
    items = [MissionItem(command=22, alt_m=15.0)]
    items += [MissionItem(command=16, lat_deg=round(HOME[0] + 0.0002 * (i % 2), 7),
                          lon_deg=round(HOME[1] + 0.0003 * i, 7), alt_m=15.0) for i in range(10)]
    items.append(MissionItem(command=20))
    plan_path = tmp_path / "patrol.plan"
    save_plan(Plan(mission=Mission(items=tuple(items), home=Home(*HOME))), plan_path)
    rc = cli(["fly", "--connect", sitl_url, "--wait", "60", "run", str(plan_path), "--ready-timeout", "120",
               "--timeout", "900"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "waypoint 12/12" in out.out
