"""Config section models owned by ``dispatch``: ``[dispatch]`` (+ sinks), ``[units.*]``, ``[response_areas.*]``.

    [dispatch]
    detour_factor = 1.4          # road distance / straight line
    on_scene_radius_m = 75       # a unit this close to the alert is "on scene"

    [dispatch.sinks.desk]        # as many sinks as needed; ``type`` picks the format
    type = "webhook"             # webhook | cap | mqtt
    url = "https://desk.example/hooks/lookout"
    secret = "env:DESK_SECRET"   # or "whsec_<base64>" / a literal

    [units.alpha1]
    callsign = "ALPHA 1"
    kind = "car"                 # car | motorcycle | foot | drone | boat
    lat_deg = 52.37
    lon_deg = 4.89

    [response_areas.station_square]
    target_min = 1               # 1 key site, 3 city centre, 5 elsewhere
    geometry = { type = "Polygon", coordinates = [[[4.899, 52.378], [4.902, 52.378], [4.902, 52.38], [4.899, 52.378]]] }

Validation is pure (no network): a bad value is reported at its key, e.g.
``lookout.toml:9 dispatch.sinks.desk.url: a webhook url must start with https:// or http://``.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal

import shapely
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

UnitKind = Literal["car", "motorcycle", "foot", "drone", "boat"]
UnitStatus = Literal["available", "assigned", "on_scene", "off_duty"]
SinkType = Literal["webhook", "cap", "mqtt"]
Severity = Literal["low", "medium", "high"]

# Planning speeds (m/s) when [dispatch.speeds_m_s] does not say otherwise: urban averages with
# lights and sirens, not top speeds.
DEFAULT_SPEEDS_M_S: dict[str, float] = {
    "car": 11.0,
    "motorcycle": 12.5,
    "foot": 1.6,
    "drone": 15.0,
    "boat": 8.0,
}

# Keys that only make sense for some sink types; any other type rejects them at their own key.
_SINK_KEYS: dict[str, frozenset[str]] = {
    "secret": frozenset({"webhook", "cap"}),
    "dir": frozenset({"cap"}),
    "attach_max_bytes": frozenset({"webhook"}),
    "topic": frozenset({"mqtt"}),
    "units_topic": frozenset({"mqtt"}),
    "username": frozenset({"mqtt"}),
    "password": frozenset({"mqtt"}),
    "cap_scope": frozenset({"cap"}),
    "cap_restriction": frozenset({"cap"}),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SinkConfig(_Strict):
    """One ``[dispatch.sinks.NAME]``: where forwarded alerts go, in which format, with which retry policy."""

    type: SinkType = Field(description="webhook (signed JSON POST), cap (CAP 1.2 XML POST and/or files), mqtt")
    enabled: bool = Field(True, description="false keeps the sink configured but sends nothing")
    url: str | None = Field(None, description="https://… (webhook, cap) or mqtt://host:port (mqtt)")
    secret: str | None = Field(
        None, description='HMAC secret: "whsec_<base64>" (Standard Webhooks), "env:VAR", or a literal string'
    )
    dir: str | None = Field(None, description="cap: also write one .xml file per message here")
    forward: Literal["confirmed", "raised"] = Field(
        "confirmed", description="send when an operator confirms (default) or as soon as an alert is raised"
    )
    min_severity: Severity = Field("low", description="with forward = 'raised': only alerts at least this severe")
    timeout_s: float = Field(5.0, gt=0, le=120, description="connect + response timeout per attempt")
    max_attempts: int = Field(15, ge=1, le=1000, description="then the message becomes a dead letter (retryable)")
    backoff_base_s: float = Field(0.5, gt=0, le=60, description="first retry delay; doubles per attempt, with jitter")
    backoff_max_s: float = Field(300.0, gt=0, le=3600, description="longest delay between two attempts")
    attach_max_bytes: int | None = Field(
        None, ge=0, le=50_000_000, description="webhook: attach evidence files up to this size in total (unset = 0)"
    )
    evidence_base_url: str | None = Field(None, description="evidence links are this URL + the data-dir path")
    topic: str | None = Field(None, min_length=1, description="mqtt: alert topic (unset = lookout/alerts)")
    units_topic: str | None = Field(
        None, min_length=1, description="mqtt: retained <units_topic>/<unit>/status (unset = lookout/units)"
    )
    username: str | None = Field(None, description="mqtt: broker user")
    password: str | None = Field(None, description='mqtt: broker password (or "env:VAR")')
    cap_scope: Literal["Public", "Restricted"] | None = Field(None, description="cap: <scope> (unset = Restricted)")
    cap_restriction: str | None = Field(
        None, min_length=1, description="cap: <restriction> text (unset = police dispatch only)"
    )

    @field_validator("url")
    @classmethod
    def _url_fits_type(cls, v: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if v is None:
            return v
        if kind in ("webhook", "cap") and not re.match(r"^https?://[^/\s]+", v):
            raise PydanticCustomError("sink_url", f"a {kind} url must start with https:// or http:// and name a host")
        if kind == "mqtt" and not re.match(r"^mqtts?://[^/\s:]+(:\d+)?/?$", v):
            raise PydanticCustomError("sink_url", "an mqtt url looks like mqtt://host:1883 (or mqtts://host:8883)")
        return v

    @field_validator("secret", "password")
    @classmethod
    def _secret_form(cls, v: str | None) -> str | None:
        if v is not None and v.startswith("env:") and not re.fullmatch(r"env:[A-Za-z_][A-Za-z0-9_]*", v):
            raise PydanticCustomError("sink_secret", "write env:VARIABLE_NAME (letters, digits, _)")
        return v

    @field_validator(*_SINK_KEYS)
    @classmethod
    def _key_fits_type(cls, v: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("type")
        allowed = _SINK_KEYS[str(info.field_name)]
        if kind is not None and kind not in allowed:
            raise PydanticCustomError(
                "sink_key", f"not used by type {kind!r} (it is for {'/'.join(sorted(allowed))}); remove it"
            )
        return v

    @model_validator(mode="after")
    def _has_destination(self) -> SinkConfig:
        if self.type in ("webhook", "mqtt") and self.url is None:
            raise PydanticCustomError("sink_url", f"type {self.type!r} needs url = ...")
        if self.type == "cap" and self.url is None and self.dir is None:
            raise PydanticCustomError("sink_url", "type 'cap' needs url = ... and/or dir = ...")
        return self


class DroneFirstConfig(_Strict):
    """``[dispatch.drone]``: which drone may be sent first, and how it flies there."""

    alt_rel_m: float = Field(60.0, gt=5, le=120, description="safe transit altitude above home (GUIDED goto)")
    climb_m_s: float = Field(3.0, gt=0, le=20, description="climb rate used in the drone's ETA")
    min_battery_pct: float = Field(35.0, ge=0, le=100, description="below this a drone is not sent")
    max_link_age_s: float = Field(3.0, gt=0, le=60, description="a drone heard from longer ago is not sent")
    min_gps_fix: int = Field(3, ge=0, le=6, description="GPS fix type needed (3 = 3D)")


class DispatchConfig(_Strict):
    """``[dispatch]``: sinks, the ETA model and the response clock."""

    webhook_url: str | None = Field(
        None, description="shorthand for [dispatch.sinks.webhook] type = 'webhook' with this url (no secret)"
    )
    sinks: dict[str, SinkConfig] = Field(default_factory=dict, description="[dispatch.sinks.NAME] tables")
    detour_factor: float = Field(1.4, ge=1.0, le=5.0, description="road distance / straight-line distance")
    speeds_m_s: dict[str, float] = Field(
        default_factory=dict, description="per unit kind planning speed; missing kinds use the built-in defaults"
    )
    on_scene_radius_m: float = Field(75.0, gt=0, le=5000, description="a unit this close is set on scene")
    amber_at: float = Field(0.7, gt=0, lt=1, description="the response clock turns amber at this share of target")
    node: str = Field("lookout", min_length=1, pattern=r"^[^\s,<>&]+$", description="sender name in CAP and JSON")
    drone: DroneFirstConfig = Field(default_factory=DroneFirstConfig)

    @field_validator("speeds_m_s")
    @classmethod
    def _known_kinds(cls, v: dict[str, float]) -> dict[str, float]:
        for kind, speed in v.items():
            if kind not in DEFAULT_SPEEDS_M_S:
                raise PydanticCustomError(
                    "unit_kind", f"unknown kind {kind!r}; use one of {', '.join(DEFAULT_SPEEDS_M_S)}"
                )
            if not (0 < speed <= 100):
                raise PydanticCustomError("unit_speed", f"{kind}: speed must be in (0, 100] m/s, got {speed}")
        return v

    def speed_m_s(self, kind: str) -> float:
        return self.speeds_m_s.get(kind, DEFAULT_SPEEDS_M_S[kind])

    def all_sinks(self) -> dict[str, SinkConfig]:
        """Every configured sink, the ``webhook_url`` shorthand included (as sink ``webhook``)."""
        out = dict(self.sinks)
        if self.webhook_url and "webhook" not in out:
            out["webhook"] = SinkConfig(type="webhook", url=self.webhook_url)
        return out


class UnitConfig(_Strict):
    """A response unit (patrol car, motorcycle, foot patrol, drone team, boat) the dispatcher may send."""

    callsign: str = Field(min_length=1, description="radio callsign shown to dispatch")
    kind: UnitKind = Field("car", description="car | motorcycle | foot | drone | boat")
    status: UnitStatus = Field("available", description="status at start: available | assigned | on_scene | off_duty")
    lat_deg: float | None = Field(None, ge=-90, le=90, description="start position (later: by hand or GPS feed)")
    lon_deg: float | None = Field(None, ge=-180, le=180)
    speed_m_s: float | None = Field(None, gt=0, le=100, description="this unit's planning speed (overrides kind)")
    sysid: int | None = Field(None, ge=1, le=255, description="drone: MAVLink system id of its vehicle")

    @model_validator(mode="after")
    def _both_or_neither(self) -> UnitConfig:
        if (self.lat_deg is None) != (self.lon_deg is None):
            raise PydanticCustomError("unit_position", "give both lat_deg and lon_deg, or neither")
        return self


class ResponseAreaConfig(_Strict):
    """``[response_areas.NAME]``: a GeoJSON (Multi)Polygon with a 1-3-5 target in minutes."""

    target_min: Literal[1, 3, 5] = Field(description="1 key site, 3 city centre, 5 elsewhere")
    geometry: dict[str, Any] = Field(
        description='GeoJSON geometry: { type = "Polygon", coordinates = [[[lon, lat], ...]] } (or MultiPolygon)'
    )
    label: str | None = Field(None, description="shown instead of the name")

    @field_validator("geometry")
    @classmethod
    def _valid_polygon(cls, v: dict[str, Any]) -> dict[str, Any]:
        shape = geometry_shape(v)  # raises PydanticCustomError
        if not shape.is_valid:
            raise PydanticCustomError(
                "area_polygon", "not a simple polygon (edges cross); list [lon, lat] vertices in order around it"
            )
        return v


def geometry_shape(geometry: dict[str, Any]) -> shapely.Polygon | shapely.MultiPolygon:
    """A GeoJSON Polygon/MultiPolygon geometry as shapely (x = lon, y = lat)."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(coords, list) or not coords:
        raise PydanticCustomError(
            "area_polygon", 'needs type = "Polygon" or "MultiPolygon" and coordinates (GeoJSON, [lon, lat])'
        )
    polys = coords if kind == "MultiPolygon" else [coords]
    shapes = []
    for poly in polys:
        try:
            rings = [[(float(p[0]), float(p[1])) for p in ring] for ring in poly]
        except (TypeError, ValueError, IndexError):
            raise PydanticCustomError("area_polygon", "coordinates must be [lon, lat] number pairs") from None
        if not rings or len(rings[0]) < 4:
            raise PydanticCustomError("area_polygon", "a ring needs at least 4 [lon, lat] positions, first = last")
        for lon, lat in (p for ring in rings for p in ring):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise PydanticCustomError(
                    "area_polygon", f"[{lon}, {lat}] is not [lon, lat] in degrees (GeoJSON puts lon first)"
                )
        shape = shapely.Polygon(rings[0], rings[1:])
        if shape.area <= 0:
            raise PydanticCustomError("area_polygon", "has no area; give vertices that are not on one line")
        shapes.append(shape)
    return shapes[0] if len(shapes) == 1 else shapely.MultiPolygon(shapes)


def resolve_secret(value: str | None, where: str) -> bytes | None:
    """A configured secret as HMAC key bytes: ``env:VAR`` read now, ``whsec_`` base64-decoded.

    Raises ``SinkConfigError`` naming ``where`` (e.g. ``dispatch.sinks.desk.secret``) when the
    variable is unset or the whsec_ value is not base64.
    """
    import base64
    import binascii

    from dispatch.errors import SinkConfigError

    if value is None:
        return None
    if value.startswith("env:"):
        var = value[4:]
        got = os.environ.get(var)
        if not got:
            raise SinkConfigError(f"{where}: environment variable {var} is not set; export it or put the secret inline")
        value = got
    if value.startswith("whsec_"):
        try:
            key = base64.b64decode(value[6:], validate=True)
        except binascii.Error:
            raise SinkConfigError(f"{where}: a whsec_ secret must be base64 after the prefix") from None
        if not key:
            raise SinkConfigError(f"{where}: the whsec_ secret is empty")
        return key
    return value.encode("utf-8")
