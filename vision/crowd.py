"""Counting people in a crowd: a tiled, higher-resolution person pass at a low rate.

A whole-frame pass at 320-640 px sees a dense crowd as a few big blobs (a median of 4 people where
10-20 stand). When the frame already shows a group (``min_people`` or more standing together: foot
points linked within ``group_heights`` box heights), ``CrowdCounter`` runs
the person detector on overlapping tiles of the full-resolution frame, each at the detector's input
size, at most ``rate_hz`` times a second (1-2 Hz is enough to count), and merges the tiles' people
(duplicates across tile seams removed by overlap of the smaller box).

    counter = CrowdCounter(detector, CrowdCountConfig())
    c = counter.update("lane", image, t_s, whole_frame_detections)   # CrowdCount or None (not due / no group)
    c.people, c.whole_frame, c.detections

In the scheduler's workers (the video wall, ``lookout node``) ``CrowdCountingDetector`` wraps the detector
(``crowd_counting(factory, config)``, a picklable factory): each ``detect_batch`` also runs the counter on
its images (the worker's clock sets the rate) and leaves the tiled people per image in ``last_crowd``; they
travel with the result (``Result.crowd``) to the ``crowd`` rule (``vision.behaviours.crowd``).
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from vision.detect.regions import shifted
from vision.types import PERSON, Detections

log = logging.getLogger(__name__)


class CrowdCountConfig(BaseModel):
    """``[detectors.crowd]``: the tiled pass that counts dense groups."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="count dense groups with a tiled pass")
    min_people: int = Field(4, ge=1, description="run it when the whole-frame pass sees at least this many people")
    group_heights: float = Field(
        1.5, ge=0, description="... standing together: foot points within this many box heights of one another, "
        "linked person to person (0: anywhere in the frame)")
    rate_hz: float = Field(1.0, gt=0, le=10, description="at most this often per feed")
    grid: tuple[int, int] = Field((2, 2), description="tiles across, down")
    overlap: float = Field(0.2, ge=0, lt=0.5, description="each tile overlaps its neighbours by this fraction")
    imgsz: int = Field(640, ge=160, le=1280, multiple_of=32, description="detector input size per tile, px")
    dedupe: float = Field(0.6, gt=0, le=1, description="two people are one when the smaller box is this much covered")
    whole: bool = Field(True, description="also detect the whole frame at imgsz and merge it with the tiles")


@dataclass(frozen=True, slots=True, eq=False)
class CrowdCount:
    """One tiled count of a feed's frame."""

    feed: str
    t_s: float
    people: int  # tiled pass
    whole_frame: int  # what the whole-frame pass saw on the same frame
    detections: Detections  # the tiled pass's people, in frame pixels


def tiles(width: int, height: int, grid: tuple[int, int], overlap: float) -> list[tuple[int, int, int, int]]:
    """Overlapping (x0, y0, x1, y1) tiles covering the frame, ``grid`` = (across, down)."""
    nx, ny = grid
    tw, th = width / (nx - (nx - 1) * overlap), height / (ny - (ny - 1) * overlap)
    out = []
    for j in range(ny):
        for i in range(nx):
            x0, y0 = round(i * tw * (1 - overlap)), round(j * th * (1 - overlap))
            out.append((x0, y0, min(width, round(x0 + tw)), min(height, round(y0 + th))))
    return out


def largest_group(det: Detections, link_heights: float) -> int:
    """Size of the largest group of people in ``det``, linked as the crowd rule links them
    (``vision.behaviours.crowd.groups``: foot points within ``link_heights`` x their mean box height)."""
    from vision.behaviours.crowd import groups, untracked_people

    found = groups(untracked_people(det), link_heights)
    return len(found[0]) if found else 0


def merge_people(parts: list[Detections], dedupe: float) -> Detections:
    """People of overlapping tiles as one set: highest confidence first, a box dropped when a kept box of
    *another* tile covers ``dedupe`` of the smaller of the two (a person cut by a tile seam is one person;
    people close together in one tile were already separated by the detector's own NMS)."""
    people = [d[d.class_id == PERSON] if len(d) else d for d in parts]
    allp = Detections.merge(people) if people else Detections.empty()
    if not len(allp):
        return allp
    tile = np.concatenate([np.full(len(d), k) for k, d in enumerate(people)])
    order = np.argsort(-allp.confidence, kind="stable")
    b = allp.xyxy
    area = np.maximum(b[:, 2] - b[:, 0], 0) * np.maximum(b[:, 3] - b[:, 1], 0)
    keep: list[int] = []
    for i in order:
        k = np.array([j for j in keep if tile[j] != tile[i]], np.int64)
        if len(k):
            iw = np.clip(np.minimum(b[k, 2], b[i, 2]) - np.maximum(b[k, 0], b[i, 0]), 0, None)
            ih = np.clip(np.minimum(b[k, 3], b[i, 3]) - np.maximum(b[k, 1], b[i, 1]), 0, None)
            cover = iw * ih / np.maximum(np.minimum(area[k], area[i]), 1e-6)
            if (cover >= dedupe).any():
                continue
        keep.append(int(i))
    return allp[np.array(sorted(keep))]


def tiled_people(detector: Any, image: np.ndarray, cfg: CrowdCountConfig) -> Detections:
    """People found on overlapping tiles of ``image`` (and the whole frame, with ``whole``), one detector call
    for the batch, in frame pixels."""
    h, w = image.shape[:2]
    boxes = tiles(w, h, cfg.grid, cfg.overlap)
    if cfg.whole:
        boxes.append((0, 0, w, h))
    crops = [np.ascontiguousarray(image[y0:y1, x0:x1]) for x0, y0, x1, y1 in boxes]
    try:
        found = detector.detect(crops, imgsz=cfg.imgsz)
    except TypeError:  # a detector without per-call sizes
        found = detector.detect(crops)
    return merge_people([shifted(d, x0, y0) for d, (x0, y0, _, _) in zip(found, boxes, strict=True)], cfg.dedupe)


class CrowdCounter:
    """Per feed: a tiled count when the whole-frame pass shows a group, at most ``rate_hz`` per second."""

    def __init__(self, detector: Any, config: CrowdCountConfig | None = None) -> None:
        self.detector = detector
        self.config = config or CrowdCountConfig()
        self._last: dict[str, float] = {}
        self.passes = 0

    def forget(self, feed: str) -> None:
        self._last.pop(feed, None)

    def due(self, feed: str, t_s: float, whole_frame: Detections) -> bool:
        cfg = self.config
        if not cfg.enabled or int(np.sum(whole_frame.class_id == PERSON)) < cfg.min_people:
            return False
        if cfg.group_heights > 0 and largest_group(whole_frame, cfg.group_heights) < cfg.min_people:
            return False  # people spread over the picture: the whole-frame pass counts them well enough
        last = self._last.get(feed)
        return last is None or t_s - last >= 1.0 / cfg.rate_hz or t_s < last

    def update(self, feed: str, image: np.ndarray, t_s: float, whole_frame: Detections) -> CrowdCount | None:
        if not self.due(feed, t_s, whole_frame):
            return None
        self._last[feed] = t_s
        self.passes += 1
        det = tiled_people(self.detector, image, self.config)
        return CrowdCount(feed, t_s, len(det), int(np.sum(whole_frame.class_id == PERSON)), det)


class CrowdCountingDetector:
    """``detector`` plus a ``CrowdCounter`` over what it sees: after each ``detect_batch``, ``last_crowd`` holds
    per image the tiled pass's people (image pixels) or None where none ran (not due, no group, or it
    failed: logged, the detections still go out). Every other attribute is the wrapped detector's."""

    def __init__(self, detector: Any, config: CrowdCountConfig | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.inner = detector
        self.counter = CrowdCounter(getattr(detector, "people", detector), config)  # the composite's pose part
        self.last_crowd: tuple[Detections | None, ...] = ()
        self._clock = clock
        try:
            self._regions = "regions" in inspect.signature(detector.detect_batch).parameters
        except (AttributeError, TypeError, ValueError):
            self._regions = False
        self._failures = 0

    def __getattr__(self, name: str) -> Any:
        if name == "inner":  # not set yet (unpickling, a failed __init__)
            raise AttributeError(name)
        return getattr(self.inner, name)

    def detect_batch(self, images: list[np.ndarray], feeds: Sequence[str] | None = None, t_mono: Any = None,
                     imgsz: Any = None, regions: Any = None) -> list[Detections]:  # fmt: skip
        kw = {"t_mono": t_mono, "imgsz": imgsz} if t_mono is not None or imgsz is not None else {}
        if regions is not None and self._regions:
            kw["regions"] = regions
        dets = self.inner.detect_batch(images, feeds, **kw)
        names = list(feeds) if feeds is not None else ["default"] * len(images)
        now, out = self._clock(), []
        for name, img, det in zip(names, images, dets, strict=True):
            try:
                c = self.counter.update(name, img, now, det)
            except Exception as exc:  # the tiled pass must never cost the frame its detections
                self._failures += 1
                if self._failures <= 3:
                    log.error("feed %s: tiled crowd pass failed (%s: %s)", name, type(exc).__name__, exc)
                c = None
            out.append(None if c is None else c.detections)
        self.last_crowd = tuple(out)
        return dets

    def forget(self, feed: str) -> None:
        self.counter.forget(feed)
        forget = getattr(self.inner, "forget", None)
        if forget is not None:
            forget(feed)


def _counting(factory: Callable[[], Any], config: CrowdCountConfig) -> CrowdCountingDetector:
    return CrowdCountingDetector(factory(), config)


def crowd_counting(factory: Callable[[], Any], config: CrowdCountConfig) -> Callable[[], CrowdCountingDetector]:
    """A picklable factory (for ``vision.scheduler.Scheduler``) of ``factory()``'s detector with a crowd counter."""
    return functools.partial(_counting, factory, config)


__all__ = ["CrowdCount", "CrowdCountConfig", "CrowdCounter", "CrowdCountingDetector", "crowd_counting",
           "merge_people", "tiled_people", "tiles"]  # fmt: skip
