"""1-3-5 classes, ETA ranking (least ETA wins, not the nearest), the response clock's colours."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from dispatch.clock import ResponseRecord, clock_status
from dispatch.config import DispatchConfig, ResponseAreaConfig
from dispatch.response import ResponseAreas, distance_m, eta_s, recommend
from dispatch.units import Unit

LAT, LON = 52.0, 4.0
M_PER_DEG_LAT = 111_195.0


def north(m: float) -> tuple[float, float]:
    return LAT + m / M_PER_DEG_LAT, LON


def east(m: float) -> tuple[float, float]:
    return LAT, LON + m / (M_PER_DEG_LAT * math.cos(math.radians(LAT)))


def unit(name: str, kind: str, pos: tuple[float, float] | None, status: str = "available",
         alert_id: int | None = None) -> Unit:  # fmt: skip
    lat, lon = pos if pos else (None, None)
    return Unit(name, name.upper(), kind, status, lat, lon, None, None, alert_id)


def square(lat: float, lon: float, half_m: float) -> dict[str, object]:
    dlat = half_m / M_PER_DEG_LAT
    dlon = half_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
    ring = [[lon - dlon, lat - dlat], [lon + dlon, lat - dlat], [lon + dlon, lat + dlat], [lon - dlon, lat + dlat],
            [lon - dlon, lat - dlat]]  # fmt: skip
    return {"type": "Polygon", "coordinates": [ring]}


AREAS = ResponseAreas({
    "station": ResponseAreaConfig(target_min=1, geometry=square(LAT, LON, 300), label="Station square"),
    "centre": ResponseAreaConfig(target_min=3, geometry=square(LAT, LON, 3000)),
})  # fmt: skip


@pytest.mark.parametrize(
    ("pos", "area", "target", "inside"),
    [
        ((LAT, LON), "station", 1, True),  # inside both: the tighter target wins
        (north(1000), "centre", 3, True),
        (north(10_000), "elsewhere", 5, False),
        ((None, None), "elsewhere", 5, False),  # no position
    ],
)
def test_classes(pos: tuple[float | None, float | None], area: str, target: int, inside: bool) -> None:
    c = AREAS.classify(*pos)
    assert (c.area, c.target_min, c.inside) == (area, target, inside)
    if not inside:
        assert c.describe() == "elsewhere (5 min: outside every response area)"


def test_least_eta_wins_not_the_nearest_and_the_class_sets_the_deadline() -> None:
    cfg = DispatchConfig(detour_factor=1.4)
    units = [
        unit("foot1", "foot", north(100)),  # nearest: 100 m x 1.4 / 1.6 m/s = 87.5 s
        unit("car1", "car", east(500)),  # 500 x 1.4 / 11 = 63.6 s
        unit("moto1", "motorcycle", north(-520)),  # further, faster: 520 x 1.4 / 12.5 = 58.2 s
        unit("drone1", "drone", east(-900)),  # 900 / 15 + 60 m / 3 m/s climb = 80 s
        unit("car2", "car", north(50), status="assigned", alert_id=7),  # closest of all, but busy
        unit("car3", "car", None),  # no position
        unit("car4", "car", north(60), status="off_duty"),
    ]
    cls = AREAS.classify(LAT, LON)
    rec = recommend(units, LAT, LON, cls.target_s, cfg)
    assert [c.unit.name for c in rec.ranked] == ["moto1", "car1", "drone1", "foot1"]
    assert rec.best is not None and rec.best.unit.name == "moto1" and rec.best.makes_deadline  # 58 s < 60 s
    assert [c.makes_deadline for c in rec.ranked] == [True, False, False, False]
    assert rec.ranked[0].eta_s == pytest.approx(58.2, abs=0.5)
    assert rec.ranked[-1].distance_m == pytest.approx(100, rel=0.01)
    assert dict(rec.not_offered) == {"car2": "assigned to alert 7", "car3": "no position (set it by hand or from "
                                     "its GPS feed)", "car4": "off duty"}  # fmt: skip
    # the same units for a point in the centre class (3 min): everybody makes it, the order stays by ETA
    rec3 = recommend(units, LAT, LON, AREAS.classify(*north(1000)).target_s, cfg)
    assert all(c.makes_deadline for c in rec3.ranked)
    # a bigger detour factor slows the road units, not the drone: now the drone is first
    slow = recommend(units, LAT, LON, 60.0, DispatchConfig(detour_factor=2.2))
    assert slow.best is not None and slow.best.unit.name == "drone1"


def test_eta_uses_per_kind_and_per_unit_speeds() -> None:
    cfg = DispatchConfig(detour_factor=1.0, speeds_m_s={"car": 10.0})
    u = unit("car1", "car", north(1000))
    assert eta_s(u, LAT, LON, cfg) == pytest.approx(100, rel=0.01)
    fast = Unit("car9", "C9", "car", "available", *north(1000), None, None, None, speed_m_s=20.0)
    assert eta_s(fast, LAT, LON, cfg) == pytest.approx(50, rel=0.01)
    with pytest.raises(ValueError, match="no position"):
        eta_s(unit("x", "car", None), LAT, LON, cfg)
    assert distance_m(*north(1000), LAT, LON) == pytest.approx(1000, rel=0.001)


def test_clock_turns_amber_then_red_and_stops_on_scene() -> None:
    t0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
    rec = ResponseRecord(1, "centre", 3, LAT, LON, t0, None, None, None, None, None, None)
    at = lambda s: clock_status(rec, t0 + timedelta(seconds=s), amber_at=0.7)  # noqa: E731
    assert (at(60).color, at(60).phase, at(60).remaining_s) == ("green", "confirmed", 120)
    assert at(130).color == "amber" and at(181).color == "red" and at(181).remaining_s < 0
    arrived = ResponseRecord(1, "centre", 3, LAT, LON, t0, "car1", t0 + timedelta(seconds=10),
                             t0 + timedelta(seconds=150), "desk", None, None)  # fmt: skip
    st = clock_status(arrived, t0 + timedelta(hours=1))
    assert (st.phase, st.elapsed_s, st.color) == ("on_scene", 150, "amber")
    assert arrived.time_to_scene_s == 150 and arrived.deadline_utc == t0 + timedelta(minutes=3)
