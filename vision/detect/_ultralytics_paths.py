"""Pick the fastest way to run the pose network on *this* CPU, with its accuracy checked against fp32.

Candidates for a cached dynamic-shape ONNX export ``yolo11n-pose.onnx``:

- ``onnx-fp32``: the export as it is (ONNX Runtime, CPU);
- ``onnx-int8``: a static int8 QDQ copy (``<stem>-int8-qdq.onnx`` beside it), calibrated on real frames
  (per-channel int8 weights, uint8 activations; the pose/box head stays fp32). Fast where the CPU has
  int8 dot-product instructions (AVX-512 VNNI, AVX-VNNI, AMX), no faster on AVX2-only cores.

``measure_paths`` times every candidate on the same frames, interleaved (call by call, so load from
other processes hits each alike), one thread, full Ultralytics pre/post-processing included, and checks
its detections against ``onnx-fp32`` (persons matched at IoU >= 0.5: recall; keypoint error in pixels).
``choose_path`` keeps the fastest candidate (by its fastest frame: medians carry other processes'
load) whose recall is >= ``MIN_RECALL`` and writes the result to
``paths-<cpu>.json`` beside the export; ``load_model`` reads it at start-up (``chosen_onnx``), so each
machine runs what it measured as fastest. ``lookout bench vision --paths`` measures and writes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MIN_RECALL = 0.98
ISA = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "amx_bf16",
       "asimd", "i8mm", "bf16")  # fmt: skip


def cpu_isa(sets: Sequence[str] = ISA) -> tuple[str, tuple[str, ...]]:
    """(model name, those of ``sets`` the CPU has, in their order) from /proc/cpuinfo (platform name elsewhere).
    The default ``ISA`` are the inference-relevant ones that key the per-CPU choice (``cpu_key``)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key in ("model name", "Model") and model in ("", platform.machine(), platform.processor()):
                model = value.strip()
            elif key in ("flags", "Features") and not flags:
                flags = set(value.split())
    except OSError:
        pass
    return model, tuple(s for s in sets if s in flags)


def cpu_key() -> str:
    model, isa = cpu_isa()
    return hashlib.sha256(f"{model}|{' '.join(isa)}".encode()).hexdigest()[:12]


def int8_path(fp32_onnx: Path) -> Path:
    return fp32_onnx.with_name(f"{fp32_onnx.stem}-int8-qdq.onnx")


def choice_file(fp32_onnx: Path) -> Path:
    return fp32_onnx.with_name(f"paths-{cpu_key()}.json")


def _letterbox(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    r = size / max(h, w)
    nh, nw = round(h * r), round(w * r)
    ph, pw = (-nh) % 32, (-nw) % 32
    im = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    im = cv2.copyMakeBorder(im, ph // 2, ph - ph // 2, pw // 2, pw - pw // 2, cv2.BORDER_CONSTANT, value=(114,) * 3)
    return np.ascontiguousarray(im[..., ::-1].transpose(2, 0, 1))[None].astype(np.float32) / 255.0


def quantize_int8(fp32_onnx: Path, frames: list[np.ndarray], imgsz: int, out: Path | None = None) -> Path:
    """Static int8 QDQ copy of ``fp32_onnx`` calibrated on ``frames`` (BGR), Ultralytics metadata kept."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    target = out or int8_path(fp32_onnx)
    tensors = [_letterbox(f, imgsz) for f in frames]

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter([{"images": x} for x in tensors])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    with tempfile.TemporaryDirectory(prefix=".quant-", dir=target.parent) as tmp:
        pre, q = Path(tmp) / "pre.onnx", Path(tmp) / "q.onnx"
        quant_pre_process(str(fp32_onnx), str(pre), skip_symbolic_shape=True)
        model = onnx.load(str(pre))
        head = [n.name for n in model.graph.node if "model.23" in n.name or "model.0/" in n.name]  # head + stem fp32
        quantize_static(str(pre), str(q), _Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=["Conv", "MatMul"], nodes_to_exclude=head)  # fmt: skip
        qm = onnx.load(str(q))
        src = onnx.load(str(fp32_onnx), load_external_data=False)
        del qm.metadata_props[:]
        qm.metadata_props.extend(src.metadata_props)  # task, names, kpt_shape, imgsz: Ultralytics needs them
        onnx.save(qm, str(q))
        os.replace(q, target)
    return target


@dataclass(frozen=True, slots=True)
class PathResult:
    name: str
    ms: float  # median wall ms per frame, pre/post-processing included
    ms_min: float  # fastest frame: the cost without other processes' load (what the choice uses)
    recall: float  # persons of onnx-fp32 matched at IoU >= 0.5
    kp_err_px: float  # mean keypoint distance of matched persons (visible keypoints), px
    persons: int  # persons onnx-fp32 found on the frames


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    iw = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


def compare(ref: list[Any], got: list[Any]) -> tuple[float, float, int]:
    """(recall of ``ref``'s persons in ``got`` at IoU >= 0.5, mean keypoint error px, persons in ``ref``)."""
    found = total = 0
    errs: list[float] = []
    for r, g in zip(ref, got, strict=True):
        rb, gb = r.xyxy[r.class_id == 0], g.xyxy[g.class_id == 0]
        total += len(rb)
        if not len(rb) or not len(gb):
            continue
        iou = _iou(rb, gb)
        used: set[int] = set()
        for i in np.argsort(-iou.max(axis=1)):
            j = int(np.argmax(np.where([k in used for k in range(len(gb))], -1, iou[i])))
            if iou[i, j] < 0.5 or j in used:
                continue
            used.add(j)
            found += 1
            if r.keypoints is not None and g.keypoints is not None:
                rk, gk = r.keypoints[r.class_id == 0][i], g.keypoints[g.class_id == 0][j]
                vis = rk[:, 2] > 0.5
                if vis.any():
                    errs.append(float(np.linalg.norm(rk[vis, :2] - gk[vis, :2], axis=1).mean()))
    return (found / total if total else 1.0), (float(np.mean(errs)) if errs else 0.0), total


def measure_paths(fp32_onnx: Path, frames: list[np.ndarray], imgsz: int, *, calib: list[np.ndarray] | None = None,
                  rounds: int = 3) -> list[PathResult]:  # fmt: skip
    """Time and check every candidate on ``frames`` (interleaved), quantizing first when needed."""
    from vision.detect.ultralytics_pose import UltralyticsPoseDetector

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    q = int8_path(fp32_onnx)
    if not q.is_file():
        quantize_int8(fp32_onnx, calib or frames, imgsz, q)
    paths = {"onnx-fp32": fp32_onnx, "onnx-int8": q}
    dets = {n: UltralyticsPoseDetector(p, imgsz=imgsz, torch_threads=1) for n, p in paths.items()}
    for d in dets.values():
        d.detect(frames[:1])  # load + warm up
    times: dict[str, list[float]] = {n: [] for n in dets}
    out: dict[str, list[Any]] = {n: [] for n in dets}
    for r in range(rounds):
        for img in frames:
            for n, d in dets.items():
                t = time.perf_counter()
                res = d.detect([img])[0]
                times[n].append(time.perf_counter() - t)
                if r == 0:
                    out[n].append(res)
    results = []
    for n in dets:
        recall, kp, persons = compare(out["onnx-fp32"], out[n])
        results.append(PathResult(n, 1000 * float(np.median(times[n])), 1000 * float(min(times[n])), recall, kp,
                                  persons))  # fmt: skip
    return results


def choose_path(fp32_onnx: Path, results: list[PathResult]) -> str:
    """The fastest candidate with recall >= MIN_RECALL (fp32 otherwise), written beside the export."""
    ok = [r for r in results if r.recall >= MIN_RECALL or r.name == "onnx-fp32"]
    best = min(ok, key=lambda r: r.ms_min).name  # shared machines: the median carries other processes' load
    model, isa = cpu_isa()
    doc = {"cpu": model, "isa": list(isa), "chosen": best, "measured": [asdict(r) for r in results],
           "min_recall": MIN_RECALL}  # fmt: skip
    target = choice_file(fp32_onnx)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, target)
    return best


def chosen_onnx(fp32_onnx: Path) -> Path:
    """The ONNX file this CPU measured as fastest (``choose_path``), else the fp32 export itself."""
    f = choice_file(fp32_onnx)
    try:
        doc = json.loads(f.read_text())
    except (OSError, ValueError):
        return fp32_onnx
    if doc.get("chosen") == "onnx-int8" and int8_path(fp32_onnx).is_file():
        log.info("running %s (int8, measured fastest on this CPU: %s)", int8_path(fp32_onnx).name, f.name)
        return int8_path(fp32_onnx)
    return fp32_onnx


__all__ = ["MIN_RECALL", "PathResult", "choose_path", "chosen_onnx", "compare", "cpu_isa", "measure_paths",
           "quantize_int8"]  # fmt: skip
