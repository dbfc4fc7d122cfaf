"""Property: any plan written as WPL 110 reads back the same, and WPL -> .plan -> WPL keeps every command,
frame, param and coordinate: mission items, an unusual home row, fence items (any frame/params/altitude,
a return point) and rally items."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from missions import (
    FenceCircle,
    FencePolygon,
    Home,
    Mission,
    MissionItem,
    Plan,
    fence_items,
    load_plan,
    mavcmd,
    save_plan,
)

SPECIAL = mavcmd.FENCE_ITEM_COMMANDS | {mavcmd.NAV_RALLY_POINT}
num = st.one_of(st.floats(-1e7, 1e7, allow_nan=False), st.just(math.nan), st.integers(-5, 800).map(float))
lat = st.floats(-90, 90, allow_nan=False)
lon = st.floats(-180, 180, allow_nan=False)
alt = st.floats(-500, 10000, allow_nan=False)
frames = st.sampled_from([0, 2, 3, 5, 6, 10, 11])
commands = st.one_of(st.sampled_from([16, 17, 18, 19, 20, 21, 22, 177, 178, 189, 195, 197, 201, 205, 206, 2000]),
                     st.integers(0, 65535)).filter(lambda c: c not in SPECIAL)  # fmt: skip
items = st.builds(MissionItem, commands, frames, num, num, num, num, st.one_of(lat, st.just(0.0), st.just(math.nan)),
                  st.one_of(lon, st.just(0.0)), st.one_of(alt, st.just(math.nan)), st.booleans())  # fmt: skip
homes = st.one_of(st.none(), st.builds(Home, lat, lon, alt).filter(lambda h: (h.lat_deg, h.lon_deg, h.alt_amsl_m)
                                                                   != (0.0, 0.0, 0.0)))  # fmt: skip
unusual_rows = st.builds(lambda c, f, p, a: MissionItem(c, f, *p, 0.0, 0.0, 0.0, a), commands, frames,
                         st.tuples(num, num, num, num), st.booleans()).filter(
    lambda r: (r.command, r.frame, r.params, r.autocontinue) != (16, 0, (0.0, 0.0, 0.0, 0.0), True))  # fmt: skip


def _restyle(it: MissionItem, frame: int, p2: float, alt_m: float) -> MissionItem:
    return MissionItem(it.command, frame, it.param1, p2, it.param3, it.param4, it.lat_deg, it.lon_deg, alt_m,
                       it.autocontinue)  # fmt: skip


@st.composite
def fences(draw: st.DrawFn) -> tuple[MissionItem, ...]:
    polys = draw(st.lists(st.builds(FencePolygon, st.lists(st.tuples(lat, lon), min_size=3, max_size=5).map(tuple),
                                    st.booleans()), max_size=2))  # fmt: skip
    circles = draw(st.lists(st.builds(FenceCircle, lat, lon, st.floats(1, 1e5, allow_nan=False), st.booleans()),
                            max_size=2))  # fmt: skip
    out = [_restyle(it, draw(st.sampled_from([0, 3, 5, 6])), draw(st.floats(-10, 10, allow_nan=False)), draw(alt))
           for it in fence_items(polys, circles)]  # fmt: skip
    if draw(st.booleans()):
        out.append(MissionItem(mavcmd.NAV_FENCE_RETURN_POINT, draw(st.sampled_from([0, 3])), 0, 0, 0, 0, draw(lat),
                               draw(lon), draw(alt)))  # fmt: skip
    return tuple(out)


rallies = st.lists(st.builds(lambda f, p1, la, lo, a: MissionItem(mavcmd.NAV_RALLY_POINT, f, p1, 0, 0, 0, la, lo, a),
                             st.sampled_from([0, 3, 6]), st.floats(-100, 100, allow_nan=False), lat, lon, alt),
                   max_size=3).map(tuple)  # fmt: skip


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    mission_items = tuple(draw(st.lists(items, max_size=10)))
    home = draw(homes)
    row = draw(st.one_of(st.none(), unusual_rows))
    if row is not None and home is not None:
        row = MissionItem(row.command, row.frame, *row.params, home.lat_deg, home.lon_deg, home.alt_amsl_m,
                          row.autocontinue)  # fmt: skip
    return Plan(Mission(mission_items, home, row), draw(fences()), draw(rallies))


@settings(max_examples=60, deadline=None)
@given(plan=plans())
def test_wpl_and_wpl_via_plan_keep_everything(plan: Plan) -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        save_plan(plan, tmp / "a.waypoints")
        a = load_plan(tmp / "a.waypoints")
        assert a == plan
        save_plan(a, tmp / "b.plan")
        assert load_plan(tmp / "b.plan") == plan
        save_plan(load_plan(tmp / "b.plan"), tmp / "c.waypoints")
        assert load_plan(tmp / "c.waypoints") == plan
        assert (tmp / "c.waypoints").read_text() == (tmp / "a.waypoints").read_text()
