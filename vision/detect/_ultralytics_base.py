"""What the Ultralytics plugins (``yolo-pose``, ``yolo-detect``) share once their model is loaded."""

from __future__ import annotations

from typing import Any

import numpy as np

from vision.detect._ultralytics import LoadedModel, ModelsBySize, Sizes, result_to_detections
from vision.detect.base import Detector, check_images
from vision.types import Detections


class UltralyticsRunner(Detector):
    """Subclasses set ``_kind`` and ``_keypoints`` and fill ``_loaded``, ``_models``, ``_conf``,
    ``_class_map`` and ``_keep`` in their constructor."""

    _kind = "yolo"
    _keypoints = False
    _loaded: LoadedModel
    _models: ModelsBySize
    _conf: float
    _class_map: dict[int, int]
    _keep: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self._kind}({self._loaded.path.name}@{self._loaded.imgsz},{self._loaded.backend})"

    @property
    def backend(self) -> str:
        return self._loaded.backend

    @property
    def classes(self) -> tuple[int, ...]:
        return self._keep

    def detect(self, images: list[np.ndarray], imgsz: Sizes = None) -> list[Detections]:
        """``imgsz``: one inference size for all images or one per image (None = the configured size);
        each new size is exported/loaded once."""
        check_images(images, self.name)
        results = self._models.predict(list(images), self._conf, imgsz)
        return [result_to_detections(r, self._class_map, self._keep, keypoints=self._keypoints) for r in results]

    def detect_batch(self, images: list[np.ndarray], feeds: Any = None, t_mono: Any = None,
                     imgsz: Sizes = None) -> list[Detections]:  # fmt: skip
        return self.detect(images, imgsz=imgsz)

    def close(self) -> None:
        self._models.close()
