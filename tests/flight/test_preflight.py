"""flight.preflight: the checklist from a vehicle's state (pure) and over a real link to the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flight import Link
from flight.mission_transfer import upload_fence, upload_mission
from flight.plan_check import check_against_vehicle
from flight.preflight import PreflightRefused, evaluate, gather, require
from flight.sim import SimFleet, SimVehicle
from flight.types import VehicleState
from missions import FenceCircle, fence_items
from tests.flight.test_plan_check import HOME, SYDNEY, patrol


def ready(**kw: object) -> VehicleState:
    base: dict[str, object] = dict(sysid=3, lat_deg=HOME[0], lon_deg=HOME[1], home_lat_deg=HOME[0],
                                   home_lon_deg=HOME[1], home_alt_amsl_m=HOME[2], battery_pct=90.0, battery_v=16.2,
                                   gps_fix=3, gps_sats=12, ekf_ok=True, link_ok=True, link_age_s=0.1,
                                   prearm_ok=True)  # fmt: skip
    base.update(kw)
    return VehicleState(**base)  # type: ignore[arg-type]


def test_a_ready_vehicle_passes_with_each_item_said() -> None:
    c = evaluate(ready(), "arm", vehicle_fence=())
    assert c.ok and c.refusal() == ""
    assert [i.name for i in c.items] == ["Link", "GPS", "EKF", "Battery", "Pre-arm", "Fence", "Plan"]
    assert [i.name for i in c.warnings] == ["Fence"]  # no fence: a warning the pilot confirms, not a block
    assert not evaluate(ready(), "arm", vehicle_fence=(), require_fence=True).ok


@pytest.mark.parametrize(
    ("change", "item", "fragment"),
    [
        (dict(gps_fix=2, gps_sats=5), "GPS", "no 3D fix (2D fix, 5 satellites)"),
        (dict(ekf_ok=False), "EKF", "not healthy"),
        (dict(battery_pct=18.0), "Battery", "18%, 16.2 V, under 30%"),
        (dict(battery_pct=None), "Battery", "not reported"),
        (dict(link_ok=False, link_age_s=4.2), "Link", "last heard 4.2 s ago"),
        (dict(prearm_ok=False, statustexts=("PreArm: Compass not calibrated",)), "Pre-arm", "Compass not calibrated"),
    ],
)
def test_a_failing_item_blocks_with_its_reason(change: dict, item: str, fragment: str) -> None:
    c = evaluate(ready(**change), "takeoff", vehicle_fence=())
    assert not c.ok
    assert c.failing[0].name == item and fragment in c.failing[0].detail
    line = c.refusal()
    assert line.startswith(f"pre-flight check refused takeoff of vehicle 3: {item}: ") and fragment in line
    assert "\n" not in line


def test_the_plan_item_needs_a_plan_checked_against_this_vehicle() -> None:
    st = ready()
    assert evaluate(st, "mission start", vehicle_fence=()).failing[0].detail.startswith("no mission on the vehicle")
    far = patrol(*SYDNEY, home=(*SYDNEY, 30.0))
    c = evaluate(st, "mission start", vehicle_fence=(), plan=far, plan_check=check_against_vehicle(far, st))
    assert c.failing[0].name == "Plan" and "from the vehicle" in c.failing[0].detail
    near = patrol()
    c = evaluate(st, "mission start", vehicle_fence=(), plan=near, plan_check=check_against_vehicle(near, st))
    assert c.ok and c.items[-1].detail.startswith("validated: route ")


@pytest.fixture
def sim() -> Iterator[SimVehicle]:
    with SimFleet.start(vehicles=1, home=HOME, speedup=20.0, listen="tcp:127.0.0.1:0") as fleet:
        yield fleet.vehicles[0]


def test_gather_reads_fence_and_mission_from_the_vehicle(sim: SimVehicle) -> None:
    sim.wait(lambda t: t.ekf_ok and t.gps_fix >= 3, timeout_s=20)
    with Link.open(sim.url, wait_heartbeat_s=10) as link:
        link.wait_state(lambda s: s.battery_pct is not None and s.home_lat_deg is not None, sysid=1, timeout_s=10)
        c = gather(link, 1, "mission start")
        assert not c.ok and c.failing[0].name == "Plan"  # nothing uploaded yet
        upload_fence(link, fence_items(circles=[FenceCircle(HOME[0], HOME[1], 300.0)]), sysid=1)
        upload_mission(link, patrol(n=3).mission, sysid=1)
        c = gather(link, 1, "mission start")
        assert c.ok, c.text()
        fence = next(i for i in c.items if i.name == "Fence")
        assert fence.ok and "loaded on the vehicle" in fence.detail
        sim.set_battery_pct(12.0)
        link.wait_state(lambda s: (s.battery_pct or 100) < 20, sysid=1, timeout_s=10)
        with pytest.raises(PreflightRefused, match=r"refused arm of vehicle 1: Battery: 12%"):
            require(link, 1, "arm")
    assert not sim.truth().armed


def test_lookout_fly_arm_and_takeoff_refuse_with_the_failing_items_line(sim: SimVehicle, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.flight.clihelp import cli

    sim.wait(lambda t: t.ekf_ok and t.gps_fix >= 3, timeout_s=20)
    sim.set_battery_pct(15.0)
    for action in (["arm"], ["takeoff", "10"]):
        assert cli(["fly", "--connect", sim.url, "--wait", "10", *action]) == 1
        errors = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("lookout fly:")]
        assert len(errors) == 1 and f"pre-flight check refused {action[0]} of vehicle 1: Battery: 15%" in errors[0]
    assert not sim.truth().armed
    sim.set_battery_pct(100.0)
    assert cli(["fly", "--connect", sim.url, "--wait", "10", "arm"]) == 0
    assert sim.truth().armed
