"""Property: random plans survive .plan -> .waypoints -> .plan and .plan -> GeoJSON/KML -> .plan exactly."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from missions import FenceCircle, FencePolygon, Home, Mission, MissionItem, Plan, fence_items, load_plan, rally_item
from missions import save_plan as save

COMMANDS = [16, 17, 18, 19, 20, 21, 22, 177, 178, 195, 197, 201, 205, 206, 2000]
num = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(math.nan), st.integers(-5, 5).map(float))
lat = st.floats(-90, 90, allow_nan=False)
lon = st.floats(-180, 180, allow_nan=False)
items = st.builds(MissionItem, st.sampled_from(COMMANDS), st.sampled_from([0, 2, 3, 10]), num, num, num, num,
                  st.one_of(lat, st.just(0.0)), st.one_of(lon, st.just(0.0)), st.floats(-100, 2000, allow_nan=False),
                  st.booleans())
homes = st.one_of(st.none(), st.builds(Home, lat, lon, st.floats(-400, 9000, allow_nan=False)).filter(
    lambda h: (h.lat_deg, h.lon_deg, h.alt_amsl_m) != (0.0, 0.0, 0.0)))  # WPL: all-zero home row = no home
polys = st.builds(FencePolygon, st.lists(st.tuples(lat, lon), min_size=3, max_size=6).map(tuple), st.booleans())
circles = st.builds(FenceCircle, lat, lon, st.floats(1, 1e5, allow_nan=False), st.booleans())
plans = st.builds(
    lambda its, home, ps, cs, rs: Plan(Mission(tuple(its), home), fence_items(ps, cs),
                                       tuple(rally_item(*r) for r in rs)),
    st.lists(items, max_size=12), homes, st.lists(polys, max_size=2), st.lists(circles, max_size=2),
    st.lists(st.tuples(lat, lon, st.floats(0, 500, allow_nan=False)), max_size=3),
)


def _close(a: Mission, b: Mission) -> bool:
    return a == b and all(
        abs(x.lat_deg - y.lat_deg) <= 1e-7 and abs(x.lon_deg - y.lon_deg) <= 1e-7
        for x, y in zip(a.items, b.items, strict=True) if not math.isnan(x.lat_deg)
    )


@settings(max_examples=40, deadline=None)
@given(plan=plans)
def test_plan_round_trips(plan: Plan) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        save(plan, tmp / "a.plan")
        a = load_plan(tmp / "a.plan")
        assert a == plan
        save(a, tmp / "b.waypoints")
        save(Plan(load_plan(tmp / "b.waypoints").mission, a.fence, a.rally), tmp / "c.plan")
        assert _close(load_plan(tmp / "c.plan").mission, plan.mission)
        for via in (".geojson", ".kml"):
            save(a, tmp / f"d{via}")
            save(load_plan(tmp / f"d{via}"), tmp / "e.plan")
            assert load_plan(tmp / "e.plan") == plan
