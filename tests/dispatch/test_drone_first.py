""""Send a drone first": the nearest ready drone by ETA, or a refusal that gives every reason."""

from __future__ import annotations

import pytest

from dispatch.config import DispatchConfig
from dispatch.drone_first import DroneSnapshot, pick_drone
from dispatch.errors import DroneRefused
from dispatch.roles import Actor, Role

LAT, LON = 52.0, 4.0
CFG = DispatchConfig()


def drone(name: str, dlat: float, **kw: object) -> DroneSnapshot:
    base: dict[str, object] = {"sysid": 1, "lat_deg": LAT + dlat, "lon_deg": LON, "battery_pct": 90.0, "gps_fix": 3,
                               "link_age_s": 0.5}  # fmt: skip
    return DroneSnapshot(name, **{**base, **kw})  # type: ignore[arg-type]


def test_nearest_ready_drone_goes_at_the_safe_altitude() -> None:
    fleet = [
        drone("near-low-battery", 0.001, battery_pct=20.0),
        drone("near-no-gps", 0.0015, gps_fix=1),
        drone("near-lost-link", 0.002, link_age_s=12.0),
        drone("busy", 0.0005, busy="flying a mission"),
        drone("far", 0.02),
        drone("mid", 0.01, sysid=3),
    ]
    choice = pick_drone(fleet, LAT, LON, CFG, Actor("p", Role.PILOT))
    assert choice.drone.name == "mid" and choice.drone.sysid == 3
    assert choice.alt_rel_m == CFG.drone.alt_rel_m and (choice.lat_deg, choice.lon_deg) == (LAT, LON)
    assert choice.eta_s == pytest.approx(choice.distance_m / 15.0 + 60 / 3.0)


def test_a_faster_drone_further_away_wins_on_eta() -> None:
    fleet = [drone("slow", 0.005, cruise_m_s=5.0), drone("fast", 0.008, cruise_m_s=20.0)]
    assert pick_drone(fleet, LAT, LON, CFG).drone.name == "fast"


@pytest.mark.parametrize(
    ("fleet", "actor", "reason"),
    [
        ([], None, "no drone can go: no drones in the fleet"),
        ([drone("a", 0.01, battery_pct=10.0)], None, r"a: battery 10 % \(needs 35 %\)"),
        ([drone("a", 0.01, battery_pct=None)], None, "battery unknown"),
        ([drone("a", 0.01, lat_deg=None)], None, "a: no position"),
        ([drone("a", 0.01, ekf_ok=False), drone("b", 0.01, gps_fix=2)], None, "a: EKF not healthy; b: GPS fix 2"),
        ([drone("a", 0.01)], Actor("o", Role.OPERATOR), r"o \(operator\) may not send a drone"),
    ],
)
def test_refused_with_the_reason(fleet: list[DroneSnapshot], actor: Actor | None, reason: str) -> None:
    with pytest.raises(DroneRefused, match=reason):
        pick_drone(fleet, LAT, LON, CFG, actor)
