"""Framework-neutral vision types (like supervision's): ``Detections``, ``Frame``, ``CameraPose``.

COCO class ids (Ultralytics numbering) are used everywhere: 0 person, 1 bicycle, 2 car,
3 motorcycle, 5 bus, 7 truck. Detector plugins translate their own ids into these.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import numpy as np

PERSON, BICYCLE, CAR, MOTORCYCLE, BUS, TRUCK = 0, 1, 2, 3, 5, 7
VEHICLE_CLASSES = (BICYCLE, CAR, MOTORCYCLE, BUS, TRUCK)
CLASS_NAMES = {PERSON: "person", BICYCLE: "bicycle", CAR: "car", MOTORCYCLE: "motorcycle", BUS: "bus", TRUCK: "truck"}


@dataclass(frozen=True, slots=True, eq=False)
class Detections:
    """Parallel arrays, one row per object. Index with an int, slice or boolean mask."""

    xyxy: np.ndarray  # (n, 4) float32, pixels
    confidence: np.ndarray  # (n,) float32
    class_id: np.ndarray  # (n,) int32, COCO ids above
    tracker_id: np.ndarray | None = None  # (n,) int64, set by vision.track
    keypoints: np.ndarray | None = None  # (n, 17, 3) float32: x_px, y_px, score (COCO keypoint order)

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        if self.xyxy.ndim != 2 or self.xyxy.shape[1] != 4:
            raise ValueError(f"Detections.xyxy must have shape (n, 4), got {self.xyxy.shape}")
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None and len(v) != n:
                raise ValueError(f"Detections.{f.name} has {len(v)} rows, xyxy has {n}")
        if self.keypoints is not None and self.keypoints.shape[1:] != (17, 3):
            raise ValueError(f"Detections.keypoints must have shape (n, 17, 3), got {self.keypoints.shape}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, idx: Any) -> Detections:
        if isinstance(idx, (int, np.integer)):
            idx = [int(idx)]
        return Detections(**{f.name: None if (v := getattr(self, f.name)) is None else v[idx] for f in fields(self)})

    @classmethod
    def merge(cls, parts: list[Detections]) -> Detections:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()

        def cat(name: str) -> np.ndarray | None:
            vals = [getattr(p, name) for p in parts]
            return None if any(v is None for v in vals) else np.concatenate(vals)

        return cls(**{f.name: cat(f.name) for f in fields(cls)})

    @property
    def anchors_bottom_center(self) -> np.ndarray:
        """(n, 2) feet points, the anchor zones use."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], axis=1)


@dataclass(frozen=True, slots=True)
class CameraPose:
    """Where a (drone) camera was when a frame was captured. Angles in degrees.

    ``pitch_deg`` is the camera's pitch in the world frame: 0 = horizon, -90 = straight down.
    ``yaw_deg`` is the camera's heading, clockwise from true north. ``hfov_deg`` horizontal FOV.
    """

    lat_deg: float
    lon_deg: float
    alt_amsl_m: float
    alt_agl_m: float
    roll_deg: float
    pitch_deg: float
    yaw_deg: float
    hfov_deg: float


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One decoded image (BGR, uint8, HxWx3) with its capture time and, for drones, the camera pose."""

    image: np.ndarray
    capture_t_utc: datetime
    feed: str
    index: int
    pose: CameraPose | None = None
