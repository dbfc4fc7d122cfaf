"""Ground zones (lat/lon) projected into a drone's picture, frame by frame.

Pilots already keep their key waters and key areas as GeoJSON places (``missions.places``). A
``[zones.NAME]`` with ``geojson = "river.geojson"`` (optionally ``place = "Limmat"`` to pick one
feature by name) becomes a zone in the picture of its camera: each frame the ground outline is
projected with that frame's ``CameraPose`` (the inverse of ``vision.geolocate.pixel_to_ground``),
clipped to the ground in front of the camera (nothing behind it or beyond ``max_range_m``, so the
horizon is handled) and to the frame, and handed to the rules as ordinary ``vision.zones.Zone``s.
A water place given as a line with ``width_m`` (a river's centre line) is widened to its width.

    geo = load_geozones(cfg.zones, "drone1", base_dir=Path("."))   # GeoZone per configured place
    proj = GeoZoneProjector(geo)
    zones = proj.zones(width, height, pose)                         # list[vision.zones.Zone], this frame
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from vision.errors import VisionError
from vision.geolocate import attitude_matrix, focal_px, north_east_of, offset_latlon
from vision.types import CameraPose
from vision.zones import ANY_CAMERA, KIND_COLORS, Zone

NEAR_M = 0.5  # ground closer to the camera's image plane than this (metres along its axis) is not drawn


class GeoZoneError(VisionError):
    """A GeoJSON zone cannot be loaded (missing file, no such place, wrong geometry)."""

    def __init__(self, zone: str, why: str) -> None:
        self.zone, self.why = zone, why
        super().__init__(f"zones.{zone}: {why}")


@dataclass(frozen=True, slots=True)
class GeoZone:
    """A named ground outline: ``geometry`` is a shapely Polygon/MultiPolygon in lon/lat (x = lon)."""

    name: str
    kind: str
    geometry: BaseGeometry
    color: tuple[int, int, int] = KIND_COLORS["watch"]  # BGR


def _to_local(geom: BaseGeometry, lat0: float, lon0: float) -> BaseGeometry:
    """lon/lat -> (east, north) metres from (lat0, lon0), local tangent plane."""

    def fn(xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy)
        for i, (lon, lat) in enumerate(xy):
            n, e = north_east_of(lat0, lon0, float(lat), float(lon))
            out[i] = (e, n)
        return out

    return shapely.transform(geom, fn)


def _to_lonlat(geom: BaseGeometry, lat0: float, lon0: float) -> BaseGeometry:
    def fn(en: np.ndarray) -> np.ndarray:
        out = np.empty_like(en)
        for i, (e, n) in enumerate(en):
            lat, lon = offset_latlon(lat0, lon0, float(n), float(e))
            out[i] = (lon, lat)
        return out

    return shapely.transform(geom, fn)


def place_area(geometry: BaseGeometry, width_m: float = 0.0) -> BaseGeometry:
    """A place's ground outline in lon/lat: polygons as they are, a line widened to ``width_m`` (a river's
    centre line). A line without a width has no area: ``GeoZoneError`` is the caller's to raise."""
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    if width_m <= 0:
        return Polygon()
    c = geometry.centroid
    local = _to_local(geometry, c.y, c.x).buffer(width_m / 2.0, cap_style="flat")
    return _to_lonlat(local, c.y, c.x)


def load_geozones(zones_cfg: Mapping[str, Any], camera: str, *, base_dir: Path | None = None) -> list[GeoZone]:
    """The GeoJSON zones of ``camera`` (its own and the ``"*"`` ones) read from their files.

    A relative ``geojson`` path is taken from ``base_dir`` (the config file's folder) or the working
    directory. Raises ``GeoZoneError`` naming the zone, the file and the fix."""
    from missions.errors import MissionError
    from missions.places import load_places

    out: list[GeoZone] = []
    for name, z in zones_cfg.items():
        path = getattr(z, "geojson", None)
        if path is None or z.camera not in (camera, ANY_CAMERA):
            continue
        path = Path(path).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            places = load_places(path)
        except MissionError as exc:
            raise GeoZoneError(name, f"{exc}; fix the file or the geojson path") from None
        except OSError as exc:
            raise GeoZoneError(name, f"cannot read {path} ({exc}); fix the geojson path") from None
        wanted = getattr(z, "place", None)
        if wanted is not None:
            chosen = [p for p in places if p.name == wanted or p.name.startswith(f"{wanted} (")]
            if not chosen:
                names = ", ".join(repr(p.name) for p in places[:6])
                raise GeoZoneError(name, f"no place named {wanted!r} in {path} (has {names}); fix place")
            places = chosen
        parts = [place_area(p.geometry, p.width_m) for p in places if p.kind in ("area", "water")]
        parts = [g for g in parts if not g.is_empty]
        if not parts:
            raise GeoZoneError(name, f"{path} has no area or water with an outline (a line needs width_m); "
                               "draw a polygon or give the river's width_m")  # fmt: skip
        out.append(GeoZone(name, z.kind, shapely.union_all(parts), z.bgr()))
    return out


def _half_plane_box(a: float, b: float, c: float, r: float) -> Polygon:
    """The square [-r, r]^2 (east, north) cut to a*e + b*n + c >= 0 (Sutherland-Hodgman on 4 corners)."""
    square = [(-r, -r), (r, -r), (r, r), (-r, r)]
    out: list[tuple[float, float]] = []
    for i, p in enumerate(square):
        q = square[(i + 1) % 4]
        fp, fq = a * p[0] + b * p[1] + c, a * q[0] + b * q[1] + c
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            t = fp / (fp - fq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return Polygon(out) if len(out) >= 3 else Polygon()


def project_ground(geometry: BaseGeometry, width_px: int, height_px: int, pose: CameraPose, *,
                   ground_alt_amsl_m: float | None = None, max_range_m: float = 1500.0) -> BaseGeometry:  # fmt: skip
    """A lon/lat outline as seen by a camera at ``pose``: a shapely geometry in pixels of a ``width_px`` x
    ``height_px`` frame, cut to the ground in front of the camera within ``max_range_m`` and to the frame.
    Empty when none of it is in view. Same conventions as ``pixel_to_ground``."""
    ground = pose.alt_amsl_m - pose.alt_agl_m if ground_alt_amsl_m is None else ground_alt_amsl_m
    h = pose.alt_amsl_m - ground
    if h <= 0.0 or width_px <= 0 or height_px <= 0 or not 0.0 < pose.hfov_deg < 180.0:
        return Polygon()
    rot = attitude_matrix(pose.roll_deg, pose.pitch_deg, pose.yaw_deg)  # body (fwd, right, down) -> NED
    fwd = rot[:, 0]  # camera axis in NED: forward(n, e) = fwd . (n, e, h)
    visible = _half_plane_box(float(fwd[1]), float(fwd[0]), float(fwd[2]) * h - NEAR_M, max_range_m)
    if visible.is_empty:
        return Polygon()
    local = _to_local(geometry, pose.lat_deg, pose.lon_deg).intersection(visible)
    if local.is_empty:
        return Polygon()
    f = focal_px(width_px, pose.hfov_deg)
    cx, cy = width_px / 2.0, height_px / 2.0
    rt = rot.T

    def to_px(en: np.ndarray) -> np.ndarray:
        ned = np.column_stack([en[:, 1], en[:, 0], np.full(len(en), h)])
        body = ned @ rt.T
        z = np.maximum(body[:, 0], 1e-9)
        return np.column_stack([cx + f * body[:, 1] / z, cy + f * body[:, 2] / z])

    pixels = shapely.transform(local, to_px)
    frame = box(0.0, 0.0, float(width_px), float(height_px))
    if not pixels.is_valid:
        pixels = shapely.make_valid(pixels)
    return pixels.intersection(frame)


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]  # type: ignore[list-item]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


class GeoZoneProjector:
    """A drone feed's ground zones in the picture of each frame (``zones(w, h, pose)``); the last pose's
    result is kept, so a hovering drone costs nothing."""

    def __init__(self, geozones: Sequence[GeoZone], *, ground_alt_amsl_m: float | None = None,
                 max_range_m: float = 1500.0) -> None:  # fmt: skip
        self.geozones = tuple(geozones)
        self.ground_alt_amsl_m, self.max_range_m = ground_alt_amsl_m, max_range_m
        self._last: tuple[tuple[Any, ...], tuple[Zone, ...]] | None = None

    def __call__(self, width: int, height: int, pose: CameraPose | None) -> tuple[Zone, ...]:
        return self.zones(width, height, pose)

    def zones(self, width: int, height: int, pose: CameraPose | None) -> tuple[Zone, ...]:
        """Zones in pixels for this frame; none without a pose (a frame without telemetry)."""
        if pose is None or not self.geozones:
            return ()
        key = (width, height, pose.lat_deg, pose.lon_deg, pose.alt_amsl_m, pose.alt_agl_m, pose.roll_deg,
               pose.pitch_deg, pose.yaw_deg, pose.hfov_deg)  # fmt: skip
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        out: list[Zone] = []
        for gz in self.geozones:
            seen = project_ground(gz.geometry, width, height, pose, ground_alt_amsl_m=self.ground_alt_amsl_m,
                                  max_range_m=self.max_range_m)  # fmt: skip
            for poly in _polygons(seen):
                if poly.area < 1.0:
                    continue
                ring = np.asarray(poly.exterior.coords, np.float32)[:-1]
                if len(ring) >= 3 and math.isfinite(float(ring.sum())):
                    out.append(Zone(gz.name, gz.kind, ring, gz.color))
        result = tuple(out)
        self._last = (key, result)
        return result


__all__ = ["GeoZone", "GeoZoneError", "GeoZoneProjector", "load_geozones", "place_area", "project_ground"]
