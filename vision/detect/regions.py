"""Detect only where something moved (Frigate's regions), reuse the last detections elsewhere.

A fixed camera's frame usually changes in a few places: people walking, a door, a car pulling out.
The motion gate finds those places (``vision.motion``); a region-aware detector then runs the
network on crops around them, at the same scale the whole frame would have been run at, and keeps
its previous detections of the feed wherever nothing moved. Crops are planned so that a moving
person is never cut in two: each motion region grows to include every previous box it touches, gets
a margin and a minimum size, and overlapping crops are merged (at most ``max_crops``, joining the
pair that wastes least area). Each crop costs its share of the frame's pixels plus a fixed per-call
cost; when that adds up to ``max_frac`` of a whole-frame call, the whole frame is used. A forced
full-frame pass (``MotionConfig.max_skip_s``) corrects anything a crop missed, e.g. someone who
stood still and was carried over.

Everything here is pure numpy on small arrays (a few boxes per frame).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from vision.types import Detections

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive
Regions = Sequence[Box]  # one image's motion regions
BatchRegions = Sequence[Regions | None] | None  # per image of a batch: its regions, or None = the whole frame

MAX_FRAC = 0.75  # crops costing more than this share of a whole-frame call: detect the whole frame
CALL_COST = 0.07  # the fixed cost of one network call (pre/post-processing), as a share of a whole frame
MAX_CROPS = 1  # at most this many crops (one: a person whose head and feet moved is never cut in two)
MARGIN_FRAC = 0.35  # margin around a region, as a fraction of its own larger side
MIN_MARGIN_PX = 16


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _area(b: Box) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def merge_overlapping(boxes: list[Box]) -> list[Box]:
    """Union boxes that overlap until none do (order-independent result set)."""
    out = list(boxes)
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if _overlap(out[i], out[j]):
                    out[i] = _union(out[i], out.pop(j))
                    merged = True
                    break
            if merged:
                break
    return out


def _grow(crops: list[Box], prev: list[Box]) -> list[Box]:
    """Crops grown to include every previous box they touch (a person is never cut), merged."""
    grown = True
    while grown:  # a grown crop may touch more boxes or another crop: repeat until nothing changes
        grown = False
        for i, c in enumerate(crops):
            for p in prev:
                if _overlap(c, p) and _union(c, p) != c:
                    crops[i] = c = _union(c, p)
                    grown = True
        if grown:
            crops = merge_overlapping(crops)
    return crops


def _pad(b: Box, width: int, height: int, min_side: int) -> Box:
    """``b`` with its margin (clipped at the frame's edges), then widened to ``min_side`` if smaller
    (shifted inside the frame, so the side is kept where the frame allows)."""
    m = max(MIN_MARGIN_PX, round(MARGIN_FRAC * max(b[2] - b[0], b[3] - b[1])))
    box = [max(0, b[0] - m), max(0, b[1] - m), min(width, b[2] + m), min(height, b[3] + m)]
    for lo, hi, limit in ((0, 2, width), (1, 3, height)):
        grow = min(min_side, limit) - (box[hi] - box[lo])
        if grow <= 0:
            continue
        box[lo] -= grow // 2
        box[hi] += grow - grow // 2
        if box[lo] < 0:
            box[hi] -= box[lo]
            box[lo] = 0
        if box[hi] > limit:
            box[lo] -= box[hi] - limit
            box[hi] = limit
    return box[0], box[1], box[2], box[3]


def plan_crops(
    regions: Regions,
    previous: np.ndarray,
    width: int,
    height: int,
    *,
    min_side: int = 64,
    max_frac: float = MAX_FRAC,
    max_crops: int | None = None,
) -> list[Box] | None:
    """The crops to detect in, or None for the whole frame.

    ``regions``: where motion was seen; ``previous``: (n, 4) xyxy of the feed's last detections,
    a region grows to include every one it touches (so a person whose arm moved is seen whole);
    ``min_side``: the smallest crop side, px (about the smallest person worth finding, plus context).
    """
    if width <= 0 or height <= 0:
        return None
    boxes = [
        (max(0, math.floor(r[0])), max(0, math.floor(r[1])), min(width, math.ceil(r[2])), min(height, math.ceil(r[3])))
        for r in regions
    ]
    boxes = [b for b in boxes if _area(b) > 0]
    if not boxes:
        return []
    prev = [
        (max(0, math.floor(p[0])), max(0, math.floor(p[1])), min(width, math.ceil(p[2])), min(height, math.ceil(p[3])))
        for p in np.asarray(previous, np.float64).reshape(-1, 4)
    ]
    crops = _grow(merge_overlapping(boxes), prev)
    crops = _grow(merge_overlapping([_pad(c, width, height, min_side) for c in crops]), prev)
    max_crops = MAX_CROPS if max_crops is None else max_crops
    while len(crops) > max_crops:  # each call has a fixed cost: join the two that waste least area
        best = min(((i, j) for i in range(len(crops)) for j in range(i + 1, len(crops))),
                   key=lambda ij: _area(_union(crops[ij[0]], crops[ij[1]])) - _area(crops[ij[0]]) - _area(crops[ij[1]]))
        joined = _union(crops[best[0]], crops[best[1]])
        crops = _grow(merge_overlapping([c for k, c in enumerate(crops) if k not in best] + [joined]), prev)
    frame = width * height
    if sum(_area(c) / frame + CALL_COST for c in crops) >= max_frac:
        return None
    return crops


def outside(det: Detections, crops: Sequence[Box]) -> Detections:
    """The rows of ``det`` whose boxes touch none of ``crops`` (what nothing moved near)."""
    if len(det) == 0 or not crops:
        return det
    c = np.asarray(crops, np.float32)
    b = det.xyxy
    touch = (b[:, None, 0] < c[None, :, 2]) & (c[None, :, 0] < b[:, None, 2]) & \
            (b[:, None, 1] < c[None, :, 3]) & (c[None, :, 1] < b[:, None, 3])  # fmt: skip
    return det[~touch.any(axis=1)]


def shifted(det: Detections, dx: float, dy: float) -> Detections:
    """``det`` found in a crop at (dx, dy), in the whole frame's pixels."""
    if len(det) == 0 or (dx == 0 and dy == 0):
        return det
    xyxy = det.xyxy + np.array([dx, dy, dx, dy], np.float32)
    kp = None
    if det.keypoints is not None:
        kp = det.keypoints.copy()
        kp[..., 0] += dx
        kp[..., 1] += dy
    return Detections(xyxy, det.confidence, det.class_id, det.tracker_id, kp)


def scaled(regions: tuple[Box, ...], k: float) -> tuple[Box, ...]:
    """``regions`` in the pixels of a copy of the frame resized by ``k``."""
    if k == 1.0:
        return regions
    return tuple((int(x0 * k), int(y0 * k), round(x1 * k), round(y1 * k)) for x0, y0, x1, y1 in regions)


def crop_imgsz(crop: Box, frame_w: int, frame_h: int, imgsz: int, stride: int = 32) -> int:
    """The inference size that runs ``crop`` at the scale ``imgsz`` gives the whole frame."""
    scale = imgsz / max(frame_w, frame_h)
    side = max(crop[2] - crop[0], crop[3] - crop[1]) * scale
    return int(max(stride * 2, min(imgsz, stride * math.ceil(side / stride))))


def area_fraction(crops: Sequence[Box] | None, width: int, height: int) -> float:
    """The share of the frame's pixels the detector looks at: 1.0 for the whole frame."""
    if crops is None:
        return 1.0
    return min(1.0, sum(_area(c) for c in crops) / max(1, width * height))
