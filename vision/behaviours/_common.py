"""Small helpers the rules share: the tracked people of a frame, their foot points, times as UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from vision.behaviours.types import FrameContext
from vision.types import PERSON


@dataclass(frozen=True, slots=True)
class Person:
    """One tracked person in this frame."""

    track_id: int
    xyxy: tuple[float, float, float, float]
    foot: tuple[float, float]  # bottom-centre of the box
    confidence: float

    @property
    def height_px(self) -> float:
        return self.xyxy[3] - self.xyxy[1]


def people(ctx: FrameContext) -> list[Person]:
    """The tracked people of ``ctx`` (untracked rows are skipped)."""
    det = ctx.detections
    if det.tracker_id is None or not len(det):
        return []
    out = []
    for i in np.flatnonzero(det.class_id == PERSON):
        x1, y1, x2, y2 = (float(v) for v in det.xyxy[i])
        out.append(Person(int(det.tracker_id[i]), (x1, y1, x2, y2), ((x1 + x2) / 2, y2), float(det.confidence[i])))
    return out


def utc_at(ctx: FrameContext, t_s: float) -> datetime:
    """The capture time ``t_s`` (seconds, the ``ctx.t_s`` clock) as an aware UTC datetime."""
    return ctx.t_utc - timedelta(seconds=ctx.t_s - t_s)


def union_box(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def zones_of_kind(ctx: FrameContext, *kinds: str) -> list:
    return [z for z in ctx.zones if z.kind in kinds]


def drop_gone(state: dict[int, object], ctx: FrameContext) -> None:
    """Forget per-track state of tracks the history no longer holds (memory bounded by live tracks)."""
    for tid in [t for t in state if t not in ctx.history]:
        del state[tid]


def secs(s: float) -> str:
    """A duration for a summary line: one decimal under 10 s, whole seconds above."""
    return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"
