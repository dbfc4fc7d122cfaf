"""The detector plugin interface (Frigate style) and the factory that picks a plugin by config ``type``.

A detector takes a batch of BGR uint8 images of any size and returns one framework-neutral
``Detections`` per image, in COCO class ids (``vision.types``). Each plugin module holds its pydantic
config subclass (``type: Literal[...]``) next to its code; ``build_detector`` imports the plugin only
when it is used, so loading a config never imports Ultralytics, torch or cv2.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vision.detect.errors import DetectorError, UnknownDetectorError
from vision.detect.regions import BatchRegions
from vision.types import CLASS_NAMES, Detections

CLASS_IDS = {name: cid for cid, name in CLASS_NAMES.items()}

# type key -> "module:Class"; a new plugin is a new module plus one line here.
PLUGINS: dict[str, str] = {
    "yolo-pose": "vision.detect.ultralytics_pose:UltralyticsPoseDetector",
    "yolo-detect": "vision.detect.ultralytics_detect:UltralyticsDetector",
    "ssd-mobilenet": "vision.detect.ssd_mobilenet:SsdMobilenetDetector",
}

Weights = Path | tuple[Path, ...] | None


class DetectorConfigBase(BaseModel):
    """Fields every detector plugin has. Plugins subclass this with ``type: Literal["..."]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    conf: float = Field(0.25, gt=0, lt=1, description="minimum confidence kept")
    classes: tuple[str, ...] = Field(
        (), description="class names to keep (person, bicycle, car, motorcycle, bus, truck); empty = plugin default"
    )

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in CLASS_IDS]
        if unknown:
            raise ValueError(f"unknown class {unknown[0]!r}; known: {', '.join(CLASS_IDS)}")
        return value


class Detector(ABC):
    """Batch in, one ``Detections`` per image out. Implementations are not thread-safe; one per worker."""

    type_key: ClassVar[str]

    @property
    @abstractmethod
    def name(self) -> str:
        """Short human name, e.g. ``yolo-pose(yolo11n-pose.onnx@320)``."""

    @property
    @abstractmethod
    def classes(self) -> tuple[int, ...]:
        """COCO class ids this detector can return."""

    @abstractmethod
    def detect(self, images: list[np.ndarray]) -> list[Detections]:
        """Detect objects in each BGR uint8 image (HxWx3, any size); boxes in that image's pixels."""

    def detect_batch(
        self,
        images: list[np.ndarray],
        feeds: Sequence[str] | None = None,
        t_mono: Sequence[float] | None = None,
        imgsz: int | Sequence[int | None] | None = None,
        regions: BatchRegions = None,
    ) -> list[Detections]:
        """The scheduler's entry point: images of several feeds with each image's feed name, time,
        inference size and motion regions (per image: boxes where something moved, or None = look
        at the whole frame). Every detector accepts it; each uses what it understands (the composite
        keys its vehicle cache by feed, the Ultralytics plugins honour ``imgsz`` and re-detect only
        inside the regions). The result always describes the whole frame."""
        return self.detect(images)

    def close(self) -> None:  # noqa: B027 - optional hook, most detectors hold nothing to release
        """Release the model. The detector must not be used afterwards."""

    def __enter__(self) -> Detector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_images(images: Sequence[np.ndarray], who: str) -> None:
    """Raise ``DetectorError`` unless every image is a BGR uint8 HxWx3 array."""
    for i, img in enumerate(images):
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            shape = getattr(img, "shape", None)
            dtype = getattr(img, "dtype", type(img).__name__)
            raise DetectorError(
                f"{who}: image {i} must be a BGR uint8 HxWx3 array, got shape {shape} dtype {dtype}"
            )


def class_filter(config: DetectorConfigBase, default: tuple[int, ...]) -> tuple[int, ...]:
    """The COCO ids to keep: the config's ``classes`` by name, else the plugin's default."""
    return tuple(CLASS_IDS[c] for c in config.classes) if config.classes else default


def build_detector(config: DetectorConfigBase, weights: Weights = None, *, cache_dir: Path | None = None) -> Detector:
    """Build the plugin named by ``config.type``.

    ``weights`` is an absolute path (or, for the SSD graph, ``(graph.pb, graph.pbtxt)``); the caller
    resolves packaged or configured weights (``lookout.models``). ``cache_dir`` is a writable
    directory for derived files (exported ONNX models).
    """
    target = PLUGINS.get(config.type)
    if target is None:
        raise UnknownDetectorError(config.type, tuple(PLUGINS))
    module_name, cls_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls.from_config(config, weights, cache_dir=cache_dir)
