"""The ONNX export run straight through ONNX Runtime finds what Ultralytics' predictor finds on it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lookout.models import packaged_pose_weights
from tests.vision.conftest import asset, footage_frames
from vision.detect._ultralytics import export_onnx
from vision.detect.onnx_direct import DirectOnnx, letterbox
from vision.detect.ultralytics_pose import UltralyticsPoseDetector


@pytest.fixture(scope="module")
def onnx_path() -> Path:
    cache = Path(os.environ["LOOKOUT_DATA"]) / "models"
    cache.mkdir(parents=True, exist_ok=True)
    return export_onnx(packaged_pose_weights(), "pose", 320, cache)


def _images() -> list[np.ndarray]:
    bus = asset("bus.jpg")
    crop = np.ascontiguousarray(bus[101:733, 37:611])  # a crop of odd size, as regions make
    return [bus, asset("zidane.jpg"), crop, *footage_frames("*/*.mp4", 20, limit=6)]  # + real CCTV frames


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = (x1 - x0).clip(0) * (y1 - y0).clip(0)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


@pytest.mark.parametrize("imgsz", [320, 416, 640, 300])  # 300: not a stride multiple, rounded up as Ultralytics does
def test_same_people_and_keypoints_as_ultralytics(onnx_path: Path, imgsz: int) -> None:
    from ultralytics import YOLO

    direct = DirectOnnx.from_file(onnx_path)
    assert direct is not None and direct.task == "pose" and direct.kpt_shape == (17, 3)
    yolo = YOLO(str(onnx_path), task="pose")
    people = 0
    for img in _images():
        ref = yolo.predict(img, imgsz=imgsz, conf=0.25, device="cpu", verbose=False)[0]
        got = direct.predict(img, 0.25, imgsz)
        ref_boxes = ref.boxes.xyxy.numpy()
        assert len(got.xyxy) == len(ref_boxes), (img.shape, ref.boxes.conf.numpy(), got.conf)
        if not len(ref_boxes):
            continue
        people += len(ref_boxes)
        match = _iou(ref_boxes, got.xyxy)
        assert match.max(axis=1).min() >= 0.99
        j = match.argmax(axis=1)
        np.testing.assert_allclose(got.conf[j], ref.boxes.conf.numpy(), atol=1e-3)
        kp_ref, kp_got = ref.keypoints.data.numpy(), got.keypoints[j]
        assert np.abs(kp_ref[..., :2] - kp_got[..., :2]).max() <= 1.5  # pixels
        np.testing.assert_allclose(kp_got[..., 2], kp_ref[..., 2], atol=1e-3)
    assert people >= 5  # bus.jpg alone has 4 people, zidane 2


def test_letterbox_pads_to_the_stride_only() -> None:
    lb = letterbox(np.zeros((360, 640, 3), np.uint8), 320, 32)
    assert lb.blob.shape == (1, 3, 192, 320) and lb.scale == 0.5 and (lb.left, lb.top) == (0, 6)
    assert lb.blob[0, :, 0, 0] == pytest.approx([114 / 255] * 3)  # grey padding, RGB in [0, 1]


def test_the_pose_detector_runs_the_export_directly(onnx_path: Path) -> None:
    det = UltralyticsPoseDetector(packaged_pose_weights(), imgsz=320, cache_dir=onnx_path.parents[2])
    assert det.backend == "onnx" and det.direct
    out = det.detect([asset("bus.jpg")])[0]
    assert len(out) >= 3 and out.keypoints is not None and out.keypoints.shape[1:] == (17, 3)


def test_a_fixed_size_export_keeps_ultralytics(tmp_path: Path) -> None:
    from ultralytics import YOLO

    pt = tmp_path / "fixed.pt"
    pt.write_bytes(packaged_pose_weights().read_bytes())
    fixed = Path(YOLO(str(pt), task="pose").export(format="onnx", imgsz=320, simplify=True, device="cpu"))
    assert DirectOnnx.from_file(fixed) is None
