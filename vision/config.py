"""Config section models owned by ``vision``: ``[cameras.*]``, ``[detectors]``, ``[zones.*]``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CameraConfig(_Strict):
    """One fixed camera, e.g. ``[cameras.gate] url = "rtsp://10.0.0.5/stream1"``."""

    url: str = Field(description="rtsp://, http(s)://, udp://, a video file path, or a device index")
    fps: float = Field(5.0, gt=0, le=60, description="analysed frames per second")
    imgsz: int = Field(320, ge=160, le=1280, multiple_of=32, description="detector input size, px")
    enabled: bool = Field(True, description="analyse this camera")
    lat_deg: float | None = Field(None, ge=-90, le=90, description="camera position, for the map")
    lon_deg: float | None = Field(None, ge=-180, le=180, description="camera position, for the map")


class DetectorsConfig(_Strict):
    """Which weights the detectors use. ``None`` means the packaged model."""

    pose_weights: Path | None = Field(None, description="Ultralytics pose .pt/.onnx; None = packaged yolo11n-pose")
    vehicle_weights: Path | None = Field(
        None, description="Ultralytics detection .pt/.onnx for vehicles; None = packaged SSD-MobileNet (cv2.dnn)"
    )
