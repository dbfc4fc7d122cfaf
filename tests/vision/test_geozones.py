"""vision.geozones: a GeoJSON key water projected into the embedded simulator's drone video.

The river is traced from the simulator's own aerial image (its river-coloured pixels, as a pilot
would trace it on a map) and saved as a GeoJSON place. The real ``flight.sim`` camera renders
frames at several poses; the zone projected with each frame's pose must cover the river-coloured
pixels of that frame (IoU >= 0.8). Then water entry fires on a drone feed through the pipeline
with no pixel typed anywhere.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from flight.sim.aerial import AerialMap, generate_aerial
from flight.sim.camera import SimCamera
from flight.sim.types import SimFrame
from lookout.config import parse_config
from lookout.errors import ConfigError
from tests.flight.sim.geohelp import offset_deg  # missions.geo, the plane the simulator flies on
from tests.vision.simtruth import HOME_M, LAT, LON, StillVehicle, still_truth
from vision.bus import InProcessBus
from vision.geozones import GeoZoneError, GeoZoneProjector, load_geozones
from vision.messages import EventMessage
from vision.pipeline import FrameInfo, Pipeline
from vision.types import CameraPose, Detections

RIVER_BGR = ((110, 80, 40), (130, 95, 50))  # flight.sim.aerial paints the river in these two colours
LINK = '[links.drone1]\nurl = "udp:127.0.0.1:14550"\n'
T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def _pose(fr: SimFrame) -> CameraPose:
    return CameraPose(fr.lat_deg, fr.lon_deg, fr.alt_amsl_m, fr.alt_agl_m, fr.roll_deg, fr.pitch_deg, fr.yaw_deg,
                      fr.hfov_deg)  # fmt: skip


def _river_mask(image: np.ndarray) -> np.ndarray:
    im = image.astype(np.int32)
    near = [np.abs(im - np.array(c)).max(axis=2) <= 12 for c in RIVER_BGR]
    return (near[0] | near[1]).astype(np.uint8)


@pytest.fixture(scope="module")
def town() -> AerialMap:
    return generate_aerial(LAT, LON, size_m=600.0, seed=3)


@pytest.fixture(scope="module")
def river_geojson(town: AerialMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The river as a pilot's GeoJSON place: outlines of the aerial image's river pixels, in lon/lat."""
    mask = cv2.morphologyEx(_river_mask(town.image), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    m = town.px_to_ne()
    polys = []
    for c in contours:
        if cv2.contourArea(c) < 200:
            continue
        ring = []
        for u, v in cv2.approxPolyDP(c, 1.0, True).reshape(-1, 2):
            east, north, _ = m @ np.array([u + 0.5, v + 0.5, 1.0])
            lat, lon = offset_deg(town.center_lat, town.center_lon, float(north), float(east))
            ring.append([lon, lat])
        ring.append(ring[0])
        polys.append([ring])
    assert len(polys) >= 2  # bridges (roads) cut the river into pieces
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "water", "name": "river"},
         "geometry": {"type": "MultiPolygon", "coordinates": polys}},
        {"type": "Feature", "properties": {"kind": "area", "name": "square"},
         "geometry": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + 1e-4, LAT], [LON, LAT + 1e-4],
                                                          [LON, LAT]]]}},
    ]}  # fmt: skip
    path = tmp_path_factory.mktemp("places") / "river.geojson"
    path.write_text(json.dumps(doc))
    return path


def _cfg(path: Path, extra: str = "") -> object:
    return parse_config(LINK + f'[zones.river]\ncamera = "drone1"\nkind = "water"\ngeojson = "{path}"\n'
                        f'place = "river"\n{extra}[rules]\ncooldown_s = 0\n')  # fmt: skip


POSES = [  # alt, gimbal pitch, yaw, north, east: oblique, nadir, across, low with the horizon in view
    (60.0, -45.0, 180.0, -40.0, 0.0),
    (90.0, -90.0, 0.0, -120.0, 30.0),
    (50.0, -35.0, 90.0, -150.0, -120.0),
    (40.0, -20.0, 200.0, -30.0, 40.0),
    (70.0, -60.0, 300.0, -110.0, 90.0),
]


@pytest.mark.parametrize(("alt", "pitch", "yaw", "north", "east"), POSES)
def test_geojson_river_lands_on_the_rivers_pixels_in_the_simulators_drone_video(
    town: AerialMap, river_geojson: Path, alt: float, pitch: float, yaw: float, north: float, east: float
) -> None:
    cfg = _cfg(river_geojson)
    proj = GeoZoneProjector(load_geozones(cfg.zones, "drone1"))  # type: ignore[attr-defined]
    frame = SimCamera(StillVehicle(still_truth(alt, pitch, yaw, north, east)), aerial=town, actors=()).render()
    h, w = frame.image.shape[:2]
    seen = _river_mask(frame.image).astype(bool)
    assert seen.sum() > 0.03 * w * h, "pose does not show the river; choose another"
    zones = proj.zones(w, h, _pose(frame))
    assert zones and all(z.kind == "water" and z.name == "river" for z in zones)
    drawn = np.zeros((h, w), np.uint8)
    for z in zones:
        cv2.fillPoly(drawn, [np.round(z.polygon - 0.5).astype(np.int32)], 1)
    inter, union = (seen & (drawn > 0)).sum(), (seen | (drawn > 0)).sum()
    iou = inter / union
    assert iou >= 0.8, f"IoU {iou:.3f} of the projected river vs the river-coloured pixels"


def test_nothing_behind_the_camera_or_above_the_horizon(river_geojson: Path) -> None:
    cfg = _cfg(river_geojson)
    proj = GeoZoneProjector(load_geozones(cfg.zones, "drone1"))  # type: ignore[attr-defined]
    lat, lon = offset_deg(LAT, LON, 50.0, 0.0)  # north of the river, looking north, away from it
    away = CameraPose(lat, lon, HOME_M + 50, 50.0, 0.0, -30.0, 0.0, 70.0)
    assert proj.zones(640, 360, away) == ()
    sky = CameraPose(lat, lon, HOME_M + 50, 50.0, 0.0, 30.0, 180.0, 70.0)  # looking up, towards the river
    assert proj.zones(640, 360, sky) == ()
    assert proj.zones(640, 360, None) == ()  # no telemetry, no ground zones


def _det(foot: tuple[float, float]) -> Detections:
    x, y = foot
    return Detections(np.array([[x - 15, y - 80, x + 15, y]], np.float32), np.array([0.9], np.float32),
                      np.zeros(1, np.int32), np.array([7], np.int64))  # fmt: skip


def test_water_entry_fires_on_drone_video_with_no_pixel_typed(town: AerialMap, river_geojson: Path) -> None:
    cfg = _cfg(river_geojson)
    frame = SimCamera(StillVehicle(still_truth(60.0, -45.0, 180.0, -40.0, 0.0)), aerial=town, actors=()).render()
    pose, (h, w) = _pose(frame), frame.image.shape[:2]
    river = _river_mask(frame.image)
    vs, us = np.nonzero(cv2.erode(river, np.ones((9, 9), np.uint8)))
    wet = (float(us[len(us) // 2]), float(vs[len(vs) // 2]))  # a pixel well inside the river
    vs, us = np.nonzero(cv2.dilate(river, np.ones((41, 41), np.uint8)) == 0)
    dry = (float(us[0]), float(vs[0]))
    proj = GeoZoneProjector(load_geozones(cfg.zones, "drone1"))  # type: ignore[attr-defined]
    with InProcessBus() as bus:
        got: list[EventMessage] = []
        bus.subscribe("lookout/events", lambda t, m: got.append(m))
        fp = Pipeline(bus, rules=cfg.rules).add_feed("drone1", pose_zones=proj)  # type: ignore[attr-defined]
        for k in range(30):  # 1 s on the bank, then 2 s in the river (10 fps)
            out = fp.process(FrameInfo("drone1", k, T0 + timedelta(seconds=k / 10), w, h, pose),
                             _det(dry if k < 10 else wet))  # fmt: skip
            assert out.zones == ((None,) if k < 10 else ("river",))
        assert bus.flush()
    assert [m.event.kind for m in got] == ["water_entry"]
    assert 1.9 <= (got[0].event.t_end_utc - T0).total_seconds() <= 2.2


def test_a_bad_geojson_zone_is_one_line_naming_the_zone(tmp_path: Path, river_geojson: Path) -> None:
    with pytest.raises(GeoZoneError, match=r"zones.river: .*no such|zones.river: .*cannot read|zones.river: .*"):
        load_geozones(_cfg(tmp_path / "missing.geojson").zones, "drone1")  # type: ignore[attr-defined]
    with pytest.raises(GeoZoneError, match=r"zones.river: no place named 'lake' .*has 'river"):
        cfg = parse_config(LINK + f'[zones.river]\ncamera = "drone1"\nkind = "water"\n'
                           f'geojson = "{river_geojson}"\nplace = "lake"\n')  # fmt: skip
        load_geozones(cfg.zones, "drone1")
    with pytest.raises(ConfigError, match=r"zones.river: .*needs polygon .* or geojson"):
        parse_config('[zones.river]\ncamera = "*"\nkind = "water"\n')
    with pytest.raises(ConfigError, match=r"zones.river.camera: no \[cameras.drone2\]"):
        parse_config(LINK + f'[zones.river]\ncamera = "drone2"\ngeojson = "{river_geojson}"\n')
