"""Loading Ultralytics weights the CPU-friendly way: export a .pt ONCE to ONNX, cache it, run the ONNX.

The cache key is the weights' SHA-256 plus ``imgsz`` (an exported ONNX has a fixed input size), so
a changed .pt never reuses a stale export. ``export()`` writes next to its input, so the .pt is copied
into a private temp directory inside the cache first (never into site-packages); the finished file
is moved into place with ``os.replace``, so concurrent workers at worst export twice.
If export fails the torch .pt runs instead (logged, with the reason), with ``torch.set_num_threads``
raised after the first predict (Ultralytics drops torch to 1 thread on a 2-core machine).

Ultralytics must already be configured offline (``YOLO_OFFLINE`` etc., set by the caller).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vision.detect.errors import WeightsError
from vision.types import Detections

log = logging.getLogger(__name__)

Backend = Literal["auto", "onnx", "torch"]


def one_line(exc: BaseException, limit: int = 160) -> str:
    """An exception as one short line (library messages are often multi-line)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_weights(weights: Path | None, what: str) -> Path:
    """An existing absolute .pt/.onnx file, else ``WeightsError``."""
    if weights is None:
        raise WeightsError("(none)", f"{what} needs a weights file", "pass an absolute .pt/.onnx path")
    path = Path(weights).expanduser()
    if not path.is_absolute():
        raise WeightsError(path, "is not an absolute path", "give an absolute path (bare names would download)")
    if path.suffix.lower() not in {".pt", ".onnx"}:
        raise WeightsError(path, "is not a .pt or .onnx file", "use Ultralytics .pt or exported .onnx weights")
    if not path.is_file():
        raise WeightsError(path, "does not exist", "fix the path in your lookout.toml [detectors]")
    return path


def onnx_cache_path(weights: Path, imgsz: int, cache_dir: Path) -> Path:
    return cache_dir / "onnx" / f"{sha256_file(weights)[:16]}-{imgsz}" / f"{weights.stem}.onnx"


def export_onnx(weights: Path, task: str, imgsz: int, cache_dir: Path) -> Path:
    """The cached ONNX export of ``weights`` at ``imgsz``, exporting it first if needed."""
    target = onnx_cache_path(weights, imgsz, cache_dir)
    if target.is_file():
        return target
    from ultralytics import YOLO

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        copy = tmp / weights.name
        shutil.copy2(weights, copy)
        log.info("exporting %s to ONNX at imgsz %d (once; cached in %s)", weights.name, imgsz, target.parent)
        model = YOLO(str(copy), task=task)
        if model.task != task:
            raise WeightsError(weights, f"is a {model.task} model, not {task}", f"use {task} weights here")
        exported = Path(model.export(format="onnx", imgsz=imgsz, simplify=True, device="cpu"))
        os.replace(exported, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def onnx_metadata(path: Path) -> dict[str, str]:
    """Ultralytics' metadata stored in an exported ONNX file (task, imgsz, names, ...)."""
    import onnxruntime

    try:
        sess = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
        raise WeightsError(path, f"is not a readable ONNX model ({type(exc).__name__})", "re-export it") from None
    return dict(sess.get_modelmeta().custom_metadata_map)


def onnx_imgsz(meta: dict[str, str], fallback: int) -> int:
    raw = meta.get("imgsz", "").strip("[]() ")
    try:
        return int(raw.split(",")[0])
    except ValueError:
        return fallback


@dataclass
class LoadedModel:
    """An Ultralytics model ready to predict, and how it runs."""

    model: Any  # ultralytics.YOLO
    backend: Literal["onnx", "torch"]
    path: Path
    imgsz: int
    task: str
    torch_threads: int = 2
    _predicted: bool = False

    fixed_size: bool = False  # a user-supplied .onnx: its input size cannot change

    def predict(self, images: list[np.ndarray], conf: float, imgsz: int | None = None) -> list[Any]:
        size = self.imgsz if imgsz is None or self.fixed_size else imgsz
        out: list[Any] = []
        # One image per call: exported ONNX has a fixed batch of 1, and on CPU batching gains little.
        for img in images:
            out.extend(self.model.predict(img, imgsz=size, conf=conf, device="cpu", verbose=False))
            if not self._predicted:
                self._predicted = True
                if self.backend == "torch":
                    import torch

                    torch.set_num_threads(self.torch_threads)
        return out


Sizes = int | Sequence[int | None] | None


class ModelsBySize:
    """One model per inference size, loaded on first use (an exported ONNX has a fixed input size).

    The default size loads at once, so bad weights fail when the detector is built. A torch model
    serves every size; a user-supplied .onnx serves only its own (other requests use it, logged once).
    """

    MAX_SIZES = 4

    def __init__(self, weights: Path | None, task: str, imgsz: int, cache_dir: Path | None,
                 backend: Backend, torch_threads: int) -> None:
        self._args = (weights, task, cache_dir, backend, torch_threads)
        self.default = load_model(weights, task, imgsz, cache_dir, backend, torch_threads)
        self._by_size: dict[int, LoadedModel] = {self.default.imgsz: self.default}
        self._warned = False

    def get(self, imgsz: int | None) -> LoadedModel:
        if imgsz is None:
            return self.default
        known = self._by_size.get(imgsz)
        if known is not None:
            return known
        if self.default.fixed_size or self.default.backend == "torch":
            if self.default.fixed_size and not self._warned:
                self._warned = True
                log.warning("%s has a fixed input size %d; imgsz %d requested, using %d",
                            self.default.path.name, self.default.imgsz, imgsz, self.default.imgsz)
            return self.default
        if len(self._by_size) >= self.MAX_SIZES:
            raise WeightsError(self.default.path, f"already runs at {len(self._by_size)} sizes",
                               f"use at most {self.MAX_SIZES} different imgsz values per worker")
        weights, task, cache_dir, backend, threads = self._args
        model = load_model(weights, task, imgsz, cache_dir, backend, threads)
        self._by_size[imgsz] = model
        return model

    def predict(self, images: list[np.ndarray], conf: float, imgsz: Sizes = None) -> list[Any]:
        """Results in image order; ``imgsz`` one size for all, or one (or None = default) per image."""
        if imgsz is None or isinstance(imgsz, int):
            return self.get(imgsz).predict(images, conf, imgsz)
        sizes = list(imgsz)
        if len(sizes) != len(images):
            raise ValueError(f"{len(images)} images but {len(sizes)} imgsz values")
        out: list[Any] = [None] * len(images)
        for size in dict.fromkeys(sizes):
            idx = [i for i, s in enumerate(sizes) if s == size]
            for i, r in zip(idx, self.get(size).predict([images[i] for i in idx], conf, size), strict=True):
                out[i] = r
        return out

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(self._by_size)

    def close(self) -> None:
        for m in self._by_size.values():
            m.model = None


def load_model(
    weights: Path | None,
    task: str,
    imgsz: int,
    cache_dir: Path | None,
    backend: Backend = "auto",
    torch_threads: int = 2,
) -> LoadedModel:
    """Load ``weights`` for ``task``; a .pt is exported to a cached ONNX unless ``backend='torch'``."""
    path = check_weights(weights, f"{task} detector")
    from ultralytics import YOLO

    if path.suffix.lower() == ".onnx":
        meta = onnx_metadata(path)
        file_task = meta.get("task", task)
        if file_task != task:
            raise WeightsError(path, f"is a {file_task} model, not {task}", f"use {task} weights here")
        size = onnx_imgsz(meta, imgsz)
        return LoadedModel(YOLO(str(path), task=task), "onnx", path, size, task, torch_threads, fixed_size=True)

    if backend in ("auto", "onnx"):
        if cache_dir is None:
            log.warning("no cache dir for the ONNX export of %s; running the torch .pt (slower)", path.name)
        else:
            try:
                onnx = export_onnx(path, task, imgsz, cache_dir)
                return LoadedModel(YOLO(str(onnx), task=task), "onnx", onnx, imgsz, task, torch_threads)
            except WeightsError:
                raise
            except Exception as exc:  # export can fail in many library-specific ways; torch still works
                if backend == "onnx":
                    raise WeightsError(path, f"ONNX export failed ({one_line(exc)})", "use backend 'torch'") from None
                log.warning("ONNX export of %s failed (%s); running the torch .pt (slower)", path.name, one_line(exc))
    try:
        model = YOLO(str(path), task=task)
    except Exception as exc:  # torch.load / Ultralytics raise many types for a bad file
        problem = f"cannot be loaded ({type(exc).__name__}: {one_line(exc)})"
        raise WeightsError(path, problem, "check the file") from None
    if getattr(model, "task", task) != task:
        raise WeightsError(path, f"is a {model.task} model, not {task}", f"use {task} weights here")
    return LoadedModel(model, "torch", path, imgsz, task, torch_threads)


def names_to_coco(names: dict[int, str], coco_ids: dict[str, int]) -> dict[int, int]:
    """Model class index -> our COCO id, matched by name (a custom model's other classes are dropped)."""
    return {int(i): coco_ids[n] for i, n in names.items() if n in coco_ids}


def result_to_detections(result: Any, class_map: dict[int, int], keep: tuple[int, ...], keypoints: bool) -> Detections:
    """One Ultralytics ``Results`` -> ``Detections`` with our class ids, filtered to ``keep``."""
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        empty = Detections.empty()
        return empty if not keypoints else Detections(
            empty.xyxy, empty.confidence, empty.class_id, keypoints=np.zeros((0, 17, 3), np.float32)
        )
    xyxy = boxes.xyxy.cpu().numpy().astype(np.float32)
    conf = boxes.conf.cpu().numpy().astype(np.float32)
    model_cls = boxes.cls.cpu().numpy().astype(np.int64)
    cls = np.array([class_map.get(int(c), -1) for c in model_cls], np.int32)
    kpts = None
    if keypoints:
        if result.keypoints is not None and result.keypoints.data.shape[1:] == (17, 3):
            kpts = result.keypoints.data.cpu().numpy().astype(np.float32)
        else:
            kpts = np.zeros((len(xyxy), 17, 3), np.float32)
    det = Detections(xyxy, conf, cls, keypoints=kpts)
    return det[np.isin(det.class_id, keep)]
