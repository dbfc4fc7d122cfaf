"""``accuracy`` role of ``lookout bench vision``: does motion gating (and motion regions) miss people?

Over a clip's frames at ``--fps`` the pose detector runs twice:

(a) reference: the whole frame, every frame;
(b) the scheduler's way: ``MotionGate(MotionConfig()).check(img)``; if ``.detect``, ``detect_batch`` with
    the gate's motion ``regions`` (None = whole frame), else the previous detections are reused.

(b) is scored against (a): person recall and precision (greedy IoU >= 0.5 per frame), mean keypoint
distance of matched persons (normalised by the reference box height), and the share of frames and of
pixels that went through the detector (the detector's ``last_area`` when it has one: its crops are
larger than the motion regions). Works before and after ``MotionResult.regions`` /
``detect_batch(regions=...)`` exist (without them (b) is plain motion gating).
"""

from __future__ import annotations

import argparse
import inspect
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.vision_measure import Row

IOU_MIN = 0.5
KP_SCORE_MIN = 0.5  # keypoints compared only where both detections are this confident
MAX_SIDE_PX = 640  # the scheduler hands the detector frames downscaled to this longest side


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4 xyxy) with every box in ``b`` (m, 4)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), np.float32)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def greedy_match(ref: np.ndarray, got: np.ndarray, iou_min: float = IOU_MIN) -> list[tuple[int, int]]:
    """Pairs (i_ref, i_got), highest IoU first, each box used once, IoU >= ``iou_min``."""
    m = iou_matrix(ref, got)
    pairs = sorted(((float(m[i, j]), i, j) for i in range(m.shape[0]) for j in range(m.shape[1])
                    if m[i, j] >= iou_min), reverse=True)
    used_r: set[int] = set()
    used_g: set[int] = set()
    out = []
    for _, i, j in pairs:
        if i not in used_r and j not in used_g:
            used_r.add(i)
            used_g.add(j)
            out.append((i, j))
    return out


def keypoint_error(ref_kp: np.ndarray, got_kp: np.ndarray, box_h: float) -> float | None:
    """Mean distance of keypoints confident in both (17, 3 arrays), over the box height; None if none."""
    both = (ref_kp[:, 2] >= KP_SCORE_MIN) & (got_kp[:, 2] >= KP_SCORE_MIN)
    if not both.any() or box_h <= 0:
        return None
    d = np.linalg.norm(ref_kp[both, :2] - got_kp[both, :2], axis=1)
    return float(d.mean() / box_h)


def score(pairs: list[tuple[Any, Any]]) -> Row:
    """Recall/precision/keypoint error of (reference, gated) ``Detections`` pairs, one per frame."""
    n_ref = n_got = matched = 0
    kp_errs: list[float] = []
    for ref, got in pairs:
        n_ref += len(ref)
        n_got += len(got)
        for i, j in greedy_match(ref.xyxy, got.xyxy):
            matched += 1
            if ref.keypoints is not None and got.keypoints is not None:
                e = keypoint_error(ref.keypoints[i], got.keypoints[j], float(ref.xyxy[i, 3] - ref.xyxy[i, 1]))
                if e is not None:
                    kp_errs.append(e)
    return {
        "persons_ref": n_ref,
        "persons_gated": n_got,
        "matched": matched,
        "recall": round(matched / n_ref, 3) if n_ref else None,
        "precision": round(matched / n_got, 3) if n_got else None,
        "kp_err_mean": round(float(np.mean(kp_errs)), 4) if kp_errs else None,
    }


def region_area_frac(regions: Any, shape: tuple[int, ...]) -> float:
    """Share of the frame's pixels inside ``regions`` ((x0, y0, x1, y1) boxes; None = the whole frame),
    overlaps counted once."""
    if regions is None:
        return 1.0
    h, w = shape[:2]
    mask = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in regions:
        mask[max(0, int(y0)) : max(0, int(y1)), max(0, int(x0)) : max(0, int(x1))] = True
    return float(mask.mean())


def frames_at(clip: Path, fps: float, max_side_px: int = MAX_SIDE_PX) -> Iterator[tuple[float, np.ndarray]]:
    """(t_s, BGR image) of ``clip`` at ``fps`` (frames dropped evenly), downscaled like the scheduler does."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    native = cap.get(cv2.CAP_PROP_FPS) or fps
    k, t_next = 0, 0.0
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                return
            t = k / native
            k += 1
            if t < t_next - 1e-9:
                continue
            t_next += 1.0 / fps
            h, w = img.shape[:2]
            scale = max_side_px / max(h, w)
            if scale < 1:
                img = cv2.resize(img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            yield t, img
    finally:
        cap.release()


def accepts_regions(detector: Any) -> bool:
    try:
        return "regions" in inspect.signature(detector.detect_batch).parameters
    except (TypeError, ValueError):
        return False


def compare(detector: Any, frames: Iterator[tuple[float, np.ndarray]], motion: Any = None) -> Row:
    """Run (a) and (b) over ``frames`` with one detector; feed names keep their caches apart."""
    from vision.config import MotionConfig
    from vision.motion import MotionGate

    gate = MotionGate(motion or MotionConfig())
    use_regions = accepts_regions(detector)
    pairs = []
    prev = None
    n = detected = 0
    area = 0.0
    t_whole = t_gated = 0.0
    for t, img in frames:
        if n == 0:
            detector.detect_batch([img], ["warm-up"])  # the first call loads/initialises: not timed
        t0 = time.perf_counter()
        (ref,) = detector.detect_batch([img], ["whole"])
        t1 = time.perf_counter()
        res = gate.check(img, now_mono=t)  # clip time, so max_skip_s refreshes as in a live feed
        if res.detect or prev is None:
            regions = getattr(res, "regions", None)
            kw = {"regions": [regions]} if use_regions else {}
            (prev,) = detector.detect_batch([img], ["clip"], **kw)
            detected += 1
            # What the network saw: the detector's own count (crops grow around regions) if it keeps one.
            last = getattr(detector, "last_area", None)
            area += last[0] if last else region_area_frac(regions if use_regions else None, img.shape)
        t2 = time.perf_counter()
        t_whole += t1 - t0
        t_gated += t2 - t1
        pairs.append((ref, prev))
        n += 1
    out = score(pairs)
    out.update({
        "frames": n,
        "detected_frac": round(detected / n, 3) if n else None,
        "area_frac": round(area / n, 3) if n else None,
        "regions_used": use_regions,
        "detect_ms_whole": round(1000 * t_whole / n, 1) if n else None,
        "detect_ms_gated": round(1000 * t_gated / n, 1) if n else None,
    })
    return out


def role_accuracy(a: argparse.Namespace, weights: Path, clip: Path) -> Row:
    """(a) vs (b) on ``clip`` with a fresh detector (no caches carried over from another clip)."""
    from vision.detect.base import build_detector
    from vision.detect.ultralytics_pose import PoseDetectorConfig

    with build_detector(PoseDetectorConfig(imgsz=a.imgsz), weights) as det:
        r = compare(det, frames_at(clip, a.fps))
    r["role"] = "accuracy"
    return r
