"""People with 17 COCO keypoints from an Ultralytics pose model (the packaged YOLO11n-pose).

The .pt is exported once per ``imgsz`` to ONNX, cached, and run by Ultralytics on ONNX Runtime
(about 2.5x faster than torch on this CPU); torch is the fallback if export fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from vision.detect._ultralytics import Backend, ModelsBySize, Sizes, names_to_coco, result_to_detections
from vision.detect.base import CLASS_IDS, Detector, DetectorConfigBase, Weights, check_images, class_filter
from vision.detect.errors import WeightsError
from vision.types import PERSON, Detections


class PoseDetectorConfig(DetectorConfigBase):
    """``[detectors.people] type = "yolo-pose"``: persons + keypoints."""

    type: Literal["yolo-pose"] = "yolo-pose"
    imgsz: int = Field(320, ge=160, le=1280, multiple_of=32, description="inference size, px (per feed)")
    backend: Backend = Field("auto", description="auto/onnx: cached ONNX export; torch: run the .pt")
    torch_threads: int = Field(2, ge=1, le=64, description="torch threads when running the .pt")


class UltralyticsPoseDetector(Detector):
    type_key = "yolo-pose"

    def __init__(
        self,
        weights: Path,
        *,
        imgsz: int = 320,
        conf: float = 0.25,
        cache_dir: Path | None = None,
        backend: Backend = "auto",
        torch_threads: int = 2,
    ) -> None:
        self._models = ModelsBySize(weights, "pose", imgsz, cache_dir, backend, torch_threads)
        self._loaded = self._models.default
        names = getattr(self._loaded.model, "names", None) or {0: "person"}
        self._class_map = names_to_coco(names, CLASS_IDS)
        if PERSON not in self._class_map.values():
            raise WeightsError(weights, "has no 'person' class", "use a COCO pose model such as yolo11n-pose")
        self._conf = conf
        self._keep = (PERSON,)

    @classmethod
    def from_config(cls, config: PoseDetectorConfig, weights: Weights, *, cache_dir: Path | None = None):
        if isinstance(weights, tuple):
            raise WeightsError(str(weights), "is several files", "give one .pt/.onnx path")
        det = cls(
            weights,  # type: ignore[arg-type]  # None is rejected with a clear WeightsError
            imgsz=config.imgsz,
            conf=config.conf,
            cache_dir=cache_dir,
            backend=config.backend,
            torch_threads=config.torch_threads,
        )
        det._keep = class_filter(config, (PERSON,))
        return det

    @property
    def name(self) -> str:
        return f"yolo-pose({self._loaded.path.name}@{self._loaded.imgsz},{self._loaded.backend})"

    @property
    def backend(self) -> str:
        return self._loaded.backend

    @property
    def imgsz(self) -> int:
        return self._loaded.imgsz

    @property
    def classes(self) -> tuple[int, ...]:
        return self._keep

    def detect(self, images: list[np.ndarray], imgsz: Sizes = None) -> list[Detections]:
        """``imgsz``: one inference size for all images or one per image (None = the configured size);
        each new size is exported/loaded once."""
        check_images(images, self.name)
        results = self._models.predict(list(images), self._conf, imgsz)
        return [result_to_detections(r, self._class_map, self._keep, keypoints=True) for r in results]

    def detect_batch(self, images, feeds=None, t_mono=None, imgsz=None) -> list[Detections]:
        return self.detect(images, imgsz=imgsz)

    def close(self) -> None:
        self._models.close()
