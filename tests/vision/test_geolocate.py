"""vision.geolocate against the embedded simulator's camera (flight.sim.SimCamera).

Known ground points are painted into the simulator's aerial image as distinctly coloured discs;
the real camera renders the frame; the disc centres are found in the rendered pixels, geolocated,
and compared with the points' true lat/lon. Nothing takes the renderer's projection on trust.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from flight.sim.aerial import AerialMap, generate_aerial
from flight.sim.camera import SimCamera
from flight.sim.types import SimFrame, VehicleTruth
from lookout.config import parse_config
from lookout.errors import ConfigError
from tests.flight.sim.geohelp import offset_deg  # missions.geo, the plane the simulator flies on
from tests.vision.simtruth import HOME_M, LAT, LON, StillVehicle, still_truth
from vision.config import ReferencePoint
from vision.errors import GeolocateError, VisionError
from vision.geolocate import (
    Geolocator,
    GroundFix,
    Homography,
    compose_attitude,
    foot_point,
    north_east_of,
    pixel_to_ground,
)
from vision.types import CameraPose

GRID = (0.08, 0.3, 0.5, 0.7, 0.92)


@pytest.fixture(scope="module")
def town() -> AerialMap:
    return generate_aerial(LAT, LON, size_m=400.0, seed=3)


def _pose(fr: SimFrame) -> CameraPose:
    return CameraPose(fr.lat_deg, fr.lon_deg, fr.alt_amsl_m, fr.alt_agl_m, fr.roll_deg, fr.pitch_deg, fr.yaw_deg,
                      fr.hfov_deg)  # fmt: skip


LatLon = tuple[float, float]


def _render_markers(town: AerialMap, truth: VehicleTruth) -> tuple[SimFrame, list[LatLon], list[LatLon | None]]:
    """Paint a 5x5 grid of discs (colour (B = 10 i + 5, G = 255, R = 0)) over the ground the camera
    sees, render the frame, and find each disc's centre in the rendered pixels.

    Returns the frame, the discs' true (lat, lon) and their found pixel centres (continuous
    coordinates, None when not visible)."""
    probe = SimCamera(StillVehicle(truth), aerial=town, actors=())
    fr0 = probe.render()
    h, w = fr0.image.shape[:2]
    img = town.image.copy()
    c = img.shape[0] // 2
    truths: list[tuple[float, float]] = []
    for fu in GRID:  # where to put the discs: anywhere in view is fine (the measurement is below)
        for fv in GRID:
            g = probe.ground_point(fr0, fu * w, fv * h)
            assert g is not None
            n, e = town.offset_of(*g)
            centre = (round((c + e / town.m_per_px) * 16), round((c - n / town.m_per_px) * 16))
            i = len(truths)
            cv2.circle(img, centre, round(1.2 / town.m_per_px * 16), (10 * i + 5, 255, 0), -1, cv2.LINE_8, 4)
            truths.append(offset_deg(town.center_lat, town.center_lon, n, e))
    frame = SimCamera(StillVehicle(truth), aerial=AerialMap(img, town.center_lat, town.center_lon, town.m_per_px),
                      actors=()).render()  # fmt: skip
    im = frame.image.astype(np.int32)
    core = (im[..., 1] >= 250) & (im[..., 2] <= 5)
    found: list[tuple[float, float] | None] = []
    for i in range(len(truths)):
        vs, us = np.nonzero(core & (np.abs(im[..., 0] - (10 * i + 5)) <= 2))
        found.append((float(us.mean()) + 0.5, float(vs.mean()) + 0.5) if len(us) >= 3 else None)  # pixel centres
    return frame, truths, found


def _error_m(fix: GroundFix, lat: float, lon: float) -> float:
    dn, de = north_east_of(lat, lon, fix.lat_deg, fix.lon_deg)
    return math.hypot(dn, de)


@pytest.mark.parametrize(
    ("alt_m", "pitch_deg", "yaw_deg"),
    [(40, -45, 0), (40, -45, 90), (40, -45, 217), (40, -90, 30), (40, -30, 123), (80, -45, 300), (20, -60, 45)],
)
def test_drone_pixels_geolocate_to_the_rendered_ground_points(town: AerialMap, alt_m: float, pitch_deg: float,
                                                              yaw_deg: float) -> None:  # fmt: skip
    frame, truths, found = _render_markers(town, still_truth(alt_m, pitch_deg, yaw_deg, north_m=-30.0, east_m=12.0))
    h, w = frame.image.shape[:2]
    geo = Geolocator()
    errors, accuracies = [], []
    for (lat, lon), px in zip(truths, found, strict=True):
        if px is None:
            continue
        fix = geo.locate(px[0], px[1], w, h, _pose(frame))
        assert fix is not None
        errors.append(_error_m(fix, lat, lon))
        accuracies.append(fix.accuracy_m)
    assert len(errors) >= 20, f"only {len(errors)} of 25 markers found in the rendered frame"
    # the bar is a median <= 3 m at 40 m / 45 deg; measured: median ~0.1 m, max ~0.3 m
    assert float(np.median(errors)) <= 1.0, errors
    assert max(errors) <= 2.0, errors
    assert all(e <= a for e, a in zip(errors, accuracies, strict=True))


def test_accuracy_grows_with_slant_range_and_grazing_angle() -> None:
    pose = CameraPose(LAT, LON, HOME_M + 40, 40.0, 0.0, -45.0, 0.0, 70.0)
    near, centre, far = (pixel_to_ground(320, v, 640, 360, pose) for v in (350, 180, 10))
    assert near is not None and centre is not None and far is not None
    assert near.accuracy_m < centre.accuracy_m < far.accuracy_m
    assert 2.0 < centre.accuracy_m < 4.0  # 2.8 m by the stated model
    nadir = pixel_to_ground(320, 180, 640, 360, CameraPose(LAT, LON, HOME_M + 40, 40.0, 0.0, -90.0, 0.0, 70.0))
    assert nadir is not None
    assert _error_m(nadir, LAT, LON) < 0.01


def test_no_fix_above_the_horizon_or_beyond_max_range() -> None:
    pose = CameraPose(LAT, LON, HOME_M + 40, 40.0, 0.0, -10.0, 0.0, 70.0)
    assert pixel_to_ground(320, 0, 640, 360, pose) is None  # sky
    assert pixel_to_ground(320, 180, 640, 360, pose) is not None  # ~230 m ahead
    assert pixel_to_ground(320, 180, 640, 360, pose, max_range_m=100.0) is None
    grazing = pixel_to_ground(320, 175, 640, 360, pose)
    assert grazing is not None and grazing.accuracy_m > 20  # nearly flat rays: large error, said so
    below_ground = CameraPose(LAT, LON, HOME_M - 1, -1.0, 0.0, -45.0, 0.0, 70.0)
    assert pixel_to_ground(320, 180, 640, 360, below_ground) is None
    assert Geolocator().locate(320, 180, 640, 360, None) is None  # a fixed camera without reference points


def test_ground_altitude_can_be_given() -> None:
    pose = CameraPose(LAT, LON, HOME_M + 40, 40.0, 0.0, -45.0, 0.0, 70.0)
    home = pixel_to_ground(320, 180, 640, 360, pose)
    raised = pixel_to_ground(320, 180, 640, 360, pose, ground_alt_amsl_m=HOME_M + 20)  # a roof 20 m up
    assert home is not None and raised is not None
    assert north_east_of(LAT, LON, home.lat_deg, home.lon_deg)[0] == pytest.approx(40.0, abs=0.01)
    assert north_east_of(LAT, LON, raised.lat_deg, raised.lon_deg)[0] == pytest.approx(20.0, abs=0.01)


def test_vehicle_attitude_and_mount_compose() -> None:
    assert compose_attitude((0.0, 0.0, 90.0), (0.0, -45.0, 0.0)) == pytest.approx((0.0, -45.0, 90.0))
    # nose up 10 deg, camera fixed 45 deg down in the body: 35 deg down in the world
    assert compose_attitude((0.0, 10.0, 30.0), (0.0, -45.0, 0.0)) == pytest.approx((0.0, -35.0, 30.0))
    # a camera looking right (mount yaw 90) on a vehicle rolled 20 deg right: it looks 20 deg down
    _, p, y = compose_attitude((20.0, 0.0, 0.0), (0.0, 0.0, 90.0))
    assert p == pytest.approx(-20.0) and y == pytest.approx(90.0)


def test_foot_point_is_the_bottom_centre_of_the_box() -> None:
    assert foot_point((100.0, 50.0, 140.0, 210.0)) == (120.0, 210.0)
    pose = CameraPose(LAT, LON, HOME_M + 40, 40.0, 0.0, -45.0, 0.0, 70.0)
    box = Geolocator().locate_box((300.0, 100.0, 340.0, 180.0), 640, 360, pose)
    assert box == pixel_to_ground(320.0, 180.0, 640, 360, pose)


def _points(px_ll: list[tuple[tuple[float, float], tuple[float, float]]]) -> list[ReferencePoint]:
    return [ReferencePoint(px=px, lat=lat, lon=lon) for px, (lat, lon) in px_ll]


def test_fixed_camera_homography_locates_rendered_points(town: AerialMap) -> None:
    """A pole camera 8 m up looking 30 deg down: 6 surveyed points give the homography, the rest check it."""
    frame, truths, found = _render_markers(town, still_truth(8.0, -30.0, 60.0))
    pairs = [(px, ll) for px, ll in zip(found, truths, strict=True) if px is not None]
    assert len(pairs) >= 20
    survey = [pairs[i] for i in (0, 4, 10, 14, len(pairs) - 5, len(pairs) - 1)]
    geo = Geolocator(_points(survey))
    assert geo.method == "homography"
    h, w = frame.image.shape[:2]
    errors = []
    for px, (lat, lon) in pairs:
        fix = geo.locate(px[0], px[1], w, h, None)  # no pose: the homography alone
        assert fix is not None
        errors.append(_error_m(fix, lat, lon))
    assert float(np.median(errors)) <= 0.5, errors
    assert max(errors) <= 1.5, errors
    above = geo.locate(w / 2, 0.0, w, h, None)  # 30 deg down, 21 deg half vertical FOV: the top row is ground
    assert above is not None
    sky = Homography.from_points(_points(survey)).locate(w / 2, -400.0)  # far above the horizon line
    assert sky is None


def test_normalized_reference_points_follow_the_frame_size() -> None:
    pose = CameraPose(LAT, LON, HOME_M + 10, 10.0, 0.0, -40.0, 0.0, 70.0)
    pixels = [(40.0, 200.0), (600.0, 210.0), (320.0, 350.0), (100.0, 330.0), (520.0, 300.0)]
    truth = [pixel_to_ground(u, v, 640, 360, pose) for u, v in pixels]
    refs = [ReferencePoint(px=(u / 640, v / 360), lat=f.lat_deg, lon=f.lon_deg, normalized=True)
            for (u, v), f in zip(pixels, truth, strict=True) if f is not None]  # fmt: skip
    geo = Geolocator(refs, normalized=True)
    want = pixel_to_ground(300, 280, 640, 360, pose)
    for w, h in ((640, 360), (1280, 720)):
        got = geo.locate(300 * w / 640, 280 * h / 360, w, h, None)
        assert got is not None and want is not None
        assert _error_m(got, want.lat_deg, want.lon_deg) < 0.05
        assert got.accuracy_m >= 0.5


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ("{px = [0, 0], lat = 47.0, lon = 8.0}, {px = [100, 0], lat = 47.0001, lon = 8.0},"
         "{px = [100, 100], lat = 47.0001, lon = 8.0001}", "at least 4 reference points, got 3"),
        ("{px = [0, 0], lat = 47.0, lon = 8.0}, {px = [100, 0], lat = 47.0001, lon = 8.0},"
         "{px = [200, 0], lat = 47.0002, lon = 8.0}, {px = [300, 0], lat = 47.0003, lon = 8.0001}", "one line"),
        ("{px = [0, 0], lat = 47.0, lon = 8.0}, {px = [100, 0], lat = 47.0001, lon = 8.0},"
         "{px = [200, 0], lat = 47.0002, lon = 8.0002}, {px = [0, 100], lat = 47.0, lon = 8.0001}",
         "points 0, 1, 2 lie on one line"),
        ("{px = [0, 0], lat = 47.0, lon = 8.0}, {px = [0, 0], lat = 47.0001, lon = 8.0},"
         "{px = [100, 100], lat = 47.0001, lon = 8.0001}, {px = [0, 100], lat = 47.0, lon = 8.0001}",
         "points 0 and 1 have the same pixel"),
        ("{px = [0, 0], lat = 47.0, lon = 8.0}, {px = [100, 0], lat = 47.0, lon = 8.0},"
         "{px = [100, 100], lat = 47.0001, lon = 8.0001}, {px = [0, 100], lat = 47.0, lon = 8.0001}",
         "points 0 and 1 have the same lat/lon"),
        ("{px = [0.1, 0.1], lat = 47.0, lon = 8.0, normalized = true}, {px = [100, 0], lat = 47.0001, lon = 8.0},"
         "{px = [100, 100], lat = 47.0001, lon = 8.0001}, {px = [0, 100], lat = 47.0, lon = 8.0001}", "mixes"),
    ],
)  # fmt: skip
def test_broken_reference_points_are_one_config_error(points: str, message: str) -> None:
    text = f'[cameras.gate]\nurl = "gate.mp4"\nreference_points = [{points}]\n'
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    line = str(err.value)
    assert "\n" not in line
    assert "cameras.gate.reference_points" in line and message in line, line
    assert "lookout.toml:3" in line


def test_homography_from_points_raises_a_vision_error() -> None:
    refs = [ReferencePoint(px=(0, 0), lat=47.0, lon=8.0), ReferencePoint(px=(10, 0), lat=47.0001, lon=8.0)]
    with pytest.raises(GeolocateError, match="at least 4") as err:
        Homography.from_points(refs)
    assert isinstance(err.value, VisionError)
    with pytest.raises(GeolocateError):
        Geolocator(refs)


def test_good_reference_points_load_from_config() -> None:
    text = ('[cameras.gate]\nurl = "gate.mp4"\nreference_points = [{px = [0, 300], lat = 47.0, lon = 8.0}, '
            '{px = [600, 300], lat = 47.0, lon = 8.0004}, {px = [500, 100], lat = 47.0004, lon = 8.0003}, '
            '{px = [100, 100], lat = 47.0004, lon = 8.0001}]\n')  # fmt: skip
    cam = parse_config(text).cameras["gate"]
    geo = Geolocator.for_camera(cam)
    assert geo.method == "homography"
    fix = geo.locate(300, 200, 640, 360, None)
    assert fix is not None and 47.0 < fix.lat_deg < 47.0004 and 8.0 < fix.lon_deg < 8.0004
    assert Geolocator.for_camera(None).method == "pose"


def test_a_mistyped_reference_point_is_named() -> None:
    pose = CameraPose(LAT, LON, HOME_M + 10, 10.0, 0.0, -40.0, 0.0, 70.0)
    pixels = [(40.0, 200.0), (600.0, 210.0), (320.0, 350.0), (100.0, 330.0), (520.0, 300.0), (320.0, 250.0)]
    fixes = [pixel_to_ground(u, v, 640, 360, pose) for u, v in pixels]
    refs = [ReferencePoint(px=px, lat=f.lat_deg, lon=f.lon_deg) for px, f in zip(pixels, fixes, strict=True) if f]
    assert len(refs) == 6
    Homography.from_points(refs)  # consistent: fine
    typo = [*refs[:3], refs[3].model_copy(update={"lat": refs[3].lat + 0.0004}), *refs[4:]]  # 44 m north
    with pytest.raises(GeolocateError, match=r"point \d") as err:
        Homography.from_points(typo)
    assert "check its pixel and lat/lon" in str(err.value)
