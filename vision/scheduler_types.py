"""Types the scheduler hands out (``Result`` with ``FrameMeta``, ``FeedStats``, ``SchedulerError``) and the
typed messages between the scheduler and its worker processes (``DetectBatch``, ``BatchDone``, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vision.detect.regions import Box
from vision.errors import VisionError
from vision.feeds.base import FeedHealth
from vision.types import CameraPose, Detections, Frame


class SchedulerError(VisionError):
    """The scheduler cannot start (a worker failed to load its detector) or was misused."""


@dataclass(frozen=True, slots=True)
class FrameMeta:
    """A frame without its pixels: what results and events carry."""

    feed: str
    index: int
    capture_t_utc: datetime
    width: int
    height: int
    pose: CameraPose | None = None


@dataclass(frozen=True, slots=True)
class Result:
    feed: str
    meta: FrameMeta
    detections: Detections  # tracked (tracker_id set) when the scheduler has a tracker
    detected: bool  # False: the motion gate saw no change; the feed's last detections are carried over
    latency_s: float  # from the scheduler taking the frame to this result
    frame: Frame | None = None  # the full frame, only with ``keep_frames=True``
    crowd: Detections | None = None  # people of a tiled pass on this frame (``vision.crowd``), if one ran


@dataclass(frozen=True, slots=True)
class FeedStats:
    feed: str
    target_fps: float
    fps_out: float  # results per second over the last ~5 s (detected + carried)
    fps_detected: float  # of which went through the detector
    area_frac: float  # mean share of frame pixels the detector looked at (1 = whole frames, 0 = all gated)
    results: int
    detected: int
    gated: int  # static frames the motion gate let skip the detector
    missed: int  # target-rate slots that passed while the feed's worker was busy
    errors: int
    worker: int
    source: FeedHealth
    rate_level: str = "full"  # vision.rates: "full" | "low" | "idle" (what the rules need now)
    base_fps: float = 0.0  # the configured (full) rate; target_fps is the rate in force now


def rescale(det: Detections, scale: float) -> Detections:
    """Detections found on a downscaled copy, back in the original frame's pixels."""
    if scale == 1.0 or len(det) == 0:
        return det
    kp = None
    if det.keypoints is not None:
        kp = det.keypoints.copy()
        kp[..., :2] *= scale
    return Detections(det.xyxy * scale, det.confidence, det.class_id, det.tracker_id, kp)


# ---- the scheduler <-> worker protocol (pickled over multiprocessing queues; all small) -------------
Polygon = tuple[tuple[float, float], ...]  # (x, y) vertices in pixels


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One frame of a batch: its ring slot, feed and size in the slot; ``regions`` are motion boxes in the
    slot's pixels (``vision.detect.regions.Box``), or None for the whole frame; ``parking`` the feed's
    parking zones in the slot's pixels (the worker hands them to ``detector.set_parking_zones`` when they
    changed, so a zone drawn while the feed runs reaches the detector with the next frame)."""

    slot: int
    feed: str
    height: int
    width: int
    regions: tuple[Box, ...] | None = None
    parking: tuple[Polygon, ...] = ()


@dataclass(frozen=True, slots=True)
class DetectBatch:
    """Scheduler -> worker: detect (and track) these frames in one detector call."""

    batch_id: int
    items: tuple[WorkItem, ...]


@dataclass(frozen=True, slots=True)
class ForgetFeed:
    """Scheduler -> worker: drop the feed's tracker and detector state (the feed was removed)."""

    feed: str


@dataclass(frozen=True, slots=True)
class WorkerReady:
    """Worker -> scheduler: the detector is loaded and warmed up."""

    wid: int
    detector_name: str


@dataclass(frozen=True, slots=True)
class WorkerFatal:
    """Worker -> scheduler: the detector could not be built; the worker exits."""

    wid: int
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class BatchDone:
    """Worker -> scheduler: one ``Detections`` per item (slot pixels), the detector time, the share of each
    frame the detector looked at (None: whole frames), per item the people of a tiled crowd pass
    (``vision.crowd.CrowdCountingDetector``; None where none ran, or None for the batch)."""

    wid: int
    batch_id: int
    detections: tuple[Detections, ...]
    detect_s: float
    areas: tuple[float, ...] | None = None
    crowd: tuple[Detections | None, ...] | None = None


@dataclass(frozen=True, slots=True)
class BatchFailed:
    """Worker -> scheduler: the batch raised; the worker goes on."""

    wid: int
    batch_id: int
    message: str


WorkerMessage = WorkerReady | WorkerFatal | BatchDone | BatchFailed
