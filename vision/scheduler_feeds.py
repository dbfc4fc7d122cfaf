"""A feed's state in the scheduler (``vision.scheduler``): its target rate and deadline, motion gate,
worker, last detections, counters and the recent results its ``FeedStats`` are computed from, its rate
policy and parking zones; and a ``Job``, one of its frames at a worker. Guarded by the scheduler's lock.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vision.feeds.base import FrameSource
from vision.motion import MotionGate
from vision.rates import RatePolicy
from vision.scheduler_types import FeedStats, FrameMeta, Polygon, WorkItem
from vision.types import Detections, Frame

log = logging.getLogger(__name__)

#: a feed's parking zones: pixel polygons of its frames, or ``(width, height) -> polygons`` (per frame size)
ParkingArg = Callable[[int, int], Sequence[Any]] | Sequence[Any]


@dataclass
class FeedState:
    source: FrameSource
    fps: float
    gate: MotionGate
    wid: int
    next_due: float = 0.0
    last_index: int = -1
    last_det: Detections = field(default_factory=Detections.empty)
    results: int = 0
    detected: int = 0
    gated: int = 0
    missed: int = 0
    errors: int = 0
    removed: bool = False
    in_flight: int = 0  # frames at a worker; a feed has at most one, so its results stay in order
    recent: deque = field(default_factory=lambda: deque(maxlen=256))  # (mono, detected, area detected)
    base_fps: float = 0.0  # configured (full) rate; fps follows the rate policy when there is one
    policy: RatePolicy | None = None
    parking: ParkingArg = ()  # the operator's parking zones (``Scheduler.set_parking_zones``)
    parking_at: tuple[tuple[int, int, float], tuple[Polygon, ...]] | None = None  # resolved for (w, h, scale)

    @property
    def period(self) -> float:
        return 1.0 / self.fps

    def adapt(self, det: Detections, meta: FrameMeta, now: float) -> bool:
        """The rate from what the newest detections need (``vision.rates``); True when it rose (the next frame
        is then due at once)."""
        if self.policy is None:
            return False
        fps = self.policy.update(self.source.name, det, meta.capture_t_utc.timestamp(), self.base_fps)
        faster, self.fps = fps > self.fps, fps
        if faster:
            self.next_due = min(self.next_due, now + self.period)
        return faster

    def set_parking(self, zones: ParkingArg) -> None:
        self.parking, self.parking_at = zones, None

    def parking_px(self, width: int, height: int, scale: float) -> tuple[Polygon, ...]:
        """The parking zones of a ``width`` x ``height`` frame in the pixels of its ring slot (frame / ``scale``),
        resolved once per frame size. Zones that cannot be resolved are logged and left out."""
        key = (width, height, scale)
        if self.parking_at is None or self.parking_at[0] != key:
            try:
                polys = self.parking(width, height) if callable(self.parking) else self.parking
                px = tuple(tuple((round(float(x) / scale, 2), round(float(y) / scale, 2))
                                 for x, y in np.asarray(getattr(p, "polygon", p), np.float64).reshape(-1, 2))
                           for p in polys)  # fmt: skip
            except Exception as exc:  # a broken zone must not stop the dispatcher
                log.error("feed %s: parking zones left out (%s: %s)", self.source.name, type(exc).__name__, exc)
                px = ()
            self.parking_at = (key, px)
        return self.parking_at[1]

    def record(self, detected: bool, area: float = 0.0) -> None:
        """Count one result: detected (with the fraction of the frame detected) or carried over."""
        self.results += 1
        self.recent.append((time.monotonic(), detected, area if detected else 0.0))
        if detected:
            self.detected += 1
        else:
            self.gated += 1

    def stats(self, name: str, now: float) -> FeedStats:
        """Its ``FeedStats``: rates over the last 5 s, counters since it was added."""
        recent = [r for r in self.recent if now - r[0] <= 5.0]
        span = 5.0 if recent and now - recent[0][0] >= 4.0 else max(now - recent[0][0], 1e-3) if recent else 1
        return FeedStats(
            feed=name, target_fps=self.fps,
            fps_out=round(len(recent) / span, 2),
            fps_detected=round(sum(1 for r in recent if r[1]) / span, 2),
            area_frac=round(sum(r[2] for r in recent) / len(recent), 3) if recent else 0.0,
            results=self.results, detected=self.detected, gated=self.gated, missed=self.missed,
            errors=self.errors, worker=self.wid, source=self.source.health(),
            rate_level=self.policy.level(name) if self.policy is not None else "full", base_fps=self.base_fps,
        )  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class Job:
    """A frame at a worker: what the result needs when its detections come back."""

    feed: FeedState
    meta: FrameMeta
    frame: Frame | None  # kept for the result (keep_frames)
    item: WorkItem  # what the worker got: slot, size in the slot, regions
    scale: float  # slot pixels -> original pixels
    t0: float  # monotonic time the scheduler took the frame
