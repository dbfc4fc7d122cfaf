"""Pixel -> latitude/longitude with an accuracy in metres (``vision.geolocate``).

Two methods, picked per feed by ``Geolocator``:

* **Drone feeds** (a ``CameraPose`` per frame): a pinhole camera (focal length from the horizontal
  field of view and the image width, principal point at the image centre, no distortion) at the
  pose's position and world attitude (roll, pitch, yaw: vehicle attitude and gimbal already combined,
  see ``compose_attitude``); the pixel's ray is intersected with flat ground at the home altitude
  (``pose.alt_amsl_m - pose.alt_agl_m`` unless given), as MAVProxy's ``camera_projection`` does.
  No fix when the ray points at or above the horizon or lands beyond ``max_range_m``.
* **Fixed cameras**: a ground-plane homography fitted (normalised DLT) to >= 4 surveyed reference
  points (pixel <-> lat/lon) from the camera's config.

Pixels are continuous image coordinates (a detector's box edges): pixel column ``i`` covers
``[i, i + 1)``, so the image centre is ``(width / 2, height / 2)``. Locate the *foot point* of a
track (bottom-centre of its box, ``foot_point``): it is the part of a person or car on the ground.

Accuracy (``GroundFix.accuracy_m``, a 1-sigma-ish horizontal radius):

* pose projection: ``sqrt(s_pos^2 + (s_ang * R / sin(e))^2 + (s_ang * R)^2 + (s_h / tan(e))^2)`` with
  slant range ``R``, grazing angle ``e`` (ray below the horizontal), ``s_pos`` the camera's
  horizontal position error (GNSS, 2 m), ``s_ang`` the pointing error (attitude + gimbal + foot
  pixel, 1 deg), ``s_h`` the height error (baro + ground not flat, 1 m): along-range, cross-range
  and height terms (``PoseErrorModel``). At 40 m and 45 deg pitch, image centre: 2.8 m.
* homography: ``sqrt(s_fit^2 + (2 px * ground size of a pixel there)^2)`` where ``s_fit`` is the RMS
  reprojection residual of the reference points in metres (dof-corrected, at least 0.5 m: with
  exactly four points the fit is exact and says nothing), grown linearly with the distance beyond
  the reference points' extent (extrapolation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from vision.errors import GeolocateError
from vision.types import CameraPose

# WGS84, for metres <-> degrees in a local tangent plane around a point.
_A_M = 6378137.0
_E2 = 6.69437999014e-3


class ReferencePointLike(Protocol):
    """What ``Homography.from_points`` needs (``vision.config.ReferencePoint`` is one)."""

    @property
    def px(self) -> tuple[float, float]: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


@dataclass(frozen=True, slots=True)
class GroundFix:
    lat_deg: float
    lon_deg: float
    accuracy_m: float  # 1-sigma-ish horizontal error estimate, grows with slant range / grazing angle


@dataclass(frozen=True, slots=True)
class PoseErrorModel:
    """1-sigma error sources of a drone camera's pose (see the module docstring for the formula)."""

    position_m: float = 2.0
    pointing_deg: float = 1.0
    height_m: float = 1.0


def _radii_m(lat_deg: float) -> tuple[float, float]:
    """(meridian, prime-vertical * cos(lat)) radii: metres per radian of latitude / longitude."""
    s = math.sin(math.radians(lat_deg))
    w = math.sqrt(1.0 - _E2 * s * s)
    return _A_M * (1.0 - _E2) / w**3, _A_M / w * math.cos(math.radians(lat_deg))


def offset_latlon(lat_deg: float, lon_deg: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m``/``east_m`` metres from (lat, lon), local tangent plane."""
    rn, re = _radii_m(lat_deg)
    return lat_deg + math.degrees(north_m / rn), lon_deg + math.degrees(east_m / re)


def north_east_of(lat0_deg: float, lon0_deg: float, lat_deg: float, lon_deg: float) -> tuple[float, float]:
    """North/east metres of (lat, lon) from (lat0, lon0), local tangent plane."""
    rn, re = _radii_m(lat0_deg)
    dlon = (lon_deg - lon0_deg + 180.0) % 360.0 - 180.0
    return math.radians(lat_deg - lat0_deg) * rn, math.radians(dlon) * re


def attitude_matrix(roll_deg: float, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """Body (forward, right, down) -> world (north, east, down): R = Rz(yaw) Ry(pitch) Rx(roll)."""
    r, p, y = (math.radians(a) for a in (roll_deg, pitch_deg, yaw_deg))
    cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p), math.sin(p), math.cos(y), math.sin(y)
    return np.array([
        [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
        [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
        [-sp, cp * sr, cp * cr],
    ])  # fmt: skip


def compose_attitude(vehicle_rpy_deg: tuple[float, float, float],
                     mount_rpy_deg: tuple[float, float, float]) -> tuple[float, float, float]:  # fmt: skip
    """World (roll, pitch, yaw) of a camera on a mount that is *not* stabilised: mount angles are in
    the vehicle's body frame, composed as R_world = R_vehicle @ R_mount. (A stabilised gimbal reports
    world pitch/roll already: use those with yaw = vehicle yaw + mount yaw.)"""
    m = attitude_matrix(*vehicle_rpy_deg) @ attitude_matrix(*mount_rpy_deg)
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, -m[2, 0]))))
    if abs(m[2, 0]) > 1.0 - 1e-9:  # looking straight up/down: roll and yaw mix; put it all in yaw
        return 0.0, pitch, math.degrees(math.atan2(-m[0, 1], m[1, 1])) % 360.0
    roll = math.degrees(math.atan2(m[2, 1], m[2, 2]))
    return roll, pitch, math.degrees(math.atan2(m[1, 0], m[0, 0])) % 360.0


def focal_px(width_px: int, hfov_deg: float) -> float:
    """Pinhole focal length in pixels from the horizontal field of view: (w / 2) / tan(hfov / 2)."""
    return (width_px / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)


def pixel_ray_ned(u_px: float, v_px: float, width_px: int, height_px: int, pose: CameraPose) -> np.ndarray:
    """Unit ray (north, east, down) through pixel (u, v) of a camera at ``pose``."""
    f = focal_px(width_px, pose.hfov_deg)
    x, y = (u_px - width_px / 2.0) / f, (v_px - height_px / 2.0) / f  # camera right, down; forward = 1
    ray = attitude_matrix(pose.roll_deg, pose.pitch_deg, pose.yaw_deg) @ np.array([1.0, x, y])
    return ray / np.linalg.norm(ray)


def pixel_to_ground(u_px: float, v_px: float, width_px: int, height_px: int, pose: CameraPose, *,
                    ground_alt_amsl_m: float | None = None, max_range_m: float = 1500.0,
                    errors: PoseErrorModel | None = None) -> GroundFix | None:  # fmt: skip
    """Where the ray through pixel (u, v) meets flat ground; None above the horizon or beyond
    ``max_range_m`` (horizontal distance from the camera) or with the camera at/below the ground."""
    if width_px <= 0 or height_px <= 0 or not 0.0 < pose.hfov_deg < 180.0:
        return None
    ground = pose.alt_amsl_m - pose.alt_agl_m if ground_alt_amsl_m is None else ground_alt_amsl_m
    h = pose.alt_amsl_m - ground
    ray = pixel_ray_ned(u_px, v_px, width_px, height_px, pose)
    if h <= 0.0 or ray[2] <= 1e-9:
        return None
    k = h / ray[2]
    north, east = ray[0] * k, ray[1] * k
    dist = math.hypot(north, east)
    if not dist <= max_range_m:
        return None
    lat, lon = offset_latlon(pose.lat_deg, pose.lon_deg, north, east)
    e = errors or PoseErrorModel()
    slant = k
    sin_g = ray[2]  # grazing angle: sin = down component of the unit ray
    tan_g = sin_g / max(math.sqrt(max(0.0, 1.0 - sin_g * sin_g)), 1e-9)
    a = math.radians(e.pointing_deg)
    acc = math.sqrt(e.position_m**2 + (a * slant / sin_g) ** 2 + (a * slant) ** 2 + (e.height_m / tan_g) ** 2)
    return GroundFix(lat, lon, acc)


def foot_point(xyxy: Sequence[float]) -> tuple[float, float]:
    """Bottom-centre of a box (x1, y1, x2, y2): the track's point on the ground."""
    return (float(xyxy[0]) + float(xyxy[2])) / 2.0, float(xyxy[3])


# --- fixed cameras ----------------------------------------------------------------------------


def _normaliser(pts: np.ndarray) -> np.ndarray:
    """Hartley: translate to the centroid, scale to mean distance sqrt(2)."""
    c = pts.mean(axis=0)
    d = float(np.mean(np.linalg.norm(pts - c, axis=1))) or 1.0
    s = math.sqrt(2.0) / d
    return np.array([[s, 0.0, -s * c[0]], [0.0, s, -s * c[1]], [0.0, 0.0, 1.0]])


def _apply(h: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mapped points, w) of homogeneous H applied to (n, 2) points."""
    q = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    return q[:, :2] / q[:, 2:3], q[:, 2]


def _dlt(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, float]:
    """Homography src -> dst and its conditioning (2nd-smallest / largest singular value)."""
    ts, td = _normaliser(src), _normaliser(dst)
    s, _ = _apply(ts, src)
    d, _ = _apply(td, dst)
    rows = []
    for (x, y), (u, v) in zip(s, d, strict=True):
        rows.append([-x, -y, -1.0, 0.0, 0.0, 0.0, u * x, u * y, u])
        rows.append([0.0, 0.0, 0.0, -x, -y, -1.0, v * x, v * y, v])
    _, sv, vt = np.linalg.svd(np.array(rows))
    h = np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts
    return h / np.linalg.norm(h), float(sv[-2] / sv[0])


def _line_problem(pts: np.ndarray, what: str) -> str | None:
    c = pts - pts.mean(axis=0)
    sv = np.linalg.svd(c, compute_uv=False)
    if sv[0] <= 0 or sv[1] / sv[0] < 0.02:
        return f"all {what} lie on (or close to) one line; spread the points over the ground the camera sees"
    return None


def reference_point_problem(pixels: Sequence[tuple[float, float]],
                            ground_ne_m: Sequence[tuple[float, float]]) -> str | None:  # fmt: skip
    """Why these reference points cannot define a ground homography, or None. Pixels in any unit
    (pixels or fractions), ground in metres (north, east). Points are numbered from 0."""
    n = len(pixels)
    if n < 4:
        return f"needs at least 4 reference points, got {n}; add points spread over the ground the camera sees"
    px, ne = np.asarray(pixels, float), np.asarray(ground_ne_m, float)
    px_extent = float(np.ptp(px, axis=0).max()) or 1.0
    for i in range(n):
        for j in range(i + 1, n):
            if np.linalg.norm(px[i] - px[j]) < 1e-3 * px_extent:
                return f"points {i} and {j} have the same pixel; give each point its own place in the picture"
            if np.linalg.norm(ne[i] - ne[j]) < 0.05:
                return f"points {i} and {j} have the same lat/lon; give each point its own place on the ground"
    for pts, what in ((px, "pixels"), (ne, "lat/lon positions")):
        if (why := _line_problem(pts, what)) is not None:
            return why
    if n == 4:
        for pts, what in ((px, "pixels"), (ne, "lat/lon positions")):
            ext2 = float(np.ptp(pts, axis=0).max()) ** 2
            for i, j, k in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
                (ax, ay), (bx, by) = pts[j] - pts[i], pts[k] - pts[i]
                area = abs(float(ax * by - ay * bx)) / 2
                if area < 0.005 * ext2:
                    return f"the {what} of points {i}, {j}, {k} lie on one line; with 4 points no 3 may be in line"
    h, cond = _dlt(px, ne[:, ::-1])
    if cond < 1e-7:
        return "the points are degenerate (no 4 of them with no three in line); move or add points"
    _, w = _apply(h, px)
    if np.any(w > 0) and np.any(w < 0):
        bad = int(np.argmin(w) if np.sum(w > 0) > np.sum(w < 0) else np.argmax(w))
        return f"point {bad} lies beyond the horizon of the plane the others fit; check its pixel and lat/lon"
    if n > 4:
        fit, _ = _apply(h, px)
        res = np.linalg.norm(fit - ne[:, ::-1], axis=1)
        extent = float(np.ptp(ne, axis=0).max())
        worst = int(np.argmax(res))
        if res[worst] > max(3.0, 0.25 * extent):
            return f"point {worst} is {res[worst]:.0f} m off the plane the others fit; check its pixel and lat/lon"
    return None


class Homography:
    """Ground-plane homography of a fixed camera from >= 4 reference points (pixel <-> lat/lon)."""

    def __init__(self, h_px_to_en: np.ndarray, lat0_deg: float, lon0_deg: float, *, fit_sigma_m: float,
                 radius_m: float, w_sign: float, max_range_m: float = 1500.0) -> None:  # fmt: skip
        self._h = h_px_to_en  # pixel (u, v, 1) -> (east, north, w) metres from (lat0, lon0)
        self._lat0, self._lon0 = lat0_deg, lon0_deg
        self.fit_sigma_m = fit_sigma_m  # 1-sigma fit error of the reference points, m
        self._radius_m = radius_m  # farthest reference point from (lat0, lon0), m
        self._w_sign = w_sign  # sign of w on the ground side of the horizon
        self.max_range_m = max_range_m

    @classmethod
    def from_points(cls, points: Sequence[ReferencePointLike], *, scale: tuple[float, float] = (1.0, 1.0),
                    max_range_m: float = 1500.0, min_sigma_m: float = 0.5) -> Homography:  # fmt: skip
        """Fit to ``points`` (pixel coordinates multiplied by ``scale``, e.g. the frame size for
        normalised points). Raises ``GeolocateError`` when the points are too few or degenerate."""
        if len(points) == 0:
            raise GeolocateError("reference_points", "needs at least 4 reference points, got 0; add them to the camera")
        lat0 = sum(p.lat for p in points) / len(points)
        lon0 = sum(p.lon for p in points) / len(points)
        px = np.array([(p.px[0] * scale[0], p.px[1] * scale[1]) for p in points], float)
        ne = np.array([north_east_of(lat0, lon0, p.lat, p.lon) for p in points], float)
        if (why := reference_point_problem(px.tolist(), ne.tolist())) is not None:
            raise GeolocateError("reference_points", why)
        en = ne[:, ::-1].copy()
        h, _ = _dlt(px, en)
        n = len(points)
        fit, _ = _apply(h, px)
        rms = float(np.sqrt(np.mean(np.sum((fit - en) ** 2, axis=1))))
        sigma = math.hypot(min_sigma_m, rms * math.sqrt(n / (n - 4))) if n > 4 else min_sigma_m
        _, w = _apply(h, px)
        radius = float(np.max(np.linalg.norm(en, axis=1)))
        return cls(h, lat0, lon0, fit_sigma_m=sigma, radius_m=radius, w_sign=float(np.sign(w[0])),
                   max_range_m=max_range_m)  # fmt: skip

    def locate(self, u_px: float, v_px: float) -> GroundFix | None:
        """Ground point seen at (u, v); None beyond the fitted horizon or ``max_range_m``."""
        q = self._h @ np.array([u_px, v_px, 1.0])
        if q[2] * self._w_sign <= 1e-12 * np.linalg.norm(q):
            return None
        e, n = q[0] / q[2], q[1] / q[2]
        r = math.hypot(e, n)
        if not r <= self.max_range_m:
            return None
        # ground size of one pixel here: largest singular value of the Jacobian d(e, n)/d(u, v)
        h, w = self._h, q[2]
        jac = np.array([[h[0, 0] - e * h[2, 0], h[0, 1] - e * h[2, 1]],
                        [h[1, 0] - n * h[2, 0], h[1, 1] - n * h[2, 1]]]) / w  # fmt: skip
        m_per_px = float(np.linalg.svd(jac, compute_uv=False)[0])
        acc = math.hypot(self.fit_sigma_m, 2.0 * m_per_px)
        acc *= 1.0 + max(0.0, r - self._radius_m) / max(self._radius_m, 1.0)
        lat, lon = offset_latlon(self._lat0, self._lon0, n, e)
        return GroundFix(lat, lon, acc)


class Geolocator:
    """One per feed: the fixed camera's homography when it has reference points, else the drone's
    pose projection (when the frame has a pose), else nothing."""

    def __init__(self, reference_points: Sequence[ReferencePointLike] = (), *, normalized: bool = False,
                 ground_alt_amsl_m: float | None = None, max_range_m: float = 1500.0,
                 errors: PoseErrorModel | None = None) -> None:  # fmt: skip
        self._points = tuple(reference_points)
        self._normalized = normalized
        self.ground_alt_amsl_m = ground_alt_amsl_m
        self.max_range_m = max_range_m
        self.errors = errors or PoseErrorModel()
        self._homographies: dict[tuple[int, int], Homography] = {}
        if self._points and not normalized:  # fail now, not on the first frame
            self._homographies[(0, 0)] = Homography.from_points(self._points, max_range_m=max_range_m)

    @classmethod
    def for_camera(cls, camera: object | None, **kwargs: object) -> Geolocator:
        """From a ``vision.config.CameraConfig`` (its ``reference_points``), or a drone feed (None)."""
        points = tuple(getattr(camera, "reference_points", ()) or ())
        normalized = bool(points) and all(getattr(p, "normalized", False) for p in points)
        return cls(points, normalized=normalized, **kwargs)  # type: ignore[arg-type]

    @property
    def method(self) -> str:
        return "homography" if self._points else "pose"

    def locate(self, u_px: float, v_px: float, width_px: int, height_px: int,
               pose: CameraPose | None) -> GroundFix | None:  # fmt: skip
        if self._points:
            key = (width_px, height_px) if self._normalized else (0, 0)
            hom = self._homographies.get(key)
            if hom is None:
                if len(self._homographies) >= 4:  # the stream changed size more than once: bound the cache
                    self._homographies.clear()
                hom = Homography.from_points(self._points, scale=(float(width_px), float(height_px)),
                                             max_range_m=self.max_range_m)  # fmt: skip
                self._homographies[key] = hom
            return hom.locate(u_px, v_px)
        if pose is None:
            return None
        return pixel_to_ground(u_px, v_px, width_px, height_px, pose, ground_alt_amsl_m=self.ground_alt_amsl_m,
                               max_range_m=self.max_range_m, errors=self.errors)  # fmt: skip

    def locate_box(self, xyxy: Sequence[float], width_px: int, height_px: int,
                   pose: CameraPose | None) -> GroundFix | None:  # fmt: skip
        """Locate a track's foot point (bottom-centre of its box)."""
        u, v = foot_point(xyxy)
        return self.locate(u, v, width_px, height_px, pose)
