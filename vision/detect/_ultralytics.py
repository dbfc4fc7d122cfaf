"""Loading Ultralytics weights the CPU-friendly way: export a .pt ONCE to ONNX, cache it, run the ONNX.

The export has dynamic input shapes (one file for every ``imgsz``, letterboxed to the frame's own
aspect ratio); the cache key is the weights' SHA-256, so a changed .pt never reuses a stale export.
``export()`` writes next to its input, so the .pt is copied into a private temp directory inside the
cache first (never into site-packages); the finished file is moved into place with ``os.replace``,
so concurrent workers at worst export twice.
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


def onnx_cache_path(weights: Path, cache_dir: Path) -> Path:
    """Where the export of ``weights`` is cached: one dynamic-shape ONNX per weights file (any imgsz)."""
    return cache_dir / "onnx" / f"{sha256_file(weights)[:16]}-dyn" / f"{weights.stem}.onnx"


def export_onnx(weights: Path, task: str, imgsz: int, cache_dir: Path) -> Path:
    """The cached ONNX export of ``weights``, exporting it first if needed.

    The export has dynamic input shapes, so one file serves every ``imgsz`` and every aspect ratio:
    Ultralytics letterboxes a 640x360 frame at imgsz 320 to 192x320 instead of a padded 320x320
    (about 40 % less work), and a crop of a frame runs at its own small size. ``imgsz`` is only the
    size the exporter traces at."""
    target = onnx_cache_path(weights, cache_dir)
    if target.is_file():
        return target
    from ultralytics import YOLO

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        copy = tmp / weights.name
        shutil.copy2(weights, copy)
        log.info("exporting %s to ONNX (dynamic shapes; once, cached in %s)", weights.name, target.parent)
        model = YOLO(str(copy), task=task)
        if model.task != task:
            raise WeightsError(weights, f"is a {model.task} model, not {task}", f"use {task} weights here")
        exported = Path(model.export(format="onnx", imgsz=imgsz, dynamic=True, simplify=True, device="cpu"))
        os.replace(exported, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def onnx_metadata(path: Path) -> tuple[dict[str, str], bool]:
    """Ultralytics' metadata stored in an exported ONNX file (task, imgsz, names, ...), and whether
    its input height/width are dynamic."""
    import onnxruntime

    try:
        sess = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
        raise WeightsError(path, f"is not a readable ONNX model ({type(exc).__name__})", "re-export it") from None
    dynamic = any(not isinstance(d, int) for d in sess.get_inputs()[0].shape[2:])
    return dict(sess.get_modelmeta().custom_metadata_map), dynamic


def onnx_imgsz(meta: dict[str, str], fallback: int) -> int:
    raw = meta.get("imgsz", "").strip("[]() ")
    try:
        return int(raw.split(",")[0])
    except ValueError:
        return fallback


Sizes = int | Sequence[int | None] | None


@dataclass
class LoadedModel:
    """An Ultralytics model ready to predict, and how it runs.

    A torch model and a dynamic-shape ONNX serve any ``imgsz``; an ONNX file with a fixed input
    shape (a user's own export) serves only its own size (other requests use it, logged once)."""

    model: Any  # ultralytics.YOLO
    backend: Literal["onnx", "torch"]
    path: Path
    imgsz: int
    task: str
    torch_threads: int = 2
    fixed_size: bool = False
    direct: Any = None  # vision.detect.onnx_direct.DirectOnnx: the export run without Ultralytics' predictor
    _predicted: bool = False
    _warned: bool = False

    def size(self, imgsz: int | None) -> int:
        """The inference size actually used for a requested ``imgsz`` (None = the configured one)."""
        if imgsz is None or imgsz == self.imgsz:
            return self.imgsz
        if self.fixed_size:
            if not self._warned:
                self._warned = True
                log.warning("%s has a fixed input size %d; imgsz %d requested, using %d",
                            self.path.name, self.imgsz, imgsz, self.imgsz)
            return self.imgsz
        return imgsz

    def predict(self, images: list[np.ndarray], conf: float, imgsz: Sizes = None) -> list[Any]:
        """Results in image order; ``imgsz`` one size for all, or one (or None = default) per image."""
        if imgsz is None or isinstance(imgsz, int):
            sizes: list[int | None] = [imgsz] * len(images)
        else:
            sizes = list(imgsz)
            if len(sizes) != len(images):
                raise ValueError(f"{len(images)} images but {len(sizes)} imgsz values")
        out: list[Any] = []
        # One image per call: the images of a batch differ in size, and on CPU batching gains nothing.
        for img, size in zip(images, sizes, strict=True):
            if self.direct is not None:
                out.append(self.direct.predict(img, conf, self.size(size)))
                continue
            out.extend(self.model.predict(img, imgsz=self.size(size), conf=conf, device="cpu", verbose=False))
            if not self._predicted:
                self._predicted = True
                if self.backend == "torch":
                    import torch

                    torch.set_num_threads(self.torch_threads)
        return out

    def close(self) -> None:
        self.model = None
        if self.direct is not None:
            self.direct.close()


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

    limit_onnxruntime_threads(1)  # see its docstring; a worker process set its own count first: kept
    if path.suffix.lower() == ".onnx":
        meta, dynamic = onnx_metadata(path)
        file_task = meta.get("task", task)
        if file_task != task:
            raise WeightsError(path, f"is a {file_task} model, not {task}", f"use {task} weights here")
        if dynamic:
            return LoadedModel(YOLO(str(path), task=task), "onnx", path, imgsz, task, torch_threads,
                               direct=_direct(path))
        size = onnx_imgsz(meta, imgsz)
        return LoadedModel(YOLO(str(path), task=task), "onnx", path, size, task, torch_threads, fixed_size=True)

    if backend in ("auto", "onnx"):
        if cache_dir is None:
            log.warning("no cache dir for the ONNX export of %s; running the torch .pt (slower)", path.name)
        else:
            try:
                onnx = export_onnx(path, task, imgsz, cache_dir)
                if backend == "auto":  # what this CPU measured as fastest (lookout bench vision --paths)
                    from vision.detect._ultralytics_paths import chosen_onnx

                    onnx = chosen_onnx(onnx)
                return LoadedModel(YOLO(str(onnx), task=task), "onnx", onnx, imgsz, task, torch_threads,
                                   direct=_direct(onnx))
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


def _direct(path: Path) -> Any:
    """The export run straight through ONNX Runtime (``vision.detect.onnx_direct``), or None to keep
    Ultralytics' predictor (not an Ultralytics pose/detect export, or ``LOOKOUT_ONNX_DIRECT=0``)."""
    if os.environ.get("LOOKOUT_ONNX_DIRECT", "1") == "0":
        return None
    from vision.detect.onnx_direct import DirectOnnx

    return DirectOnnx.from_file(path)


def result_to_detections(result: Any, class_map: dict[int, int], keep: tuple[int, ...], keypoints: bool) -> Detections:
    """One Ultralytics ``Results`` (or a ``onnx_direct.RawResult``) -> ``Detections`` with our class ids,
    filtered to ``keep``."""
    from vision.detect.onnx_direct import RawResult

    if isinstance(result, RawResult):
        cls = np.array([class_map.get(int(c), -1) for c in result.cls], np.int32)
        kpts = None
        if keypoints:
            ok = result.keypoints is not None and result.keypoints.shape[1:] == (17, 3)
            kpts = result.keypoints.astype(np.float32) if ok else np.zeros((len(cls), 17, 3), np.float32)
        det = Detections(result.xyxy, result.conf, cls, keypoints=kpts)
        return det[np.isin(det.class_id, keep)]
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


def limit_onnxruntime_threads(threads: int) -> None:
    """Make ONNX Runtime sessions created in this process without explicit options use ``threads``
    intra-op threads and no spin-waiting (its default is one spinning thread per core in EVERY process,
    so N workers would fight over N cores; Ultralytics gives no way to pass session options). The
    first call in a process wins: a scheduler worker sets its share of the cores before loading;
    ``load_model`` sets 1 for in-process use (``lookout detect``, ``eval``, the benches). Measured on a
    2-core Xeon, pose network at 192x320: 2 spinning threads 24 ms CPU per frame (wall 21), 2 threads
    without spinning 15.9 ms (wall 12.1), 1 thread 11.7 ms (wall 11.8): a second thread buys no time."""
    try:
        import onnxruntime
    except ImportError:
        return
    original = onnxruntime.InferenceSession.__init__
    if getattr(original, "_lookout_limited", False):
        return

    def init(self, path_or_bytes, sess_options=None, *args, **kwargs):
        if sess_options is None:
            sess_options = onnxruntime.SessionOptions()
            sess_options.intra_op_num_threads = threads
            sess_options.inter_op_num_threads = 1
            sess_options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        original(self, path_or_bytes, sess_options, *args, **kwargs)

    init._lookout_limited = True  # type: ignore[attr-defined]
    onnxruntime.InferenceSession.__init__ = init  # this worker process only
