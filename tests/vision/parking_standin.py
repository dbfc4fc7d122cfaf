"""A stand-in detector that shows which parking zones reached it (importable by spawned workers via sys.path).

Besides the person of ``StandInDetector`` it reports every parking zone it was given for the image's feed
(``set_parking_zones``) as a car covering the zone's bounding box, with confidence ``car_conf`` or, by
default, (how many times ``set_parking_zones`` was called) / 100, so a test reads from the results which
zones the detector in the worker process has, in which pixels, and how often they were handed over.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from standin_detector import StandInDetector

from vision.types import Detections

CAR = 2


class ParkingStandIn(StandInDetector):
    def __init__(self, car_conf: float | None = None) -> None:
        super().__init__()
        self.car_conf = car_conf
        self.zones: dict[str, list[np.ndarray]] = {}
        self.set_calls = 0

    def set_parking_zones(self, feed: str, polygons: Sequence[np.ndarray]) -> None:
        self.zones[feed] = [np.asarray(p, np.float32).reshape(-1, 2) for p in polygons]
        self.set_calls += 1

    def detect_batch(self, images, feeds=None, t_mono=None, imgsz=None, regions=None) -> list[Detections]:  # type: ignore[no-untyped-def]
        names = list(feeds) if feeds is not None else ["default"] * len(images)
        return [Detections.merge([d, self._cars(n)]) for d, n in zip(self.detect(images), names, strict=True)]

    def _cars(self, feed: str) -> Detections:
        zones = self.zones.get(feed, [])
        n = len(zones)
        xyxy = np.array([[*p.min(axis=0), *p.max(axis=0)] for p in zones], np.float32).reshape(-1, 4)
        conf = np.full(n, self.car_conf or self.set_calls / 100, np.float32)
        return Detections(xyxy, conf, np.full(n, CAR, np.int32), keypoints=np.zeros((n, 17, 3), np.float32))
