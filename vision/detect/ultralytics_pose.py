"""People with 17 COCO keypoints from an Ultralytics pose model (the packaged YOLO11n-pose).

The .pt is exported once to a dynamic-shape ONNX, cached, and run by Ultralytics on ONNX Runtime
(rectangular letterbox: a 16:9 frame costs ~40 % less than a padded square); torch is the fallback
if export fails. With motion regions only the moving parts of a frame are re-detected.
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
from vision.types import PERSON


class PoseDetectorConfig(DetectorConfigBase):
    """``[detectors.people] type = "yolo-pose"``: persons + keypoints."""

    type: Literal["yolo-pose"] = "yolo-pose"
    imgsz: int = Field(320, ge=160, le=1280, multiple_of=32, description="inference size, px (per feed)")
    backend: Backend = Field("auto", description="auto/onnx: cached ONNX export; torch: run the .pt")
    torch_threads: int = Field(2, ge=1, le=64, description="torch threads when running the .pt")


class UltralyticsPoseDetector(UltralyticsRunner):
    _kind = "yolo-pose"
    _keypoints = True

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
        self._loaded = load_model(weights, "pose", imgsz, cache_dir, backend, torch_threads)
        self._last = OrderedDict()
        self.last_area = []
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
    def imgsz(self) -> int:
        return self._loaded.imgsz
