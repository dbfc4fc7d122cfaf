"""A stand-in detector for the rule-aware rate test (importable by spawned workers via sys.path).

What it "finds" depends on the frame's grey level: < 50 nobody, < 150 one person alone, else two
people standing close together (a tight group: full rate)."""

from __future__ import annotations

import numpy as np

from vision.detect.base import Detector
from vision.types import PERSON, Detections


class GreyPeople(Detector):
    type_key = "grey-people"

    @property
    def name(self) -> str:
        return "grey-people"

    @property
    def classes(self) -> tuple[int, ...]:
        return (PERSON,)

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        out = []
        for img in images:
            grey = float(img.mean())
            boxes = [] if grey < 50 else [[100, 100, 140, 200]] if grey < 150 else [[100, 100, 140, 200],
                                                                                  [130, 100, 170, 200]]
            n = len(boxes)
            out.append(Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n, 0.9, np.float32),
                                  np.full(n, PERSON, np.int32)))
        return out
