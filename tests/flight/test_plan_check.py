"""flight.plan_check: a plan is checked against the vehicle as it is, and refused with nothing sent.

The unit tables run ``check_against_vehicle`` on built ``VehicleState``s; the end-to-end tests run
``lookout fly run/upload`` against the embedded simulator and look at the simulator's own truth
(mission, fence, armed) to prove nothing left.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flight import Link
from flight.autorun import fly_mission
from flight.errors import UnsafePlan
from flight.mission_transfer import upload_fence
from flight.plan_check import PlanLimits, check_against_vehicle, require_safe
from flight.sim import SimFleet, SimVehicle
from flight.types import VehicleState
from missions import FenceCircle, FencePolygon, Home, Mission, MissionItem, Plan, fence_items, rally_item, save_plan
from missions.config import MissionsConfig
from tests.flight.clihelp import cli
from tests.missions.test_formats_wpl_property import plans as any_plan

HOME = (52.2297, 21.0122, 100.0)
SYDNEY = (-33.8688, 151.2093)


def state(**kw: object) -> VehicleState:
    base: dict[str, object] = dict(sysid=1, lat_deg=HOME[0], lon_deg=HOME[1], home_lat_deg=HOME[0],
                                   home_lon_deg=HOME[1], home_alt_amsl_m=HOME[2], battery_pct=100.0)  # fmt: skip
    base.update(kw)
    return VehicleState(**base)  # type: ignore[arg-type]


def patrol(lat: float = HOME[0], lon: float = HOME[1], n: int = 10, alt: float = 20.0,
           home: tuple[float, float, float] | None = HOME) -> Plan:  # fmt: skip
    """Takeoff, n waypoints on a 30 m grid around (lat, lon), RTL."""
    items = [MissionItem(22, alt_m=alt)]
    for i in range(n):
        row, col = divmod(i, 3)
        items.append(MissionItem(16, lat_deg=round(lat + 0.00027 * row, 7), lon_deg=round(lon + 0.00044 * col, 7),
                                 alt_m=alt))  # fmt: skip
    items.append(MissionItem(20))
    return Plan(Mission(tuple(items), Home(*home) if home else None))


def texts(plan: Plan, st: VehicleState, limits: PlanLimits | None = None, **kw: object) -> list[str]:
    return [str(p) for p in check_against_vehicle(plan, st, limits, **kw).problems]  # type: ignore[arg-type]


# ---- unit: one table per rule ---------------------------------------------------------------------


def test_a_patrol_next_to_the_vehicle_passes_with_its_route_and_battery() -> None:
    result = check_against_vehicle(patrol(), state())
    assert result.ok and result.notes == ()
    assert result.route_m is not None and 400 < result.route_m < 550  # grid walk 381 m + 90 m home
    assert result.battery_needed_pct is not None and 25 < result.battery_needed_pct < 40
    assert "needs" in result.summary() and "vehicle has 100%" in result.summary()


def test_plan_far_from_the_vehicle_is_refused_even_when_its_planned_home_is_next_to_it() -> None:
    plan = patrol(*SYDNEY, home=(*SYDNEY, 30.0))  # the file's own home agrees with its waypoints
    with pytest.raises(UnsafePlan) as err:
        require_safe(plan, state())
    msg = str(err.value)
    assert msg.startswith("check: plan refused, nothing sent to vehicle 1: item 2 (WAYPOINT): ")
    km = float(msg.split("item 2 (WAYPOINT): ")[1].split(" km")[0])
    assert 15_500 < km < 15_700  # Warsaw -> Sydney
    assert "from the vehicle (limit 5.0 km): is this plan for another site?" in msg
    assert "(and 9 more distance problems)" in msg and "battery" not in msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    ("offset_m", "limit_m", "refused"),
    [(4900.0, 5000.0, False), (5100.0, 5000.0, True), (5100.0, 6000.0, False), (900.0, 800.0, True)],
)
def test_distance_limit_comes_from_the_limits(offset_m: float, limit_m: float, refused: bool) -> None:
    north = offset_m / 111_250.0  # degrees of latitude at 52 N
    plan = Plan(Mission((MissionItem(22, alt_m=10), MissionItem(16, lat_deg=HOME[0] + north, lon_deg=HOME[1],
                                                                 alt_m=10), MissionItem(20))))  # fmt: skip
    found = texts(plan, state(), PlanLimits(max_distance_m=limit_m))
    assert bool([t for t in found if "from the vehicle" in t]) == refused, found


def test_distance_is_measured_from_the_vehicle_and_from_its_home() -> None:
    # The vehicle is 4 km north of its home; a waypoint 4 km further north is fine from the
    # vehicle but 8 km from home, where RTL will take it.
    dlat = 4000.0 / 111_250.0
    plan = Plan(Mission((MissionItem(16, lat_deg=HOME[0] + 2 * dlat, lon_deg=HOME[1], alt_m=30), MissionItem(20))))
    found = texts(plan, state(lat_deg=HOME[0] + dlat), PlanLimits(max_distance_m=5000))
    assert len(found) == 1 and found[0].startswith("item 1 (WAYPOINT): 8.0 km from the vehicle's home"), found


def test_without_a_vehicle_position_the_planned_home_is_used_and_said() -> None:
    st = state(lat_deg=None, lon_deg=None, home_lat_deg=None, home_lon_deg=None, gps_fix=0)
    near = check_against_vehicle(patrol(), st)
    assert near.ok and any("distances measured from the plan's planned home" in n for n in near.notes)
    st0 = state(lat_deg=0.0, lon_deg=0.0, home_lat_deg=None, home_lon_deg=None)  # ArduPilot before a fix
    far = check_against_vehicle(patrol(*SYDNEY, home=HOME), st0)
    assert far.problems and "from the plan's home" in str(far.problems[0])
    nothing = check_against_vehicle(patrol(home=None), st)
    assert nothing.ok and any("distances not checked" in n for n in nothing.notes)


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        (MissionItem(16, lat_deg=121.0, lon_deg=52.2, alt_m=20), "position 121, 52.2 is not on Earth"),
        (MissionItem(16, lat_deg=52.2, lon_deg=-181.0, alt_m=20), "is not on Earth"),
        (MissionItem(16, lat_deg=math.nan, lon_deg=21.0, alt_m=20), "position nan, 21 is not on Earth"),
        (MissionItem(201, lat_deg=95.0, lon_deg=21.0, alt_m=0), "item 2 (DO_SET_ROI)"),
    ],
)
def test_coordinates_out_of_range_are_refused(item: MissionItem, fragment: str) -> None:
    plan = Plan(Mission((MissionItem(22, alt_m=20), item, MissionItem(20))))
    found = texts(plan, state())
    assert len(found) == 1 and fragment in found[0], found


def test_zero_zero_on_a_nav_command_means_here_not_the_gulf_of_guinea() -> None:
    plan = Plan(Mission((MissionItem(22, alt_m=20), MissionItem(19, param1=5.0, alt_m=20), MissionItem(21))))
    assert texts(plan, state()) == []


def test_far_rally_point_and_fence_vertex_are_refused() -> None:
    plan = patrol()
    far_fence = fence_items([FencePolygon(((SYDNEY[0], SYDNEY[1]), (SYDNEY[0] + 0.01, SYDNEY[1]),
                                           (SYDNEY[0], SYDNEY[1] + 0.01)))])  # fmt: skip
    plan = Plan(plan.mission, far_fence, (rally_item(*SYDNEY, 30.0),))
    found = texts(plan, state())
    assert any(t.startswith("fence item 1 (FENCE_POLYGON_VERTEX_INCLUSION): ") for t in found), found
    assert any(t.startswith("rally item 1 (RALLY_POINT): ") for t in found), found


@pytest.mark.parametrize(
    ("item", "limits", "fragment"),
    [
        (MissionItem(16, lat_deg=HOME[0], lon_deg=HOME[1], alt_m=150), PlanLimits(),
         "altitude 150.0 m above home is over the limit 120 m"),
        (MissionItem(16, frame=0, lat_deg=HOME[0], lon_deg=HOME[1], alt_m=250), PlanLimits(),
         "altitude 150.0 m above home is over the limit 120 m"),  # AMSL frame minus the vehicle's home
        (MissionItem(16, lat_deg=HOME[0], lon_deg=HOME[1], alt_m=-5), PlanLimits(),
         "altitude -5.0 m above home is under the limit 0 m"),
        (MissionItem(16, lat_deg=HOME[0], lon_deg=HOME[1], alt_m=8), PlanLimits(min_alt_m=10),
         "under the limit 10 m"),
        (MissionItem(22, alt_m=130), PlanLimits(), "item 2 (TAKEOFF): altitude 130.0 m"),
    ],
)
def test_altitude_limits(item: MissionItem, limits: PlanLimits, fragment: str) -> None:
    plan = Plan(Mission((MissionItem(22, alt_m=20), item, MissionItem(21, alt_m=0))))
    found = texts(plan, state(), limits)
    assert len(found) == 1 and fragment in found[0], found


def test_fence_of_the_plan_and_of_the_vehicle() -> None:
    plan = patrol()  # grid north-east of home, up to ~60 m north and ~60 m east
    small = fence_items(circles=[FenceCircle(HOME[0], HOME[1], 40.0)])
    inside = fence_items(circles=[FenceCircle(HOME[0], HOME[1], 500.0)])
    no_fly = fence_items([FencePolygon(((HOME[0] + 0.0002, HOME[1] + 0.0003), (HOME[0] + 0.0002, HOME[1] + 0.0006),
                                        (HOME[0] + 0.0004, HOME[1] + 0.0006), (HOME[0] + 0.0004, HOME[1] + 0.0003)),
                                       inclusion=False)])  # fmt: skip
    assert texts(Plan(plan.mission, inside), state()) == []
    found = texts(Plan(plan.mission, small), state())
    assert found and "outside inclusion circle 1" in found[0] and "of the plan's fence" in found[0]
    found = texts(Plan(plan.mission, no_fly), state())
    assert len(found) == 1 and "item 6 (WAYPOINT)" in found[0] and "inside exclusion polygon 1" in found[0]
    found = texts(plan, state(), vehicle_fence=small)  # the plan has none: the vehicle's applies
    assert found and "of the vehicle's fence" in found[0]
    assert texts(Plan(plan.mission, inside), state(), vehicle_fence=small) == []  # the plan's replaces it


def test_battery_for_the_whole_route_from_the_vehicles_own_battery() -> None:
    plan = patrol()
    need = check_against_vehicle(plan, state()).battery_needed_pct
    assert need is not None
    assert texts(plan, state(battery_pct=need + 1)) == []
    found = texts(plan, state(battery_pct=need - 1))
    assert len(found) == 1 and found[0].startswith("battery: the route (")
    assert f"vehicle 1 has {need - 1:.0f}%" in found[0]
    # Longer: a DO_JUMP repeating the grid 20 times costs about 20 times the grid.
    items = plan.mission.items
    looped = Plan(Mission((*items[:-1], MissionItem(177, param1=2, param2=20), items[-1]), plan.mission.home))
    long = check_against_vehicle(looped, state(battery_pct=50))
    assert long.route_m is not None and long.route_m > 10 * (check_against_vehicle(plan, state()).route_m or 0)
    assert long.problems and long.problems[0].kind == "battery"
    forever = Plan(Mission((*items[:-1], MissionItem(177, param1=2, param2=-1), items[-1])))
    result = check_against_vehicle(forever, state(battery_pct=30))
    assert result.ok and any("loops forever" in n for n in result.notes)
    unknown = check_against_vehicle(plan, state(battery_pct=None))
    assert unknown.ok and any("no battery level" in n for n in unknown.notes)


def test_limits_come_from_the_missions_config() -> None:
    cfg = MissionsConfig(max_distance_m=900, max_alt_m=80, min_alt_m=5, battery_drain_pct_per_min=2,
                         battery_reserve_pct=30)  # fmt: skip
    lim = PlanLimits.from_config(cfg)
    assert (lim.max_distance_m, lim.max_alt_m, lim.min_alt_m, lim.drain_pct_per_min, lim.reserve_pct) == \
        (900, 80, 5, 2, 30)
    assert lim.speed_m_s == cfg.vehicles["quad"].cruise_speed_m_s
    with pytest.raises(ValueError, match="min_alt_m 90 must be below max_alt_m 80"):
        MissionsConfig(max_alt_m=80, min_alt_m=90)


# ---- end to end: lookout fly against the embedded simulator ---------------------------------------


@pytest.fixture
def sim() -> Iterator[SimVehicle]:
    with SimFleet.start(vehicles=1, home=HOME, speedup=20.0, listen="tcp:127.0.0.1:0") as fleet:
        yield fleet.vehicles[0]


def fly(sim: SimVehicle, *action: str, config: Path | None = None) -> list[str]:
    head = ["--config", str(config)] if config else []
    return [*head, "fly", "--connect", sim.url, "--wait", "10", *action]


def _nothing_sent(sim: SimVehicle, before_missions: int, before_fence: int) -> None:
    truth = sim.truth()
    assert truth.mission_count == before_missions and truth.fence_count == before_fence
    assert not truth.armed and truth.landed


@pytest.mark.parametrize("action", ["run", "upload"])
def test_far_away_plan_is_refused_before_upload_with_the_distance(sim: SimVehicle, tmp_path: Path, capsys,
                                                                  action: str) -> None:  # fmt: skip
    sim.wait(lambda t: t.ekf_ok and t.gps_fix >= 3, timeout_s=20)
    before = sim.truth()
    path = tmp_path / "far.plan"
    save_plan(patrol(*SYDNEY, home=(*SYDNEY, 30.0)), path)  # planned home elsewhere, next to its waypoints
    rc = cli(fly(sim, action, str(path)))
    out = capsys.readouterr()
    assert rc == 1
    errors = [ln for ln in out.err.splitlines() if ln.startswith("lookout fly:")]
    assert len(errors) == 1, out.err
    assert errors[0].startswith("lookout fly: error: check: plan refused, nothing sent to vehicle 1: item 2 "
                                "(WAYPOINT): 155")  # fmt: skip
    assert " km from the vehicle (limit 5.0 km): is this plan for another site?" in errors[0]
    assert "upload" not in out.out and "arm" not in out.out
    _nothing_sent(sim, before.mission_count, before.fence_count)


def test_raising_the_limit_in_the_config_lets_a_farther_plan_upload(sim: SimVehicle, tmp_path: Path, capsys) -> None:
    sim.wait(lambda t: t.ekf_ok and t.gps_fix >= 3, timeout_s=20)
    path = tmp_path / "seven_km.plan"
    save_plan(patrol(HOME[0] + 7000.0 / 111_250.0, HOME[1], n=3), path)
    assert cli(fly(sim, "upload", str(path))) == 1
    assert "7.0 km from the vehicle (limit 5.0 km)" in capsys.readouterr().err
    config = tmp_path / "lookout.toml"
    config.write_text("[missions]\nmax_distance_m = 8000\nbattery_drain_pct_per_min = 2\n")  # 14 km there and back
    rc = cli(fly(sim, "upload", str(path), config=config))
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "check: route " in out.out and "uploaded 5 mission" in out.out
    assert sim.truth().mission_count >= 5


def test_low_battery_refuses_run_and_the_vehicles_fence_is_checked(sim: SimVehicle, tmp_path: Path,
                                                                   capsys) -> None:  # fmt: skip
    sim.wait(lambda t: t.ekf_ok and t.gps_fix >= 3, timeout_s=20)
    sim.set_battery_pct(28.0)
    before = sim.truth()
    path = tmp_path / "patrol.plan"
    save_plan(patrol(), path)
    assert cli(fly(sim, "run", str(path))) == 1
    err = capsys.readouterr().err
    assert "check: plan refused, nothing sent to vehicle 1: battery: the route (" in err
    assert "vehicle 1 has 28%" in err
    _nothing_sent(sim, before.mission_count, before.fence_count)
    # A fence already on the vehicle (the plan has none) is where the plan must stay.
    sim.set_battery_pct(100.0)
    with Link.open(sim.url, wait_heartbeat_s=10) as link:
        upload_fence(link, fence_items(circles=[FenceCircle(HOME[0], HOME[1], 30.0)]), sysid=1)
        before = sim.truth()
        with pytest.raises(UnsafePlan, match=r"item 4 \(WAYPOINT\): .* is outside inclusion circle 1 .* of the "
                                             r"vehicle's fence"):  # fmt: skip
            fly_mission(link, patrol(), sysid=1, ready_timeout_s=10, flight_timeout_s=60)
    _nothing_sent(sim, before.mission_count, before.fence_count)


def test_a_wpl_with_fence_and_rally_rows_uploads_them_as_fence_and_rally(sim: SimVehicle, tmp_path: Path,
                                                                         capsys) -> None:  # fmt: skip
    sim.wait(lambda t: t.ekf_ok and t.gps_fix >= 3, timeout_s=20)
    plan = patrol(n=3)
    rows = ["QGC WPL 110", f"0 1 0 16 0 0 0 0 {HOME[0]} {HOME[1]} {HOME[2]} 1"]  # spaces, as hand-edited files have
    rows += [f"{i} 0 {it.frame} {it.command} 0 0 0 0 {it.lat_deg} {it.lon_deg} {it.alt_m} 1"
             for i, it in enumerate(plan.mission.items, start=1)]  # fmt: skip
    n = len(rows) - 1
    for k, (dn, de) in enumerate(((-0.002, -0.003), (0.002, -0.003), (0.002, 0.003), (-0.002, 0.003))):
        rows.append(f"{n + k}\t0\t0\t5001\t4\t0\t0\t0\t{HOME[0] + dn}\t{HOME[1] + de}\t0\t1")
    rows.append(f"{n + 4}\t0\t3\t5100\t0\t0\t0\t0\t{HOME[0] + 0.0005}\t{HOME[1]}\t25\t1")
    path = tmp_path / "patrol.waypoints"
    path.write_text("\r\n".join(rows))
    assert cli(fly(sim, "upload", str(path))) == 0, capsys.readouterr().err
    assert "uploaded 5 mission, 4 fence, 1 rally items" in capsys.readouterr().out
    truth = sim.truth()
    assert truth.fence_count == 4 and truth.rally_count == 1 and not truth.armed


@settings(max_examples=150, deadline=None)
@given(plan=any_plan(), lat=st.floats(-90, 90), lon=st.floats(-180, 180), battery=st.one_of(st.none(),
       st.floats(0, 100)))  # fmt: skip
def test_any_plan_is_judged_without_crashing(plan: Plan, lat: float, lon: float, battery: float | None) -> None:
    result = check_against_vehicle(plan, state(lat_deg=lat, lon_deg=lon, battery_pct=battery))
    for p in result.problems:
        assert p.kind in ("coordinates", "distance", "altitude", "fence", "battery") and "\n" not in p.text
    if result.problems:
        with pytest.raises(UnsafePlan):
            require_safe(plan, state(lat_deg=lat, lon_deg=lon, battery_pct=battery))
