"""Every planner's output flies on real ArduCopter SITL to completion (``sitl`` marker).

One SITL for the module; each plan goes through ``lookout plan``'s API, a .plan file and
``lookout fly run``, from upload to landed and disarmed. Areas are small (tens of metres) so a
flight takes seconds at the harness's speedup. Each test's tlog is read back with pymavlink.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point, Polygon

from flight._mav import mavutil
from missions import Mission, Place, PlanOptions, plan, save_plan
from missions.geo import LocalFrame
from missions.types import Plan
from tests.flight.clihelp import cli
from tests.sitl_harness import CMAC, Sitl, SitlOptions, running_sitl

pytestmark = pytest.mark.sitl
FRAME = LocalFrame(CMAC.lat_deg, CMAC.lon_deg)


def lonlat(east_m: float, north_m: float) -> tuple[float, float]:
    lat, lon = FRAME.point_to_geo(east_m, north_m)
    return lon, lat


def square(e0: float, n0: float, size: float) -> Polygon:
    return Polygon([lonlat(e0, n0), lonlat(e0 + size, n0), lonlat(e0 + size, n0 + size), lonlat(e0, n0 + size)])


@pytest.fixture(scope="module")
def sitl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sitl]:
    # five flights on one battery: a big one, so the plan check's battery rule does not stop the fifth
    with running_sitl(tmp_path_factory.mktemp("sitl"), SitlOptions(params={"BATT_CAPACITY": 100000})) as s:
        yield s


def fly(sitl: Sitl, p: Plan, tmp_path: Path, capsys, monkeypatch) -> list[str]:
    """``lookout fly run`` the plan; returns the vehicle's STATUSTEXTs from this flight's tlog."""
    data = tmp_path / "data"
    monkeypatch.setenv("LOOKOUT_DATA", str(data))
    path = tmp_path / "p.plan"
    save_plan(p, path)
    rc = cli(["fly", "--connect", sitl.url, "--wait", "30", "run", str(path), "--ready-timeout", "120",
              "--timeout", "600"])  # fmt: skip
    out = capsys.readouterr()
    assert rc == 0, out.err
    n = len(p.mission.items)
    assert f"waypoint {n}/{n}" in out.out, out.out
    assert "landed and disarmed" in out.out
    texts = []
    for tlog in sorted((data / "tlogs").glob("*.tlog")):
        log = mavutil.mavlink_connection(str(tlog), dialect="ardupilotmega")
        while (m := log.recv_match(type="STATUSTEXT")) is not None:
            if m.get_srcSystem() == sitl.sysid:
                texts.append(m.text)
    assert texts, "no STATUSTEXT in the tlog"
    return texts


def opts(**kw: object) -> PlanOptions:
    base = {"alt_m": 15.0, "speed_m_s": 8.0, "home": (CMAC.lat_deg, CMAC.lon_deg)}
    base.update(kw)
    return PlanOptions(**base)  # type: ignore[arg-type]


def _with_home(m: Mission) -> Plan:
    return Plan(mission=Mission(items=m.items, home=CMAC))


def test_coverage_flies(sitl: Sitl, tmp_path: Path, capsys, monkeypatch) -> None:
    result = plan("coverage", [Place("area", "yard", square(10, 10, 30))], opts())
    texts = fly(sitl, _with_home(result.mission), tmp_path, capsys, monkeypatch)
    assert any(t.startswith("Mission:") for t in texts)


def test_perimeter_flies(sitl: Sitl, tmp_path: Path, capsys, monkeypatch) -> None:
    result = plan("perimeter", [Place("area", "yard", square(10, -40, 30))], opts(inset_m=3.0))
    fly(sitl, _with_home(result.mission), tmp_path, capsys, monkeypatch)


def test_shoreline_flies(sitl: Sitl, tmp_path: Path, capsys, monkeypatch) -> None:
    result = plan("shoreline", [Place("water", "pond", square(-40, 10, 20))], opts(standoff_m=5.0))
    fly(sitl, _with_home(result.mission), tmp_path, capsys, monkeypatch)


def test_route_flies(sitl: Sitl, tmp_path: Path, capsys, monkeypatch) -> None:
    road = LineString([lonlat(0, 20), lonlat(40, 30), lonlat(70, 20)])
    result = plan("route", [Place("route", "lane", road)], opts())
    fly(sitl, _with_home(result.mission), tmp_path, capsys, monkeypatch)


def test_points_with_do_jump_repeats_fly_every_cycle(sitl: Sitl, tmp_path: Path, capsys, monkeypatch) -> None:
    points = [Place("point", f"p{i}", Point(lonlat(e, n))) for i, (e, n) in enumerate([(20, 0), (20, 25), (-15, 20)])]
    result = plan("points", points, opts(loiter_s=1.0, repeat=2))
    items = result.mission.items
    jumps = [it for it in items if it.command == 177]
    assert len(jumps) == 1 and jumps[0].param2 == 1, "expected one DO_JUMP repeating the body once"
    texts = fly(sitl, _with_home(result.mission), tmp_path, capsys, monkeypatch)
    # ArduPilot reports each DO_JUMP it takes, e.g. "Mission: 9 Jump 1/1" (wording varies by version)
    assert any("Jump" in t for t in texts), texts
