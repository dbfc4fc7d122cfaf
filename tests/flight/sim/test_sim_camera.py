"""The simulated gimbal camera: perspective from the true pose, sky above the horizon, pose attached."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest

from flight.sim import SimConfigError
from flight.sim.aerial import AerialMap, generate_aerial
from flight.sim.camera import SimCamera
from tests.flight.sim.geohelp import ne_of, offset_deg

HOME = (52.2297, 21.0122, 100.0)


@pytest.fixture(scope="module")
def aerial():
    return generate_aerial(HOME[0], HOME[1], size_m=300, m_per_px=0.25)


def _fly(fleet, alt, pitch, yaw):
    v = fleet.vehicles[0]
    v.wait(lambda t: t.ekf_ok, 20)
    with fleet.lock:
        c = v.copter
        c.set_mode("GUIDED")
        c.arm()
        c.takeoff(alt)
        c.set_gimbal(pitch, yaw, earth_frame=True)
    return v.wait(lambda t: t.alt_rel_m > alt - 0.05 and abs(t.vd_m_s) < 0.05, 30)


def test_nadir_frame_shows_the_ground_under_the_drone(fleet_factory, aerial):
    fleet = fleet_factory(speedup=60)
    t = _fly(fleet, 40, -90, 0)
    cam = SimCamera(fleet.vehicles[0], 320, 180, 60, aerial=aerial)
    frame = cam.render(t)
    assert frame.image.shape == (180, 320, 3) and frame.image.dtype == np.uint8
    assert (frame.lat_deg, frame.lon_deg, frame.pitch_deg, frame.hfov_deg) == (t.lat_deg, t.lon_deg, -90, 60)
    assert frame.alt_agl_m == pytest.approx(40, abs=0.1)
    n, e = aerial.offset_of(t.lat_deg, t.lon_deg)
    h, w = aerial.image.shape[:2]
    u, v = round(w / 2 + e / aerial.m_per_px), round(h / 2 - n / aerial.m_per_px)
    half_px = round(2.0 / aerial.m_per_px)  # a 4 m square of ground in both images
    patch = aerial.image[v - half_px : v + half_px, u - half_px : u + half_px].reshape(-1, 3).mean(axis=0)
    gsd = 2 * 40 * math.tan(math.radians(30)) / 320
    k = round(2.0 / gsd)
    centre = frame.image[90 - k : 90 + k, 160 - k : 160 + k].reshape(-1, 3).mean(axis=0)
    assert np.abs(patch - centre).max() < 12
    assert frame.image.std() > 5  # not a flat colour


def test_image_top_points_along_camera_yaw_and_ground_point(fleet_factory, aerial):
    fleet = fleet_factory(speedup=60)
    t = _fly(fleet, 50, -45, 90)  # looking east, 45 degrees down
    cam = SimCamera(fleet.vehicles[0], 320, 180, 60, aerial=aerial)
    frame = cam.render(t)
    lat, lon = cam.ground_point(frame, 160, 90)
    n, e = ne_of(t.lat_deg, t.lon_deg, lat, lon)
    assert e == pytest.approx(50, abs=0.5) and abs(n) < 0.5  # 50 m ahead at 45 degrees from 50 m
    assert cam.ground_point(frame, 160, 0) is not None
    top = cam.ground_point(frame, 160, 20)
    bottom = cam.ground_point(frame, 160, 170)
    assert ne_of(t.lat_deg, t.lon_deg, *top)[1] > ne_of(t.lat_deg, t.lon_deg, *bottom)[1]


def test_sky_above_horizon_only_when_looking_up(fleet_factory, aerial):
    fleet = fleet_factory(speedup=60)
    t = _fly(fleet, 30, 0, 0)
    cam = SimCamera(fleet.vehicles[0], 320, 180, 60, aerial=aerial)
    frame = cam.render(t)
    top, bottom = frame.image[5].mean(axis=0), frame.image[-5].mean(axis=0)
    assert top[0] > top[1] > top[2]  # bluish sky (BGR)
    assert cam.ground_point(frame, 160, 5) is None
    with fleet.lock:
        fleet.vehicles[0].copter.set_gimbal(-90, 0)
    down = cam.render()
    assert not (down.image[5].mean(axis=0)[0] > 190)
    assert not np.allclose(top, bottom)


def test_frames_iterator_and_pose_from_roi(fleet_factory, aerial):
    fleet = fleet_factory(speedup=60)
    _fly(fleet, 30, -30, 0)
    roi = offset_deg(HOME[0], HOME[1], 0, 60)
    with fleet.lock:
        fleet.vehicles[0].copter.set_roi(*roi, 0)
    cam = SimCamera(fleet.vehicles[0], 160, 90, 70, fps=50, aerial=aerial)
    frames = list(cam.frames(max_frames=3))
    assert len(frames) == 3
    f = frames[-1]
    assert f.yaw_deg == pytest.approx(90, abs=3)
    assert f.pitch_deg == pytest.approx(-math.degrees(math.atan2(30, 60)), abs=2)
    assert f.capture_t_utc > frames[0].capture_t_utc


def test_user_aerial_image_with_bounds(tmp_path):
    img = np.zeros((200, 400, 3), np.uint8)
    img[:, :200] = (0, 0, 255)
    path = tmp_path / "map.png"
    cv2.imwrite(str(path), img)
    north, south = offset_deg(HOME[0], HOME[1], 50, 0)[0], offset_deg(HOME[0], HOME[1], -50, 0)[0]
    east, west = offset_deg(HOME[0], HOME[1], 0, 100)[1], offset_deg(HOME[0], HOME[1], 0, -100)[1]
    m = AerialMap.from_file(path, north, south, east, west)
    assert m.m_per_px == pytest.approx(0.5, rel=0.01)
    assert m.size_m == pytest.approx((100, 200), rel=0.01)
    with pytest.raises(SimConfigError, match="aerial image"):
        AerialMap.from_file(tmp_path / "missing.png", north, south, east, west)
    with pytest.raises(SimConfigError, match="bounds"):
        AerialMap.from_file(path, south, north, east, west)


@pytest.mark.parametrize("kwargs", [{"width": 8}, {"hfov_deg": 0}, {"fps": 0}, {"height": 10_000}])
def test_bad_camera_arguments(fleet_factory, aerial, kwargs):
    fleet = fleet_factory(speedup=10)
    with pytest.raises(SimConfigError, match="camera"):
        SimCamera(fleet.vehicles[0], aerial=aerial, **kwargs)


@pytest.mark.parametrize(
    ("yaw", "top", "bottom"), [(0, "north", "south"), (90, "east", "west"), (180, "south", "north")]
)
def test_nadir_orientation_follows_camera_yaw(fleet_factory, yaw, top, bottom):
    colours = {"north": (0, 0, 255), "south": (255, 0, 0), "east": (0, 255, 0), "west": (0, 255, 255)}
    img = np.zeros((400, 400, 3), np.uint8)
    img[:200, :] = colours["north"]
    img[200:, :] = colours["south"]
    if yaw == 90:
        img[:, 200:] = colours["east"]
        img[:, :200] = colours["west"]
    quad = AerialMap(img, HOME[0], HOME[1], 0.5)
    fleet = fleet_factory(speedup=60)
    t = _fly(fleet, 40, -90, yaw)
    frame = SimCamera(fleet.vehicles[0], 160, 90, 60, aerial=quad).render(t)
    assert tuple(frame.image[3, 80]) == colours[top]
    assert tuple(frame.image[-3, 80]) == colours[bottom]


def test_moving_cars_are_drawn_where_the_ground_truth_says(fleet_factory, aerial):
    from flight.sim.actors import Actor

    fleet = fleet_factory(speedup=60)
    t = _fly(fleet, 40, -90, 0)
    n0, e0 = aerial.offset_of(t.lat_deg, t.lon_deg)
    red = (0, 0, 255)
    phase = (25 - 2.0 * t.t_sim_s) % 120  # 5 m south of the drone now, driving north at 2 m/s
    car = Actor("car", ((n0 - 30, e0 + 3), (n0 + 30, e0 + 3)), 2.0, red, phase_m=phase)
    cam = SimCamera(fleet.vehicles[0], 320, 180, 60, aerial=aerial, actors=(car,))
    first = cam.render(t)
    assert len(first.actors) == 1
    kind, lat, lon, u, v = first.actors[0]
    assert kind == "car" and tuple(first.image[round(v), round(u)]) == red
    second = cam.render(dataclasses.replace(t, t_sim_s=t.t_sim_s + 3))  # same pose, 3 s later
    assert second.actors[0][4] < v - 5  # moved up the image (north) as sim time passed
    assert ne_of(lat, lon, second.actors[0][1], second.actors[0][2])[0] > 4
    assert SimCamera(fleet.vehicles[0], 80, 45, 60, aerial=aerial).actors  # default traffic on the town
    assert SimCamera(fleet.vehicles[0], 80, 45, 60, aerial=aerial, actors=()).render().actors == ()
