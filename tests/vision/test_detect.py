"""Detector plugins on real images with the real packaged weights (no mocks of the models)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from contextlib import nullcontext as does_not_raise
from pathlib import Path

import cv2
import numpy as np
import pytest

from lookout.models import packaged_pose_weights, packaged_ssd_graph
from vision.detect import DetectorError, UnknownDetectorError, WeightsError, build_detector
from vision.detect._ultralytics import onnx_cache_path
from vision.detect.base import DetectorConfigBase
from vision.detect.composite import CompositeDetector
from vision.detect.ssd_mobilenet import SsdDetectorConfig, SsdMobilenetDetector
from vision.detect.ultralytics_detect import UltralyticsDetectConfig, UltralyticsDetector
from vision.detect.ultralytics_pose import PoseDetectorConfig, UltralyticsPoseDetector
from vision.types import BUS, PERSON, Detections

ASSETS = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "assets"


@pytest.fixture(scope="session")
def model_cache() -> Path:
    """Shared with `lookout detect` in the tests (ctx.data_dir / "models"): one ONNX export per session."""
    path = Path(os.environ["LOOKOUT_DATA"]) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def bus() -> np.ndarray:
    return cv2.imread(str(ASSETS / "bus.jpg"))


@pytest.fixture(scope="session")
def zidane() -> np.ndarray:
    return cv2.imread(str(ASSETS / "zidane.jpg"))


@pytest.fixture(scope="session")
def pose(model_cache: Path) -> UltralyticsPoseDetector:
    return UltralyticsPoseDetector(packaged_pose_weights(), imgsz=320, cache_dir=model_cache)


@pytest.fixture(scope="session")
def ssd() -> SsdMobilenetDetector:
    g = packaged_ssd_graph()
    return SsdMobilenetDetector(g.graph_pb, g.config_pbtxt, classes=(PERSON, BUS, 1, 2, 3, 7))


def _keypoints_in_boxes(det: Detections, margin: float = 0.15) -> bool:
    for box, kp in zip(det.xyxy, det.keypoints, strict=True):
        x1, y1, x2, y2 = box
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        good = kp[kp[:, 2] > 0.5]
        inside = (good[:, 0] >= x1 - mx) & (good[:, 0] <= x2 + mx) & (good[:, 1] >= y1 - my) & (good[:, 1] <= y2 + my)
        if len(good) < 5 or not inside.all():
            return False
    return True


def test_pose_finds_people_with_keypoints_via_cached_onnx(pose, bus, zidane, model_cache):
    assert pose.backend == "onnx"
    cached = onnx_cache_path(packaged_pose_weights(), model_cache)
    assert cached.is_file()
    out = pose.detect([bus, zidane])
    assert len(out) == 2
    b, z = out
    assert len(b) >= 3 and len(z) >= 2
    for det in out:
        assert set(det.class_id.tolist()) == {PERSON}
        assert det.keypoints is not None and det.keypoints.shape[1:] == (17, 3)
        assert _keypoints_in_boxes(det)
    # boxes are in the original image's pixels, not the 320 px network input
    assert b.xyxy[:, 3].max() > 700


def test_second_build_reuses_the_cached_export(pose, model_cache):
    cached = onnx_cache_path(packaged_pose_weights(), model_cache)
    before = cached.stat().st_mtime_ns
    again = build_detector(PoseDetectorConfig(imgsz=320), packaged_pose_weights(), cache_dir=model_cache)
    assert again.backend == "onnx" and cached.stat().st_mtime_ns == before
    again.close()


@pytest.mark.slow
def test_pose_torch_fallback_backend(bus):
    det = UltralyticsPoseDetector(packaged_pose_weights(), imgsz=320, backend="torch")
    assert det.backend == "torch"
    found = det.detect([bus])[0]
    assert len(found) >= 3 and found.keypoints.shape[1:] == (17, 3)


def test_ssd_finds_the_bus_and_people(ssd, bus, zidane):
    b, z = ssd.detect([bus, zidane])
    assert BUS in b.class_id.tolist()
    bus_box = b.xyxy[b.class_id == BUS][0]
    assert bus_box[2] - bus_box[0] > 0.7 * bus.shape[1]  # the bus spans the picture
    assert (b.class_id == PERSON).sum() >= 2
    assert set(z.class_id.tolist()) == {PERSON}


def test_ssd_default_classes_are_vehicles_only(bus):
    g = packaged_ssd_graph()
    det = build_detector(SsdDetectorConfig(), (g.graph_pb, g.config_pbtxt))
    found = det.detect([bus])[0]
    assert found.class_id.tolist() == [BUS]
    assert PERSON not in det.classes


def test_composite_refreshes_vehicles_at_a_low_rate(pose, ssd, bus, zidane):
    comp = CompositeDetector(pose, ssd, refresh_s=10.0, scene_change=0.12)
    first = comp.detect([bus], feeds=["cam"], t_mono=[0.0])[0]
    assert comp.vehicle_runs == 1
    assert BUS in first.class_id.tolist() and (first.class_id == PERSON).sum() >= 3
    assert first.keypoints is not None and not first.keypoints[first.class_id == BUS].any()
    # same scene, within refresh_s: the cached vehicles are reused
    again = comp.detect([bus, bus], feeds=["cam", "cam"], t_mono=[1.0, 2.0])
    assert comp.vehicle_runs == 1
    assert all(BUS in d.class_id.tolist() for d in again)
    # a second feed has its own cache; a changed scene or an old cache triggers a refresh
    comp.detect([bus], feeds=["other"], t_mono=[2.0])
    assert comp.vehicle_runs == 2
    swapped = comp.detect([zidane], feeds=["cam"], t_mono=[3.0])[0]
    assert comp.vehicle_runs == 3 and BUS not in swapped.class_id.tolist()
    comp.detect([zidane], feeds=["cam"], t_mono=[14.0])
    assert comp.vehicle_runs == 4


def test_composite_without_vehicles(pose, bus):
    comp = CompositeDetector(pose, None)
    (det,) = comp.detect([bus])
    assert set(det.class_id.tolist()) == {PERSON}


@pytest.fixture(scope="session")
def user_onnx(tmp_path_factory, pose, model_cache) -> Path:
    """A user-supplied .onnx stand-in: the pose model's dynamic export, copied out of the cache."""
    src = onnx_cache_path(packaged_pose_weights(), model_cache)
    dst = tmp_path_factory.mktemp("user") / "my-model.onnx"
    shutil.copy2(src, dst)
    return dst


@pytest.fixture(scope="session")
def fixed_user_onnx(tmp_path_factory) -> Path:
    """A user's own export with a FIXED 320x320 input (Ultralytics' default export), made here."""
    from ultralytics import YOLO

    work = tmp_path_factory.mktemp("fixed")
    pt = work / "fixed-model.pt"
    shutil.copy2(packaged_pose_weights(), pt)
    return Path(YOLO(str(pt), task="pose").export(format="onnx", imgsz=320, simplify=True, device="cpu"))


def test_user_ultralytics_weights_load_through_config(user_onnx, bus):
    cfg = UltralyticsDetectConfig(task="pose", classes=("person",))
    det = build_detector(cfg, user_onnx)
    assert isinstance(det, UltralyticsDetector) and det.backend == "onnx"
    found = det.detect([bus])[0]
    assert len(found) >= 3 and set(found.class_id.tolist()) == {PERSON}
    assert found.keypoints is None


def test_user_weights_without_wanted_classes_are_refused(user_onnx):
    with pytest.raises(WeightsError, match="none of the wanted COCO classes"):
        build_detector(UltralyticsDetectConfig(task="pose"), user_onnx)  # default classes: vehicles


@pytest.fixture
def bad_files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file")
    (tmp_path / "garbage.onnx").write_bytes(b"not an onnx file")
    (tmp_path / "model.txt").write_text("x")
    return {
        "missing": tmp_path / "nope.pt",
        "garbage_pt": tmp_path / "garbage.pt",
        "garbage_onnx": tmp_path / "garbage.onnx",
        "wrong_suffix": tmp_path / "model.txt",
        "relative": Path("yolo11n.pt"),
    }


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("missing", "does not exist"),
        ("garbage_pt", "cannot be loaded"),
        ("garbage_onnx", "not a readable ONNX model"),
        ("wrong_suffix", "not a .pt or .onnx"),
        ("relative", "not an absolute path"),
    ],
)
def test_bad_weights_give_one_clear_error(bad_files, which, message, tmp_path):
    with pytest.raises(WeightsError, match=message) as err:
        build_detector(UltralyticsDetectConfig(backend="torch"), bad_files[which], cache_dir=tmp_path)
    assert "\n" not in str(err.value)


def test_pose_onnx_used_as_detect_task_is_refused(user_onnx):
    with pytest.raises(WeightsError, match="is a pose model, not detect"):
        build_detector(UltralyticsDetectConfig(), user_onnx)


def test_ssd_missing_graph(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        build_detector(SsdDetectorConfig(), (tmp_path / "g.pb", tmp_path / "g.pbtxt"))


def test_unknown_plugin_type():
    with pytest.raises(UnknownDetectorError, match="yolo-pose"):
        build_detector(DetectorConfigBase(type="tflite"))


@pytest.mark.parametrize(
    ("images", "expectation"),
    [
        ([], does_not_raise()),
        ([np.zeros((48, 64, 3), np.uint8)], does_not_raise()),
        ([np.zeros((48, 64), np.uint8)], pytest.raises(DetectorError, match="BGR uint8")),
        ([np.zeros((48, 64, 3), np.float32)], pytest.raises(DetectorError, match="float32")),
        (["bus.jpg"], pytest.raises(DetectorError, match="image 0")),
    ],
)
def test_input_checks(ssd, images, expectation):
    with expectation:
        out = ssd.detect(images)
        assert len(out) == len(images)
        assert all(len(d) == 0 for d in out)


@pytest.mark.slow
def test_one_dynamic_export_serves_every_imgsz(pose, bus, model_cache):
    small, large, default = pose.detect([bus, bus, bus], imgsz=[320, 640, None])
    exports = list((model_cache / "onnx").glob("*/*.onnx"))
    assert exports == [onnx_cache_path(packaged_pose_weights(), model_cache)]
    assert len(large) >= len(small) >= 3  # the larger input finds at least as many people
    assert len(default) == len(small) and np.allclose(default.xyxy, small.xyxy)
    again = pose.detect([bus], imgsz=640)[0]
    assert np.allclose(again.xyxy, large.xyxy)
    with pytest.raises(ValueError, match="imgsz values"):
        pose.detect([bus], imgsz=[320, 640])


def test_dynamic_user_onnx_follows_the_requested_size(user_onnx, bus):
    det = UltralyticsDetector(user_onnx, task="pose", classes=(PERSON,))
    assert not det._loaded.fixed_size
    assert len(det.detect([bus], imgsz=640)[0]) >= 3


def test_fixed_size_user_onnx_ignores_other_sizes(fixed_user_onnx, bus, caplog):
    det = UltralyticsDetector(fixed_user_onnx, task="pose", classes=(PERSON,))
    assert det._loaded.fixed_size and det._loaded.imgsz == 320
    with caplog.at_level("WARNING"):
        assert len(det.detect([bus], imgsz=640)[0]) >= 3  # served at the file's own 320
    assert "fixed input size 320" in caplog.text
    # region mode needs a variable input size: a fixed model looks at whole frames
    (full,) = det.detect_batch([bus], ["cam"], regions=[[(0, 0, 100, 100)]])
    assert det.last_area == [1.0] and len(full) >= 3


class _Failing:
    """A vehicle detector that fails once, then finds one car (to test the cache is not poisoned)."""

    name, classes = "flaky", (2,)

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, images):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("boom")
        car = Detections(np.array([[1, 1, 20, 20]], np.float32), np.array([0.9], np.float32), np.array([2], np.int32))
        return [car for _ in images]

    def close(self) -> None:
        pass


def test_composite_cache_survives_a_failed_vehicle_run(pose, bus):
    comp = CompositeDetector(pose, _Failing(), refresh_s=10.0)
    with pytest.raises(RuntimeError):
        comp.detect([bus], feeds=["cam"], t_mono=[0.0])
    first, second = comp.detect([bus, bus], feeds=["cam", "cam"], t_mono=[1.0, 2.0])
    assert comp.vehicles.calls == 2  # retried at once, and only once for both images of the feed
    assert 2 in first.class_id.tolist() and 2 in second.class_id.tolist()
    comp.detect([bus], feeds=["cam"], t_mono=[0.5])  # time went backwards (a looped file): refresh
    assert comp.vehicles.calls == 3


@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_pose_pt_used_as_detect_task_is_refused_before_export(backend, tmp_path):
    with pytest.raises(WeightsError, match="is a pose model, not detect"):
        build_detector(UltralyticsDetectConfig(backend=backend), packaged_pose_weights(), cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.onnx"))


def test_detect_batch_is_the_one_call_for_any_detector(pose, ssd, bus, zidane):
    """What a scheduler worker calls: feeds/times/sizes per image; each detector uses what it knows."""
    comp = CompositeDetector(pose, ssd, refresh_s=10.0)
    feeds, times = ["a", "b", "a", "b"], [0.0, 0.0, 0.2, 0.2]
    out = comp.detect_batch([bus, zidane, bus, zidane], feeds, times, [320, 320, 320, 320])
    assert comp.vehicle_runs == 2  # one per feed: alternating feeds do not look like scene changes
    assert [BUS in d.class_id.tolist() for d in out] == [True, False, True, False]
    assert len(ssd.detect_batch([bus], ["a"], [0.0], 640)[0]) >= 1  # plain detectors ignore the extras
    assert len(pose.detect_batch([bus], ["a"], [0.0], None)[0]) >= 3
