"""Camera zones: named pixel polygons per camera (``[zones.NAME]`` in ``lookout.toml``).

A zone is drawn on the camera's annotated frames and tags each detection whose foot point (the
bottom-centre of its box) lies inside it. Behaviour rules key on its ``kind``: door-handle trying
along ``parking`` zones, water entry at ``water`` zones, loitering in ``restricted``/``watch``
zones; ``entrance`` marks a way in or out.

Vertices are pixels, or fractions of the frame width/height with ``normalized = true`` (so a zone
survives a change of stream resolution). A zone on the ground instead names a GeoJSON file of places
(``geojson = "river.geojson"``, optionally ``place = "NAME"``): ``vision.geozones`` projects it into
a drone's picture with each frame's camera pose; ``zones_for_camera`` leaves such zones out.

    zones = zones_for_camera(cfg.zones, "gate", width, height)   # that camera's zones and the "*" ones
    names = zone_of_points(zones, feet_xy)                         # zone name or None per point
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import shapely
import shapely.validation
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

ZoneKind = Literal["parking", "water", "restricted", "entrance", "watch"]
ANY_CAMERA = "*"

# BGR line/fill colour per kind when the zone sets no ``color``.
KIND_COLORS: dict[str, tuple[int, int, int]] = {
    "parking": (255, 144, 30),  # blue
    "water": (255, 255, 0),  # cyan
    "restricted": (0, 0, 255),  # red
    "entrance": (0, 200, 0),  # green
    "watch": (0, 200, 255),  # orange
}

Coordinate = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ZoneConfig(BaseModel):
    """One zone, e.g. ``[zones.car_row] camera = "gate"  kind = "parking"  polygon = [[0, 400], ...]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: str = Field(min_length=1, description='a [cameras.NAME] name, or "*" for every camera and detect SOURCE')
    kind: ZoneKind = Field("watch", description="parking, water, restricted, entrance or watch (what rules look for)")
    normalized: bool = Field(False, description="vertices are fractions (0..1) of the frame width and height")
    polygon: list[tuple[Coordinate, Coordinate]] | None = Field(
        None, min_length=3, description="vertices [[x, y], ...] in order around the zone; pixels unless normalized"
    )
    color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$", description='"#rrggbb"; default by kind')
    geojson: Path | None = Field(
        None, description="instead of polygon: a GeoJSON file of places (lat/lon), projected with the drone's pose"
    )
    place: str | None = Field(None, min_length=1, description="with geojson: the one place (feature name) to use")

    @model_validator(mode="after")
    def _polygon_or_geojson(self) -> ZoneConfig:
        if (self.polygon is None) == (self.geojson is None):
            what = 'polygon = [[x, y], ...] (pixels) or geojson = "FILE" (lat/lon)'
            why = f"give either {what}, not both" if self.polygon is not None else f"needs {what}"
            raise PydanticCustomError("zone_outline", why)
        if self.place is not None and self.geojson is None:
            raise PydanticCustomError("zone_outline", "place names a feature of a geojson file; add geojson = \"FILE\"")
        return self

    @field_validator("polygon")
    @classmethod
    def _simple_polygon(cls, v: list[tuple[float, float]] | None, info: ValidationInfo) -> Any:
        if v is None:
            return v
        if info.data.get("normalized") and max(max(p) for p in v) > 1:
            raise PydanticCustomError(
                "zone_polygon", "normalized vertices must lie in 0..1; use pixels with normalized = false"
            )
        poly = shapely.Polygon(v)
        if poly.convex_hull.area <= 0:
            raise PydanticCustomError("zone_polygon", "has no area; give at least 3 vertices that are not on one line")
        if not poly.is_valid:
            raise PydanticCustomError(
                "zone_polygon",
                f"{_why_invalid(poly)}; list the vertices in order around the zone so that no edges cross",
            )
        return v

    def bgr(self) -> tuple[int, int, int]:
        """The drawing colour: ``color`` or the kind's default, as OpenCV BGR."""
        if self.color is None:
            return KIND_COLORS[self.kind]
        r, g, b = (int(self.color[i : i + 2], 16) for i in (1, 3, 5))
        return b, g, r


def _why_invalid(poly: shapely.Polygon) -> str:
    """shapely's 'Self-intersection[5 5]' as 'edges cross at (5, 5)'."""
    why = shapely.validation.explain_validity(poly)
    m = re.fullmatch(r"(.*?)\s*\[(\S+) (\S+)\]", why)
    if m is None:
        return f"not a simple polygon ({why})"
    reason = "edges cross" if "intersection" in m.group(1).lower() else m.group(1).lower()
    return f"{reason} at ({float(m.group(2)) + 0.0:g}, {float(m.group(3)) + 0.0:g})"  # no "-0"


@dataclass(frozen=True, slots=True, eq=False)
class Zone:
    """A zone resolved for one frame size: ``polygon`` is (n, 2) float32 pixels."""

    name: str
    kind: str
    polygon: np.ndarray
    color: tuple[int, int, int] = KIND_COLORS["watch"]  # BGR
    shape: Any = field(init=False, repr=False)  # shapely Polygon, prepared for fast point tests

    def __post_init__(self) -> None:
        poly = np.asarray(self.polygon, np.float32).reshape(-1, 2)
        shape = shapely.Polygon(poly)
        shapely.prepare(shape)
        object.__setattr__(self, "polygon", poly)
        object.__setattr__(self, "shape", shape)


def check_zone_cameras(zones: Mapping[str, ZoneConfig], cameras: Iterable[str], drones: Iterable[str] = ()) -> None:
    """Every zone names a configured camera or ``"*"``; else a pydantic ``ValidationError`` at ``zones.NAME.camera``.

    Called by the top-level config model after its fields validated, so ``lookout config check``
    reports ``lookout.toml:LINE zones.NAME.camera: ...`` like any other bad value.
    """
    known = sorted(cameras)
    drone_feeds = set(drones)  # [links.X]: a drone's feed (GeoJSON zones)
    errors = []
    for name, zone in zones.items():
        if zone.camera == ANY_CAMERA or zone.camera in known or zone.camera in drone_feeds:
            continue
        close = difflib.get_close_matches(zone.camera, known, n=1)
        if close:
            hint = f"did you mean {close[0]!r}?"
        else:
            hint = "configured: " + (", ".join(repr(c) for c in known[:6]) + (", ..." if len(known) > 6 else "")
                                     if known else "none")  # fmt: skip
        msg = f'no [cameras.{zone.camera}] entry ({hint}); name a configured camera, or "*" for any source'
        errors.append(InitErrorDetails(
            type=PydanticCustomError("unknown_camera", msg),
            loc=("zones", name, "camera"),
            input=zone.camera,
        ))  # fmt: skip
    if errors:
        raise ValidationError.from_exception_data("LookoutConfig", errors)


def zones_for_camera(zones_cfg: Mapping[str, ZoneConfig], camera: str, width: int, height: int) -> list[Zone]:
    """The zones of ``camera`` (its own and the ``"*"`` ones) in pixels of a ``width`` x ``height`` frame."""
    out = []
    for name, z in zones_cfg.items():
        if z.camera not in (camera, ANY_CAMERA) or z.polygon is None:
            continue
        poly = np.asarray(z.polygon, np.float32)
        if z.normalized:
            poly = poly * np.array([width, height], np.float32)
        out.append(Zone(name, z.kind, poly, z.bgr()))
    return out


def point_in_zone(zone: Zone, x: float, y: float) -> bool:
    """True when (x, y) is inside ``zone`` or on its edge."""
    return bool(shapely.intersects_xy(zone.shape, float(x), float(y)))


def zone_of_points(zones: Iterable[Zone], xy: np.ndarray) -> list[str | None]:
    """The name of the zone holding each (x, y) row of ``xy``, or None.

    Where zones overlap the smallest one wins (a restricted door inside a watched yard is the door).
    """
    pts = np.asarray(xy, np.float64).reshape(-1, 2)
    out: list[str | None] = [None] * len(pts)
    if not len(pts):
        return out
    free = np.ones(len(pts), bool)
    for zone in sorted(zones, key=lambda z: z.shape.area):
        hit = free & shapely.intersects_xy(zone.shape, pts[:, 0], pts[:, 1])
        for i in np.flatnonzero(hit):
            out[i] = zone.name
        free &= ~hit
        if not free.any():
            break
    return out


def foot_points(xyxy: np.ndarray) -> np.ndarray:
    """Bottom-centre of each (x1, y1, x2, y2) box: where a person stands or a vehicle touches the ground."""
    b = np.asarray(xyxy, np.float32).reshape(-1, 4)
    return np.stack([(b[:, 0] + b[:, 2]) / 2, b[:, 3]], axis=1)
