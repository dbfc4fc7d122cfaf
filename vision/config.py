"""Config section models owned by ``vision``: ``[cameras.*]``, ``[detectors]``, ``[zones.*]``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from vision.crowd import CrowdCountConfig
from vision.detect.ssd_mobilenet import SsdDetectorConfig
from vision.detect.ultralytics_detect import UltralyticsDetectConfig
from vision.detect.ultralytics_pose import PoseDetectorConfig
from vision.geolocate import north_east_of, reference_point_problem
from vision.rates import RatesConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MotionConfig(_Strict):
    """Motion gating per feed (``[cameras.gate.motion]``): static frames skip the detector."""

    enabled: bool = Field(True, description="skip detection on frames without motion (tracks are carried over)")
    method: Literal["diff", "mog2"] = Field("diff", description="diff: running-average background; mog2: OpenCV MOG2")
    width_px: int = Field(160, ge=32, le=1920, description="frames are downscaled to this width before comparing")
    threshold: int = Field(25, ge=1, le=255, description="per-pixel grey-level change that counts as motion")
    min_area_frac: float = Field(0.002, ge=0, le=1, description="fraction of pixels that must change")
    background_alpha: float = Field(0.2, gt=0, le=1, description="diff: how fast the background follows the scene")
    max_skip_s: float = Field(5.0, ge=0, description="detect the whole frame at least this often, s")
    regions: bool = Field(True, description="re-detect people only around motion; keep the last detections elsewhere")
    region_max_frac: float = Field(
        0.5, gt=0, le=1, description="when motion covers more of the frame than this, detect the whole frame"
    )
    region_refresh_s: float = Field(
        2.0, ge=0, description="while detecting in regions, still detect the whole frame at least this often, s"
    )


_PixelCoord = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class ReferencePoint(_Strict):
    """A surveyed ground point and where the camera sees it: ``{px = [u, v], lat = .., lon = ..}``."""

    px: tuple[_PixelCoord, _PixelCoord] = Field(
        description="pixel [u, v] in the camera's native frame (fractions 0..1 with normalized = true)"
    )
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="latitude of the point, degrees")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="longitude of the point, degrees")
    normalized: bool = Field(False, description="px is a fraction of the frame width and height")


class CameraConfig(_Strict):
    """One fixed camera, e.g. ``[cameras.gate] url = "rtsp://10.0.0.5/stream1"``."""

    url: str = Field(description="rtsp://, http(s)://, udp://, a video file path, or a device index")
    fps: float = Field(5.0, gt=0, le=60, description="analysed frames per second")
    imgsz: int = Field(320, ge=160, le=1280, multiple_of=32, description="detector input size, px")
    enabled: bool = Field(True, description="analyse this camera")
    lat_deg: float | None = Field(None, ge=-90, le=90, description="camera position, for the map")
    lon_deg: float | None = Field(None, ge=-180, le=180, description="camera position, for the map")
    heading_deg: float | None = Field(None, ge=0, lt=360, description="where the camera looks, for its map cone")
    hfov_deg: float = Field(60.0, gt=0, lt=180, description="horizontal field of view, for its map cone")
    loop: bool = Field(False, description="video files: start again at the end")
    pace: bool = Field(True, description="video files: play at native fps, like a live camera")
    open_timeout_s: float = Field(5.0, gt=0, le=120, description="give up opening the stream after this long, s")
    read_timeout_s: float = Field(3.0, gt=0, le=120, description="treat the stream as dropped after no frame this long")
    reconnect_max_s: float = Field(2.0, gt=0, le=300, description="longest wait between reconnect attempts, s")
    motion: MotionConfig = Field(default_factory=MotionConfig, description="motion gating")
    rates: RatesConfig = Field(
        default_factory=RatesConfig, description="analyse at fps only while the rules need it (vision.rates)"
    )
    reference_points: list[ReferencePoint] = Field(
        default_factory=list,
        description="fixed camera geolocation: >= 4 ground points [{px = [u, v], lat = .., lon = ..}, ...], "
        "spread out, no three in line",
    )

    @field_validator("reference_points")
    @classmethod
    def _usable_reference_points(cls, v: list[ReferencePoint]) -> list[ReferencePoint]:
        if not v:
            return v
        if len({p.normalized for p in v}) > 1:
            raise PydanticCustomError("reference_points", "mixes normalized and pixel points; use one kind for all")
        if v[0].normalized and max(max(p.px) for p in v) > 1:
            raise PydanticCustomError(
                "reference_points", "normalized px must lie in 0..1; use pixels with normalized = false"
            )
        lat0, lon0 = sum(p.lat for p in v) / len(v), sum(p.lon for p in v) / len(v)
        why = reference_point_problem([p.px for p in v], [north_east_of(lat0, lon0, p.lat, p.lon) for p in v])
        if why is not None:
            raise PydanticCustomError("reference_points", why)
        return v


VehicleDetectorConfig = Annotated[SsdDetectorConfig | UltralyticsDetectConfig, Field(discriminator="type")]


class DetectorsConfig(_Strict):
    """Which detectors and weights the pipeline uses. ``None`` weights means the packaged model.

    ``[detectors.people]`` is the pose plugin (persons + keypoints, every analysed frame);
    ``[detectors.vehicles]`` picks the vehicle plugin by ``type`` (``ssd-mobilenet`` default, or
    ``yolo-detect``, chosen automatically when ``vehicle_weights`` is set), refreshed at a low rate.
    """

    pose_weights: Path | None = Field(None, description="Ultralytics pose .pt/.onnx; None = packaged yolo11n-pose")
    vehicle_weights: Path | None = Field(
        None, description="Ultralytics detection .pt/.onnx for vehicles; None = packaged SSD-MobileNet (cv2.dnn)"
    )
    people: PoseDetectorConfig = Field(default_factory=PoseDetectorConfig, description="the person/pose detector")
    vehicles: VehicleDetectorConfig | None = Field(
        default_factory=SsdDetectorConfig, description="the vehicle detector; omit the section for the default"
    )
    vehicles_enabled: bool = Field(True, description="run a vehicle detector at all")
    vehicle_refresh_s: float = Field(10.0, ge=0, description="re-detect parked vehicles at least this often, s")
    vehicle_scene_change: float = Field(
        0.12, gt=0, le=1, description="also re-detect when the scene changes this much (mean abs diff, 0..1)"
    )
    tracker: Literal["bytetrack", "botsort"] = Field("bytetrack", description="Ultralytics tracker per feed")
    track_history: int = Field(64, ge=2, le=10_000, description="positions kept per track for behaviour rules")
    track_expire_s: float = Field(10.0, gt=0, description="forget a track not seen for this long, s")
    crowd: CrowdCountConfig = Field(
        default_factory=CrowdCountConfig, description="the tiled pass counting dense groups (vision.crowd)"
    )

    @model_validator(mode="before")
    @classmethod
    def _default_vehicle_type(cls, data: Any) -> Any:
        """``vehicles.type`` may be left out: ``yolo-detect`` if ``vehicle_weights`` is set, else SSD."""
        if not isinstance(data, dict):
            return data
        default = "yolo-detect" if data.get("vehicle_weights") else "ssd-mobilenet"
        vehicles = data.get("vehicles")
        if vehicles is None and "vehicles" not in data:
            return {**data, "vehicles": {"type": default}}
        if isinstance(vehicles, dict) and "type" not in vehicles:
            return {**data, "vehicles": {**vehicles, "type": default}}
        return data

    @model_validator(mode="after")
    def _verify_vehicle_weights(self) -> DetectorsConfig:
        if isinstance(self.vehicles, UltralyticsDetectConfig) and self.vehicle_weights is None:
            raise ValueError("detectors.vehicles type 'yolo-detect' needs detectors.vehicle_weights (absolute path)")
        if isinstance(self.vehicles, SsdDetectorConfig) and self.vehicle_weights is not None:
            raise ValueError("detectors.vehicle_weights is set but detectors.vehicles.type is 'ssd-mobilenet'; "
                             "use type 'yolo-detect' or remove vehicle_weights")
        return self

    @property
    def active_vehicles(self) -> SsdDetectorConfig | UltralyticsDetectConfig | None:
        return self.vehicles if self.vehicles_enabled else None


class BusConfig(_Strict):
    """``[bus]``: where events and detections travel (``vision.bus``). ``inprocess`` (default) keeps them
    in this process; ``mqtt`` puts them on a broker so vision nodes on other machines feed one console."""

    type: Literal["inprocess", "mqtt"] = Field("inprocess", description="inprocess | mqtt")
    url: str = Field("mqtt://127.0.0.1:1883", description="mqtt://HOST:PORT (mqtts:// for TLS); type = mqtt only")
    client_id: str | None = Field(
        None, min_length=1, max_length=64, description="stable MQTT client id (persistent session); "
        "default lookout-<host>-<role>",
    )  # fmt: skip
    topic_prefix: str = Field("lookout", pattern=r"^[^+#\s]+$", description="first topic level(s), e.g. lookout")
    node: str | None = Field(None, min_length=1, description="this machine's node name in messages; default host name")
    username: str | None = Field(None, description="MQTT user name")
    password_env: str | None = Field(
        None, description="name of the environment variable holding the MQTT password (never in the file)"
    )
    ca_file: Path | None = Field(None, description="TLS: CA certificate file (mqtts://); default: system CAs")
    cert_file: Path | None = Field(None, description="TLS client certificate (with key_file)")
    key_file: Path | None = Field(None, description="TLS client key")
    keepalive_s: int = Field(15, ge=5, le=3600, description="MQTT keepalive, s")
    detections: bool = Field(True, description="publish every analysed frame's detections (QoS 0)")
    max_pending: int = Field(1000, ge=10, le=1_000_000, description="in-process queue bound (messages)")

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, v: str) -> str:
        m = re.fullmatch(r"mqtts?://([^/:\s@]+)(?::(\d{1,5}))?/?", v)
        if m is None or (m.group(2) is not None and not 0 < int(m.group(2)) < 65536):
            raise PydanticCustomError("bus_url", "expected mqtt://HOST:PORT or mqtts://HOST:PORT (TLS)")
        return v
