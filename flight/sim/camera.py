"""Simulated gimbal camera: renders the drone's view of an aerial image from its true pose.

The ground is the plane at the vehicle's home altitude; each frame is one
``cv2.warpPerspective`` of the aerial image by the ground-plane homography ``K [r1 r2 t]``
(pinhole camera, no lens distortion), with the sky painted above the horizon. 640x360 costs a
few milliseconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Protocol

import cv2
import numpy as np

from flight.sim.actors import Actor, default_traffic, draw_actors
from flight.sim.aerial import AerialMap, generate_aerial
from flight.sim.errors import SimConfigError
from flight.sim.types import SimFrame, VehicleTruth
from missions.geo import LocalFrame

SKY_TOP, SKY_HORIZON = np.array([200, 150, 110], np.float32), np.array([235, 215, 200], np.float32)


class _HasTruth(Protocol):
    def truth(self) -> VehicleTruth: ...


def camera_matrix(width: int, height: int, hfov_deg: float) -> np.ndarray:
    """Pinhole intrinsics: focal length from the horizontal FOV, principal point at the image centre.

    OpenCV (``warpPerspective``, the pixel arrays) puts pixel centres at integer coordinates, so the
    centre of a ``width``-pixel row is ``(width - 1) / 2``; in the continuous convention of detector
    boxes (pixel ``i`` spans ``[i, i + 1)``) that is ``width / 2``.
    """
    f = (width / 2) / math.tan(math.radians(hfov_deg) / 2)
    return np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1.0]])


def world_to_camera(yaw_deg: float, pitch_deg: float, roll_deg: float = 0.0) -> np.ndarray:
    """Rotation from world (east, north, up) to OpenCV camera axes (right, down, forward)."""
    y, p = math.radians(yaw_deg), math.radians(pitch_deg)
    f = np.array([math.sin(y) * math.cos(p), math.cos(y) * math.cos(p), math.sin(p)])
    r = np.array([math.cos(y), -math.sin(y), 0.0])
    d = np.cross(f, r)
    if roll_deg:
        a = math.radians(roll_deg)
        r, d = r * math.cos(a) + d * math.sin(a), d * math.cos(a) - r * math.sin(a)
    return np.stack([r, d, f])


class SimCamera:
    """The gimbal camera of one simulated vehicle (``SimVehicle`` or anything with ``truth()``)."""

    def __init__(self, vehicle: _HasTruth, width: int = 640, height: int = 360, hfov_deg: float = 70.0,
                 fps: float = 10.0, aerial: AerialMap | None = None,
                 actors: tuple[Actor, ...] | None = None) -> None:  # fmt: skip
        if not (16 <= width <= 4096 and 16 <= height <= 4096 and 5 <= hfov_deg <= 170 and 0 < fps <= 120):
            raise SimConfigError("camera", (width, height, hfov_deg, fps), "use 16..4096 px, 5..170 deg, 0..120 fps")
        self.vehicle = vehicle
        self.width, self.height, self.hfov_deg, self.fps = width, height, hfov_deg, fps
        t = vehicle.truth()
        self.aerial = aerial or generate_aerial(t.home_lat_deg, t.home_lon_deg)
        if actors is None:  # traffic only makes sense on the procedural town's road grid
            actors = default_traffic(self.aerial) if self.aerial.lots else ()
        self.actors = actors
        self._levels = [self.aerial.image]
        for _ in range(3):
            self._levels.append(cv2.pyrDown(self._levels[-1]))
        self.K = camera_matrix(width, height, hfov_deg)
        self._K_inv = np.linalg.inv(self.K)
        self._uv = np.mgrid[0:height, 0:width].astype(np.float32)  # (v, u) grids for the sky mask

    def render(self, truth: VehicleTruth | None = None) -> SimFrame:
        t = truth or self.vehicle.truth()
        alt_agl = max(0.3, t.alt_amsl_m - t.home_alt_amsl_m)
        n, e = self.aerial.offset_of(t.lat_deg, t.lon_deg)
        R = world_to_camera(t.gimbal_yaw_deg, t.gimbal_pitch_deg)
        C = np.array([e, n, alt_agl])
        P = self.K @ np.hstack([R, (-R @ C)[:, None]])
        H_ground = P[:, [0, 1, 3]]
        level = self._level(R, alt_agl)
        scale = 2.0**level
        A = self.aerial.px_to_ne() @ np.diag([scale, scale, 1.0])
        H = H_ground @ A
        image = cv2.warpPerspective(self._levels[level], H, (self.width, self.height), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=(70, 110, 80))  # fmt: skip
        seen = draw_actors(image, H_ground, self.actors, t.t_sim_s) if self.actors else []
        self._paint_sky(image, R)
        lat0, lon0 = self.aerial.center_lat, self.aerial.center_lon
        truth_actors = tuple((k, *LocalFrame(lat0, lon0).point_to_geo(ae, an), u, v) for k, an, ae, u, v in seen)
        return SimFrame(image=image, capture_t_utc=time.time(), lat_deg=t.lat_deg, lon_deg=t.lon_deg,
                        alt_amsl_m=t.alt_amsl_m, alt_agl_m=alt_agl, roll_deg=0.0, pitch_deg=t.gimbal_pitch_deg,
                        yaw_deg=t.gimbal_yaw_deg, hfov_deg=self.hfov_deg, actors=truth_actors)  # fmt: skip

    def _level(self, R: np.ndarray, alt_agl: float) -> int:
        """Pyramid level whose pixel size matches the ground sample distance at the image centre."""
        ray = R.T @ np.array([0.0, 0.0, 1.0])
        down = -ray[2]
        dist = alt_agl / down if down > 0.05 else alt_agl / 0.05
        gsd = dist / self.K[0, 0]
        ratio = gsd / self.aerial.m_per_px
        return int(max(0, min(len(self._levels) - 1, math.floor(math.log2(ratio)) if ratio > 1 else 0)))

    def _paint_sky(self, image: np.ndarray, R: np.ndarray) -> None:
        a, b, c = (R.T @ self._K_inv)[2]  # world 'up' component of each pixel's ray: a*u + b*v + c
        corners = [a * u + b * v + c for u in (0, self.width) for v in (0, self.height)]
        if max(corners) < -0.02:
            return
        up = a * self._uv[1] + b * self._uv[0] + c
        sky = up > -0.02
        frac = np.clip(up[sky] * 3, 0, 1)[:, None]
        image[sky] = (SKY_HORIZON * (1 - frac) + SKY_TOP * frac).astype(np.uint8)

    def frames(self, max_frames: int | None = None) -> Iterator[SimFrame]:
        """Render at ``fps`` of wall time (sleeping between frames); stops after ``max_frames``."""
        period = 1.0 / self.fps
        next_t = time.monotonic()
        count = 0
        while max_frames is None or count < max_frames:
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_t = max(next_t + period, time.monotonic() - period)
            yield self.render()
            count += 1

    def ground_point(self, frame: SimFrame, u: float, v: float) -> tuple[float, float] | None:
        """(lat, lon) of the ground seen at pixel (u, v) of ``frame``; None above the horizon."""
        R = world_to_camera(frame.yaw_deg, frame.pitch_deg)
        ray = R.T @ self._K_inv @ np.array([u, v, 1.0])
        if ray[2] >= -1e-6:
            return None
        k = frame.alt_agl_m / -ray[2]
        return LocalFrame(frame.lat_deg, frame.lon_deg).point_to_geo(ray[0] * k, ray[1] * k)
