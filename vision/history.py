"""Bounded per-track history for behaviour rules: where each track was, with its keypoints.

Each track keeps its last ``maxlen`` points in a ``deque(maxlen=...)``; a track not seen for
``expire_s`` (in the clock of the ``t`` values given to ``update``) is forgotten, so memory is
bounded by ``maxlen`` x live tracks. Like supervision's line zone, detections without
``tracker_id`` are ignored with a warning.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from vision.types import Detections

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class TrackPoint:
    """One observation of a track. ``t_s`` is in the caller's clock (capture time or monotonic)."""

    t_s: float
    xyxy: np.ndarray  # (4,) float32
    confidence: float
    class_id: int
    keypoints: np.ndarray | None  # (17, 3) or None

    @property
    def bottom_center(self) -> tuple[float, float]:
        return float((self.xyxy[0] + self.xyxy[2]) / 2), float(self.xyxy[3])


class TrackHistory:
    """Per-feed: tracker id -> bounded deque of ``TrackPoint``."""

    def __init__(self, maxlen: int = 64, expire_s: float = 10.0) -> None:
        if maxlen < 1 or expire_s <= 0:
            raise ValueError(f"maxlen must be >= 1 and expire_s > 0, got {maxlen}, {expire_s}")
        self.maxlen = maxlen
        self.expire_s = expire_s
        self._tracks: dict[int, deque[TrackPoint]] = {}
        self._warned = False

    def update(self, t_s: float, detections: Detections) -> list[int]:
        """Append each tracked detection at time ``t_s``; expire stale tracks; return expired ids."""
        if detections.tracker_id is None:
            if len(detections) and not self._warned:
                log.warning("TrackHistory.update got detections without tracker_id; run vision.track first")
                self._warned = True
        else:
            for i, tid in enumerate(detections.tracker_id.tolist()):
                kp = None if detections.keypoints is None else detections.keypoints[i].copy()
                point = TrackPoint(
                    t_s,
                    detections.xyxy[i].astype(np.float32, copy=True),
                    float(detections.confidence[i]),
                    int(detections.class_id[i]),
                    kp,
                )
                self._tracks.setdefault(tid, deque(maxlen=self.maxlen)).append(point)
        return self.expire(t_s)

    def expire(self, now_s: float) -> list[int]:
        """Forget tracks whose last point is older than ``expire_s`` before ``now_s``."""
        gone = [tid for tid, pts in self._tracks.items() if now_s - pts[-1].t_s > self.expire_s]
        for tid in gone:
            del self._tracks[tid]
        return gone

    def get(self, tracker_id: int) -> tuple[TrackPoint, ...]:
        """The track's points, oldest first (empty if unknown or expired)."""
        return tuple(self._tracks.get(int(tracker_id), ()))

    def last(self, tracker_id: int) -> TrackPoint | None:
        pts = self._tracks.get(int(tracker_id))
        return pts[-1] if pts else None

    @property
    def track_ids(self) -> tuple[int, ...]:
        return tuple(self._tracks)

    def __contains__(self, tracker_id: object) -> bool:
        return tracker_id in self._tracks

    def __len__(self) -> int:
        return len(self._tracks)

    def clear(self) -> None:
        self._tracks.clear()
