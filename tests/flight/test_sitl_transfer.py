"""Mission, fence and rally transfer with real ArduCopter SITL (``sitl`` marker): round trips
through ``lookout fly upload/download`` and the API, and a 700-item mission unchanged.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flight import (
    Link,
    MissionTransferError,
    download_fence,
    download_mission,
    download_rally,
    upload_fence,
    upload_mission,
    upload_rally,
)
from missions import (
    FenceCircle,
    FencePolygon,
    Mission,
    MissionItem,
    Plan,
    fence_items,
    load_plan,
    rally_item,
    save_plan,
)
from tests.flight.clihelp import cli
from tests.sitl_harness import CMAC, Sitl, SitlOptions, running_sitl

pytestmark = pytest.mark.sitl
LAT, LON = CMAC.lat_deg, CMAC.lon_deg


@pytest.fixture(scope="module")
def sitl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sitl]:
    # ArduCopter keeps 650 items in its default (EEPROM-sized) mission storage ("Only 650 items are
    # supported"); BRD_SD_MISSION (kB of SD card for the mission, here SITL's disk) makes room for 4368
    with running_sitl(tmp_path_factory.mktemp("sitl"), SitlOptions(params={"BRD_SD_MISSION": 64})) as s:
        yield s


@pytest.fixture(scope="module")
def link(sitl: Sitl) -> Iterator[Link]:
    with Link.open(sitl.url, wait_heartbeat_s=30) as lk:
        yield lk


def same_item(a: MissionItem, b: MissionItem) -> bool:
    """Equal as ArduPilot stores them: positions to 1e-7 deg, altitudes to the cm, NaN params read back
    as 0, and the frame of an item without a position (DO_CHANGE_SPEED, RTL) read back as 0."""
    def p(x: float) -> float:
        return 0.0 if math.isnan(x) else x

    pa, pb = (a.param1, a.param2, a.param3, a.param4), (b.param1, b.param2, b.param3, b.param4)
    frame_kept = a.command == 22 or a.lat_deg != 0 or a.lon_deg != 0  # ArduPilot keeps no frame without a position
    return (a.command == b.command and (a.frame == b.frame or not frame_kept) and abs(a.lat_deg - b.lat_deg) < 1.5e-7
            and abs(a.lon_deg - b.lon_deg) < 1.5e-7 and abs(a.alt_m - b.alt_m) < 0.011
            and all(abs(p(x) - p(y)) < 1e-3 for x, y in zip(pa, pb, strict=True)))  # fmt: skip


def mixed_mission() -> Mission:
    items = (
        MissionItem(command=22, alt_m=20.0),
        MissionItem(command=178, param1=1.0, param2=7.5, param3=-1.0),  # DO_CHANGE_SPEED
        MissionItem(command=16, param1=2.0, lat_deg=LAT + 0.0003, lon_deg=LON + 0.0001, alt_m=25.5),
        MissionItem(command=201, lat_deg=LAT + 0.0005, lon_deg=LON, alt_m=0.0),  # DO_SET_ROI
        MissionItem(command=19, param1=5.0, param3=1.0, lat_deg=LAT + 0.0004, lon_deg=LON - 0.0002, alt_m=30.0),
        MissionItem(command=16, frame=0, lat_deg=LAT, lon_deg=LON + 0.0004, alt_m=614.0),  # AMSL frame
        MissionItem(command=177, param1=3.0, param2=2.0),  # DO_JUMP to seq 3, twice
        MissionItem(command=197),  # DO_SET_ROI_NONE
        MissionItem(command=20),
    )
    return Mission(items=items, home=CMAC)


def test_mission_fence_rally_round_trip_through_the_cli(sitl: Sitl, tmp_path: Path, capsys) -> None:
    d = 0.002
    box = ((LAT - d, LON - d), (LAT - d, LON + d), (LAT + d, LON + d), (LAT + d, LON - d))
    fence = fence_items([FencePolygon(box)], [FenceCircle(LAT + 0.001, LON, 30.0, inclusion=False)])
    rally = (rally_item(LAT + 0.0005, LON + 0.0005, 20.0), rally_item(LAT - 0.0005, LON, 25.0))
    plan = Plan(mission=mixed_mission(), fence=fence, rally=rally)
    src, dst = tmp_path / "up.plan", tmp_path / "down.plan"
    save_plan(plan, src)
    assert cli(["fly", "--connect", sitl.url, "--no-tlog", "upload", str(src)]) == 0
    assert cli(["fly", "--connect", sitl.url, "--no-tlog", "download", str(dst)]) == 0
    capsys.readouterr()
    got = load_plan(dst)
    want_items = load_plan(src).mission.items
    assert len(got.mission.items) == len(want_items)
    for i, (a, b) in enumerate(zip(want_items, got.mission.items, strict=True)):
        assert same_item(a, b), (i, a, b)
    assert got.mission.home is not None and abs(got.mission.home.lat_deg - LAT) < 1e-6
    assert [it.command for it in got.fence] == [it.command for it in fence]
    for a, b in zip(fence, got.fence, strict=True):
        assert abs(a.lat_deg - b.lat_deg) < 1.5e-7 and abs(a.lon_deg - b.lon_deg) < 1.5e-7 and a.param1 == b.param1
    assert [(it.command, round(it.lat_deg, 7), round(it.lon_deg, 7), it.alt_m) for it in got.rally] == [
        (it.command, round(it.lat_deg, 7), round(it.lon_deg, 7), it.alt_m) for it in rally]


def fence_when_settled(link: Link, want: tuple[MissionItem, ...], same=operator.eq,  # type: ignore[no-untyped-def]
                       timeout_s: float = 5.0) -> tuple[MissionItem, ...]:
    """Download the fence until it reads ``want`` (or the time is up). ArduPilot writes an uploaded fence
    at once but re-indexes it on a later fence update; a download in between can read 0 items or the
    old fence (seen on SITL, also after "Fence Indexed OK")."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = download_fence(link)
        if same(got, want) or time.monotonic() > deadline:
            return got


def test_fence_and_rally_api_round_trip_and_clear(link: Link) -> None:
    # (Seen on ArduCopter 4.7 SITL: circle-only fences uploaded over a polygon fence are acknowledged,
    # read back, then vanish within a second (FENCE_TOTAL 0). A fence with a polygon is kept.)
    tri = ((LAT - 0.001, LON - 0.001), (LAT - 0.001, LON + 0.001), (LAT + 0.001, LON))
    fence = fence_items([FencePolygon(tri)], [FenceCircle(LAT, LON + 0.0005, 20.0, inclusion=False)])
    upload_fence(link, fence)  # verified by read-back inside
    got = fence_when_settled(link, fence, lambda a, b: [(x.command, x.param1) for x in a] == [
        (x.command, x.param1) for x in b])
    assert [(it.command, it.param1) for it in got] == [(5001, 3.0)] * 3 + [(5004, 20.0)]
    upload_fence(link, ())
    assert fence_when_settled(link, ()) == ()
    upload_rally(link, (rally_item(LAT, LON + 0.001, 30.0),))
    (r,) = download_rally(link)
    assert (r.command, round(r.lon_deg, 7), r.alt_m) == (5100, round(LON + 0.001, 7), 30.0)


def test_700_item_mission_uploads_and_downloads_unchanged(link: Link) -> None:
    items = [MissionItem(command=22, alt_m=30.0)]
    items += [MissionItem(command=16, lat_deg=round(LAT + 1e-5 * (i % 37), 7), lon_deg=round(LON + 1e-5 * (i // 37), 7),
                          alt_m=float(20 + i % 50)) for i in range(698)]  # fmt: skip
    items.append(MissionItem(command=20))
    mission = Mission(items=tuple(items), home=CMAC)
    seen: list[int] = []
    upload_mission(link, mission, progress=lambda d, t: seen.append(d))
    assert seen[-1] == 700
    back = download_mission(link)
    assert len(back.items) == 700
    bad = [i for i, (a, b) in enumerate(zip(items, back.items, strict=True)) if not same_item(a, b)]
    assert not bad, (bad[:5], items[bad[0]], back.items[bad[0]])


def test_too_many_items_is_refused_with_the_vehicles_reason(link: Link) -> None:
    items = tuple(MissionItem(command=16, lat_deg=LAT, lon_deg=LON, alt_m=20.0) for _ in range(5000))
    with pytest.raises(MissionTransferError, match=r"NO_SPACE.*Only \d+ items are supported"):
        upload_mission(link, Mission(items=items, home=CMAC))
