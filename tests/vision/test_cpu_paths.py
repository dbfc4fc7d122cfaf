"""vision.detect._ultralytics_paths: the per-CPU choice between fp32 and int8, its accuracy check, and
load_model following the cached choice (real ONNX export and a real int8 quantization)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lookout.models import packaged_pose_weights
from vision.detect._ultralytics import export_onnx, load_model
from vision.detect._ultralytics_paths import (
    PathResult,
    choice_file,
    choose_path,
    chosen_onnx,
    compare,
    cpu_isa,
    int8_path,
    quantize_int8,
)
from vision.types import PERSON, Detections


def _det(*boxes: tuple[float, float, float, float], kp_shift: float = 0.0) -> Detections:
    n = len(boxes)
    kp = np.zeros((n, 17, 3), np.float32)
    for i, b in enumerate(boxes):
        kp[i, :, 0], kp[i, :, 1], kp[i, :, 2] = b[0] + kp_shift, b[1], 0.9
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n, 0.9, np.float32),
                      np.full(n, PERSON, np.int32), keypoints=kp)  # fmt: skip


def test_accuracy_against_fp32() -> None:
    ref = [_det((0, 0, 10, 20), (50, 0, 60, 20)), _det((0, 0, 10, 20))]
    got = [_det((1, 0, 11, 20), kp_shift=3.0), _det((0, 0, 10, 20), kp_shift=3.0)]  # one person missed
    recall, kp_err, persons = compare(ref, got)
    assert persons == 3 and recall == pytest.approx(2 / 3) and kp_err == pytest.approx((4.0 + 3.0) / 2)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged pose model's ONNX export in a private cache (copied when already exported)."""
    cache = tmp_path_factory.mktemp("models")
    shared = Path.home() / ".local/share/lookout/models"
    src = export_onnx(packaged_pose_weights(), "pose", 320, shared)
    dst = cache / src.relative_to(shared)
    dst.parent.mkdir(parents=True)
    shutil.copy2(src, dst)
    return dst


def test_the_choice_is_per_cpu_needs_recall_and_load_model_follows_it(export: Path) -> None:
    model, isa = cpu_isa()
    assert model and all(isinstance(s, str) for s in isa)
    fast_bad = [PathResult("onnx-fp32", 40, 30, 1.0, 0, 10), PathResult("onnx-int8", 20, 15, 0.9, 4, 10)]
    assert choose_path(export, fast_bad) == "onnx-fp32"  # faster but misses people: not taken
    assert chosen_onnx(export) == export
    fast_good = [PathResult("onnx-fp32", 40, 30, 1.0, 0, 10), PathResult("onnx-int8", 20, 15, 0.99, 1, 10)]
    assert choose_path(export, fast_good) == "onnx-int8"
    doc = json.loads(choice_file(export).read_text())
    assert doc["isa"] == list(isa) and doc["chosen"] == "onnx-int8"
    assert chosen_onnx(export) == export  # chosen, but no int8 file yet: fp32
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (360, 640, 3), np.uint8) for _ in range(3)]
    q = quantize_int8(export, frames, 320)
    assert q == int8_path(export) and chosen_onnx(export) == q
    loaded = load_model(packaged_pose_weights(), "pose", 320, export.parents[2])
    assert loaded.path == q and loaded.backend == "onnx"
    res = loaded.predict([frames[0]], 0.25)
    assert len(res) == 1 and res[0].keypoints is not None  # Ultralytics' metadata came along
