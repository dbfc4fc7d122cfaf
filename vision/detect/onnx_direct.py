"""Ultralytics-exported ONNX (pose, detect) run straight through ONNX Runtime, without the predictor.

Ultralytics' predictor around an ONNX session costs ~5 ms per frame on a 2-core Xeon beyond the
network itself (torch tensors for a uint8 image, the generic NMS, ``Results`` objects), a third of
the 13 ms the pose network takes at 320. ``DirectOnnx`` does the same steps in numpy and OpenCV,
measured to give the same people (``tests/vision/test_onnx_direct.py``):

- **letterbox** as Ultralytics does for a dynamic-shape export (``auto``: the frame scaled to fit
  ``imgsz`` and padded with grey 114 only up to the next multiple of the stride, centred);
- **network**: one ``(1, 3, h, w)`` float RGB blob in [0, 1];
- **decode**: output ``(1, 4 + classes + 3 x keypoints, anchors)``, centre-size boxes, class scores
  above ``conf``, per-class greedy NMS at IoU 0.7, at most 300 boxes, highest score first;
- **back to the frame**: minus the padding, divided by the scale, clipped (boxes and keypoints).

It accepts only what it can read: an Ultralytics export (metadata ``task`` pose or detect, ``names``,
``stride``, ``kpt_shape`` for pose) with a dynamic input; ``from_file`` returns None otherwise and
the caller keeps Ultralytics' predictor.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

IOU = 0.7  # Ultralytics' predict default
MAX_DET = 300
PAD_VALUE = 114


@dataclass(frozen=True, slots=True)
class RawResult:
    """One image's boxes in frame pixels with the model's class indices (``keypoints`` (n, k, 3) or None)."""

    xyxy: np.ndarray  # (n, 4) float32
    conf: np.ndarray  # (n,) float32
    cls: np.ndarray  # (n,) int64, the model's class index
    keypoints: np.ndarray | None


@dataclass(frozen=True, slots=True)
class Letterbox:
    scale: float
    left: int
    top: int
    blob: np.ndarray  # (1, 3, h, w) float32 RGB in [0, 1]


def letterbox(img: np.ndarray, imgsz: int, stride: int) -> Letterbox:
    """Ultralytics' ``LetterBox(auto=True, center=True)`` of a BGR frame, as a network blob."""
    import cv2

    h, w = img.shape[:2]
    r = min(imgsz / h, imgsz / w)
    nw, nh = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = (imgsz - nw) % stride / 2, (imgsz - nh) % stride / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    if (nw, nh) != (w, h):
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    if top or bottom or left or right:
        img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    blob = cv2.dnn.blobFromImage(img, scalefactor=1 / 255.0, swapRB=True)
    return Letterbox(r, left, top, blob)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Greedy non-maximum suppression; indices kept, highest score first."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]).clip(0) * (boxes[:, 3] - boxes[:, 1]).clip(0)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = (xx2 - xx1).clip(0) * (yy2 - yy1).clip(0)
        union = area[i] + area[rest] - inter
        order = rest[inter <= iou * np.maximum(union, 1e-9)]
    return np.array(keep, np.int64)


class DirectOnnx:
    """One ONNX Runtime session of an Ultralytics pose/detect export; ``predict(img, conf, imgsz)``."""

    def __init__(self, session: Any, task: str, n_classes: int, stride: int, kpt_shape: tuple[int, int] | None):
        self._session = session
        self._input = session.get_inputs()[0].name
        self.task = task
        self.n_classes = n_classes
        self.stride = stride
        self.kpt_shape = kpt_shape

    @classmethod
    def from_file(cls, path: Path) -> DirectOnnx | None:
        """A runner for ``path``, or None when it is not a dynamic Ultralytics pose/detect export."""
        import onnxruntime

        try:
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            meta = session.get_modelmeta().custom_metadata_map
            task = meta.get("task", "")
            names = ast.literal_eval(meta.get("names", "{}"))
            stride = int(float(meta.get("stride", "32")))
            kpt = tuple(ast.literal_eval(meta["kpt_shape"])) if task == "pose" else None
            shape = session.get_inputs()[0].shape
            out = session.get_outputs()[0].shape
        except Exception as exc:  # unreadable metadata: Ultralytics' own predictor will say what is wrong
            log.info("%s: not run directly (%s)", path.name, exc)
            return None
        dynamic = all(isinstance(d, str) for d in shape[2:])
        if task not in ("pose", "detect") or not names or not dynamic or len(out) != 3:
            return None
        if task == "pose" and (kpt is None or len(kpt) != 2):
            return None
        if isinstance(out[1], int) and out[1] != 4 + len(names) + (kpt[0] * kpt[1] if kpt else 0):
            return None  # an end-to-end or otherwise different head
        return cls(session, task, len(names), stride, kpt)  # type: ignore[arg-type]

    def predict(self, img: np.ndarray, conf: float, imgsz: int) -> RawResult:
        imgsz = -(-int(imgsz) // self.stride) * self.stride  # a stride multiple, as Ultralytics rounds it up
        lb = letterbox(img, imgsz, self.stride)
        y = self._session.run(None, {self._input: lb.blob})[0][0]  # (4 + nc + nk, anchors)
        nc = self.n_classes
        scores_all = y[4 : 4 + nc]
        best = scores_all.argmax(axis=0) if nc > 1 else np.zeros(y.shape[1], np.int64)
        score = scores_all[best, np.arange(y.shape[1])] if nc > 1 else scores_all[0]
        m = score > conf
        h, w = img.shape[:2]
        if not m.any():
            return self._empty()
        cxcywh, score, cls = y[:4, m].T, score[m], best[m].astype(np.int64)
        boxes = np.empty_like(cxcywh)
        boxes[:, :2] = cxcywh[:, :2] - cxcywh[:, 2:] / 2
        boxes[:, 2:] = cxcywh[:, :2] + cxcywh[:, 2:] / 2
        keep = nms(boxes + (cls * 7680.0)[:, None], score, IOU)[:MAX_DET]
        boxes, score, cls = boxes[keep], score[keep], cls[keep]
        pad = np.array([lb.left, lb.top], np.float32)
        boxes = (boxes - np.tile(pad, 2)) / lb.scale
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        kpts = None
        if self.kpt_shape is not None:
            k, d = self.kpt_shape
            kpts = y[4 + nc :, m][:, keep].T.reshape(-1, k, d).copy()
            kpts[..., :2] = (kpts[..., :2] - pad) / lb.scale
            kpts[..., 0] = kpts[..., 0].clip(0, w)
            kpts[..., 1] = kpts[..., 1].clip(0, h)
        return RawResult(boxes.astype(np.float32), score.astype(np.float32), cls, kpts)

    def _empty(self) -> RawResult:
        kp = np.zeros((0, *self.kpt_shape), np.float32) if self.kpt_shape else None
        return RawResult(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), kp)

    def close(self) -> None:
        self._session = None
