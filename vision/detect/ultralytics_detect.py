"""Any user-supplied Ultralytics detection model (.pt or .onnx, e.g. ``yolo11n.pt``) as a detector.

Set ``[detectors] vehicle_weights = "/abs/path/yolo11n.pt"``; the model's class names are matched to
our COCO classes by name (a custom model's other classes are dropped). A .pt is exported once to a
cached ONNX like the pose model.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Literal

from pydantic import Field

from vision.detect._ultralytics import Backend, load_model, names_to_coco
from vision.detect._ultralytics_base import UltralyticsRunner
from vision.detect.base import CLASS_IDS, DetectorConfigBase, Weights, class_filter
from vision.detect.errors import WeightsError
from vision.types import VEHICLE_CLASSES


class UltralyticsDetectConfig(DetectorConfigBase):
    """``[detectors.vehicles] type = "yolo-detect"`` (weights from ``detectors.vehicle_weights``)."""

    type: Literal["yolo-detect"] = "yolo-detect"
    imgsz: int = Field(640, ge=160, le=1280, multiple_of=32, description="inference size, px")
    backend: Backend = Field("auto", description="auto/onnx: cached ONNX export; torch: run the .pt")
    task: Literal["detect", "pose"] = Field("detect", description="the weights' Ultralytics task")
    torch_threads: int = Field(2, ge=1, le=64, description="torch threads when running the .pt")


class UltralyticsDetector(UltralyticsRunner):
    _kind = "yolo-detect"
    _keypoints = False

    type_key = "yolo-detect"

    def __init__(
        self,
        weights: Path,
        *,
        imgsz: int = 640,
        conf: float = 0.25,
        classes: tuple[int, ...] = VEHICLE_CLASSES,
        cache_dir: Path | None = None,
        backend: Backend = "auto",
        task: str = "detect",
        torch_threads: int = 2,
    ) -> None:
        self._loaded = load_model(weights, task, imgsz, cache_dir, backend, torch_threads)
        self._last = OrderedDict()
        self.last_area = []
        self._class_map = names_to_coco(getattr(self._loaded.model, "names", None) or {}, CLASS_IDS)
        self._keep = tuple(c for c in classes if c in self._class_map.values())
        if not self._keep:
            wanted = ", ".join(str(c) for c in classes)
            raise WeightsError(
                weights,
                f"has none of the wanted COCO classes ({wanted})",
                "use COCO-trained weights or set [detectors.vehicles] classes",
            )
        self._conf = conf

    @classmethod
    def from_config(cls, config: UltralyticsDetectConfig, weights: Weights, *, cache_dir: Path | None = None):
        if isinstance(weights, tuple):
            raise WeightsError(str(weights), "is several files", "give one .pt/.onnx path")
        return cls(
            weights,  # type: ignore[arg-type]  # None is rejected with a clear WeightsError
            imgsz=config.imgsz,
            conf=config.conf,
            classes=class_filter(config, VEHICLE_CLASSES),
            cache_dir=cache_dir,
            backend=config.backend,
            task=config.task,
            torch_threads=config.torch_threads,
        )
