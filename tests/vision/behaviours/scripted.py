"""Scripted tracked detections over capture times: drive the behaviour engine without a model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import numpy as np

from vision.types import CAR, PERSON, Detections
from vision.zones import Zone

T0 = datetime(2026, 11, 23, 15, 0, 0, tzinfo=UTC)
W, H = 640, 480


def person_at(x: float, y_foot: float, height: float = 100.0) -> tuple[float, float, float, float]:
    """A person's box standing with its foot point (bottom-centre) at (x, y_foot)."""
    w = height * 0.4
    return (x - w / 2, y_foot - height, x + w / 2, y_foot)


def tracked(boxes: Mapping[int, tuple[float, float, float, float]], classes: Mapping[int, int] | None = None
            ) -> Detections:  # fmt: skip
    """Tracked detections: track id -> box (persons unless ``classes`` says otherwise)."""
    ids = list(boxes)
    if not ids:
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32),
                          np.zeros(0, np.int64))  # fmt: skip
    cls = [(classes or {}).get(i, PERSON) for i in ids]
    return Detections(
        np.array([boxes[i] for i in ids], np.float32), np.full(len(ids), 0.8, np.float32),
        np.array(cls, np.int32), np.array(ids, np.int64),
    )  # fmt: skip


def run(engine, frames: Iterable[Detections], fps: float = 10.0, start: int = 0):
    """Feed ``frames`` at ``fps`` of capture time; return [(frame index, t_s after T0, event), ...]."""
    out = []
    for k, det in enumerate(frames, start):
        t = T0 + timedelta(seconds=k / fps)
        for ev in engine.update(k, t, W, H, det):
            out.append((k, k / fps, ev))
    return out


def square(name: str, kind: str, x1: float, y1: float, x2: float, y2: float) -> Zone:
    return Zone(name, kind, np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float32))


__all__ = ["CAR", "PERSON", "T0", "H", "W", "person_at", "run", "square", "tracked"]
