"""A tiny stand-in ``Detector`` for scheduler tests (importable by spawned workers via sys.path).

It "finds" one person covering the whole image it received, with confidence = mean grey level / 255,
so a test can check that pixels and sizes crossed the shared-memory ring intact. ``work_s`` per image
emulates a busy detector.
"""

from __future__ import annotations

import os
import time

import numpy as np

from vision.detect.base import Detector
from vision.types import PERSON, Detections


class StandInDetector(Detector):
    type_key = "stand-in"

    def __init__(self, work_s: float = 0.0, fail_feed_value: int | None = None, crash: bool = False,
                 cut_on_call: int | None = None) -> None:
        if crash:
            raise RuntimeError("stand-in detector refuses to load")
        self.work_s = work_s
        self.fail_value = fail_feed_value
        self.pid = os.getpid()
        self.cut_on_call = cut_on_call  # report a jump cut (``last_cuts``) on this call with real pixels
        self.calls = 0
        self.last_cuts: tuple[bool, ...] = ()

    @property
    def name(self) -> str:
        return f"stand-in({self.work_s}s)"

    @property
    def classes(self) -> tuple[int, ...]:
        return (PERSON,)

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        if self.work_s and any(img.any() for img in images):  # the workers' all-black warm-up is instant
            time.sleep(self.work_s * len(images))
        self.calls += any(img.any() for img in images)
        self.last_cuts = tuple(self.calls == self.cut_on_call for _ in images)
        out = []
        for img in images:
            h, w = img.shape[:2]
            mean = float(img.mean())
            if self.fail_value is not None and round(mean) == self.fail_value:
                raise ValueError(f"stand-in told to fail on grey {self.fail_value}")
            kp = np.zeros((1, 17, 3), np.float32)
            kp[0, :, 0], kp[0, :, 1], kp[0, :, 2] = w, h, 1.0
            out.append(Detections(np.array([[0, 0, w, h]], np.float32), np.array([mean / 255], np.float32),
                                  np.array([PERSON], np.int32), keypoints=kp))
        return out


class CountingTracker:
    """Gives every detection the number of updates this feed's tracker has seen (per-feed state check)."""

    def __init__(self) -> None:
        self.n = 0

    def update(self, detections: Detections, image: np.ndarray | None = None) -> Detections:
        self.n += 1
        ids = np.full(len(detections), self.n, np.int64)
        return Detections(detections.xyxy, detections.confidence, detections.class_id, ids, detections.keypoints)

    def reset(self) -> None:
        self.n = 0
