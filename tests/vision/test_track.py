"""Tracking: stable ids on a clip built from real frames; the adapter; bounded, expiring history."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from lookout.models import packaged_pose_weights
from vision.detect.ultralytics_pose import UltralyticsPoseDetector
from vision.eval import read_clip
from vision.history import TrackHistory
from vision.track import Tracker, TrackerConfigError
from vision.types import CAR, PERSON, Detections

ASSETS = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "assets"


def make_clip(path: Path, image: Path, frames: int = 24, size: tuple[int, int] = (480, 640), step: int = 8) -> Path:
    """A pan across a real photo: ``frames`` crops of ``size`` (h, w), moving ``step`` px per frame."""
    img = cv2.imread(str(image))
    h, w = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (w, h))
    for i in range(frames):
        x = min(i * step, img.shape[1] - w)
        y = min(i * step // 2, img.shape[0] - h)
        writer.write(np.ascontiguousarray(img[y : y + h, x : x + w]))
    writer.release()
    return path


@pytest.fixture(scope="module")
def pose() -> UltralyticsPoseDetector:
    cache = Path(os.environ["LOOKOUT_DATA"]) / "models"
    return UltralyticsPoseDetector(packaged_pose_weights(), imgsz=320, cache_dir=cache)


@pytest.mark.parametrize(
    ("image", "size", "people"),
    [("bus.jpg", (640, 480), 2), ("zidane.jpg", (480, 960), 2)],  # people in view all along
)
@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
@pytest.mark.slow
def test_ids_are_stable_on_a_real_panning_clip(tmp_path, pose, image, size, people, kind):
    frames, _ = read_clip(make_clip(tmp_path / "pan.mp4", ASSETS / image, size=size))
    assert len(frames) == 24
    tracker, history = Tracker(kind), TrackHistory(maxlen=100)
    seen: Counter[int] = Counter()
    for i, img in enumerate(frames):
        det = pose.detect([img])[0]
        tracked = tracker.update(det, img)
        assert tracked.tracker_id is not None and len(tracked) <= len(det)
        # keypoints stay with their box: confident keypoints lie inside (a margin around) it
        for box, kp in zip(tracked.xyxy, tracked.keypoints, strict=True):
            good = kp[kp[:, 2] > 0.5]
            pad = 0.2 * (box[3] - box[1])
            assert ((good[:, 0] > box[0] - pad) & (good[:, 0] < box[2] + pad)).all()
        history.update(i / 10, tracked)
        seen.update(tracked.tracker_id.tolist())
    steady = [tid for tid, n in seen.items() if n >= 18]  # present in >= 3/4 of the frames
    assert len(steady) >= people, seen
    assert len(seen) <= people + 2, seen  # few id switches (a person at the edge may come and go)
    for tid in steady:
        pts = history.get(tid)
        assert len(pts) == seen[tid]
        assert [p.t_s for p in pts] == sorted(p.t_s for p in pts)
        assert all(p.class_id == PERSON and p.keypoints.shape == (17, 3) for p in pts)


def _box(x: float, y: float, cls: int = PERSON, conf: float = 0.9) -> tuple[list[float], float, int]:
    return [x, y, x + 40, y + 100], conf, cls


def _dets(*rows: tuple[list[float], float, int], keypoints: bool = True) -> Detections:
    if not rows:
        return Detections.empty()
    xyxy = np.array([r[0] for r in rows], np.float32)
    kp = None
    if keypoints:
        kp = np.zeros((len(rows), 17, 3), np.float32)
        kp[:, :, 0] = xyxy[:, :1] + 20  # a marker: keypoint x = box centre
        kp[:, :, 2] = 1.0
    return Detections(xyxy, np.array([r[1] for r in rows], np.float32), np.array([r[2] for r in rows], np.int32),
                      keypoints=kp)


@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
def test_two_walkers_keep_their_ids_and_keypoints(kind):
    img = np.zeros((480, 640, 3), np.uint8)
    tracker = Tracker(kind)
    ids_by_side: dict[str, set[int]] = {"left": set(), "right": set()}
    for i in range(15):
        # rows deliberately in alternating order: the adapter must follow boxes, not row order
        rows = [_box(50 + 5 * i, 100), _box(400 - 5 * i, 300, CAR)]
        det = _dets(*(rows if i % 2 else rows[::-1]))
        out = tracker.update(det, img)
        for j in range(len(out)):
            side = "left" if out.class_id[j] == PERSON else "right"
            ids_by_side[side].add(int(out.tracker_id[j]))
            assert out.keypoints[j, 0, 0] == pytest.approx((out.xyxy[j, 0] + out.xyxy[j, 2]) / 2)
    assert len(ids_by_side["left"]) == 1 and len(ids_by_side["right"]) == 1
    assert ids_by_side["left"] != ids_by_side["right"]


def test_empty_frames_and_reset():
    tracker = Tracker()
    assert len(tracker.update(Detections.empty())) == 0
    for _ in range(3):
        out = tracker.update(_dets(_box(10, 10), keypoints=False))
    assert out.tracker_id.tolist() == [1] and out.keypoints is None
    tracker.reset()  # e.g. a jump cut: the next scene's people never continue an earlier track
    assert tracker.update(_dets(_box(10, 10))).tracker_id.tolist() == [2]
    assert tracker.update(_dets(_box(10, 10))).tracker_id.tolist() == [2]


@pytest.mark.parametrize(
    ("kind", "overrides", "message"),
    [
        ("deepsort", {}, "unknown"),
        ("bytetrack", {"track_bufer": 10}, "unknown setting 'track_bufer'"),
    ],
)
def test_bad_tracker_settings(kind, overrides, message):
    with pytest.raises(TrackerConfigError, match=message):
        Tracker(kind, **overrides)


def test_botsort_needs_the_image():
    with pytest.raises(TrackerConfigError, match="needs the frame"):
        Tracker("botsort").update(_dets(_box(1, 1)))


def _tracked(ids: list[int], x: float = 0.0) -> Detections:
    det = _dets(*[_box(x + 50 * k, 0) for k in range(len(ids))])
    return Detections(det.xyxy, det.confidence, det.class_id, np.array(ids, np.int64), det.keypoints)


def test_history_is_bounded_and_expires():
    h = TrackHistory(maxlen=5, expire_s=2.0)
    for t in range(10):
        h.update(float(t), _tracked([1, 2] if t < 6 else [1], x=t))
    assert len(h.get(1)) == 5 and [p.t_s for p in h.get(1)] == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert 2 not in h and h.get(2) == ()  # last seen at t=5, expired at t=8
    assert h.track_ids == (1,)
    assert h.last(1).bottom_center == pytest.approx((9 + 20, 100))
    assert h.update(20.0, Detections.empty()) == [1]
    assert len(h) == 0


def test_history_points_are_copies():
    det = _tracked([7])
    h = TrackHistory()
    h.update(0.0, det)
    det.xyxy[0, 0] = 999
    det.keypoints[0, 0, 0] = 999
    assert h.get(7)[0].xyxy[0] == 0 and h.get(7)[0].keypoints[0, 0] == 20


def test_history_warns_once_without_tracker_ids(caplog):
    h = TrackHistory()
    with caplog.at_level(logging.WARNING, logger="vision.history"):
        h.update(0.0, _dets(_box(0, 0)))
        h.update(1.0, _dets(_box(0, 0)))
    assert len(h) == 0
    assert sum("without tracker_id" in r.message for r in caplog.records) == 1


@pytest.mark.parametrize(("maxlen", "expire_s"), [(0, 1.0), (5, 0.0), (5, -1.0)])
def test_history_rejects_bad_bounds(maxlen, expire_s):
    with pytest.raises(ValueError, match="maxlen"):
        TrackHistory(maxlen, expire_s)
