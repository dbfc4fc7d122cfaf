"""Motion regions: the gate says where a frame moved, the detector looks only there and keeps the rest.

Crop planning is pure geometry (tables); the end-to-end checks run the real packaged YOLO11n-pose on
Ultralytics' zidane.jpg and compare region mode with whole-frame detection of the same frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from lookout.models import packaged_pose_weights
from vision.config import MotionConfig
from vision.detect import regions as rg
from vision.detect.ultralytics_pose import UltralyticsPoseDetector
from vision.motion import MotionGate
from vision.types import PERSON, Detections

W, H = 640, 360


@pytest.mark.parametrize(
    ("regions", "previous", "max_crops", "expected"),
    [
        ([], [], 1, []),  # moving but no blob worth a look: nothing to detect, everything carried
        ([(100, 100, 110, 110)], [], 1, [(41, 41, 169, 169)]),  # grown to min_side 128 around its centre
        ([(0, 0, 10, 10)], [], 1, [(0, 0, 128, 128)]),  # at the corner: shifted inside, size kept
        ([(630, 350, 640, 360)], [], 1, [(512, 232, 640, 360)]),
        # the region touches a previous box: it grows to include it, then gets its margin
        ([(100, 100, 110, 110)], [[105, 50, 200, 200]], 1, [(48, 0, 252, 252)]),
        # a previous box elsewhere does not matter
        ([(100, 100, 110, 110)], [[400, 50, 450, 200]], 1, [(41, 41, 169, 169)]),
        # a box the margin touches is taken whole (never cut), one it does not touch stays out
        ([(100, 100, 110, 110)], [[150, 100, 200, 200], [230, 100, 300, 200]], 1, [(41, 41, 200, 200)]),
        # two regions whose padded crops overlap become one
        ([(100, 100, 110, 110), (150, 100, 160, 110)], [], 1, [(41, 41, 219, 169)]),
        # regions far apart: one crop around both costs more than the whole frame ...
        ([(50, 50, 60, 60), (500, 250, 510, 260)], [], 1, None),
        # ... unless separate crops are allowed
        ([(50, 50, 60, 60), (500, 250, 510, 260)], [], 4, [(0, 0, 128, 128), (441, 191, 569, 319)]),
        # motion over most of the frame: the whole frame is cheaper
        ([(0, 0, 600, 300)], [], 1, None),
        # out-of-frame coordinates are clipped; an empty box is ignored
        ([(-50, -50, 5, 5), (300, 300, 300, 320)], [], 1, [(0, 0, 128, 128)]),
    ],
)
def test_plan_crops(regions, previous, max_crops, expected) -> None:
    prev = np.array(previous, np.float32).reshape(-1, 4)
    assert rg.plan_crops(regions, prev, W, H, min_side=128, max_crops=max_crops) == expected


def test_more_regions_than_max_crops_are_joined_where_least_area_is_wasted() -> None:
    spots = [(40 + 110 * i, 40, 50 + 110 * i, 50) for i in range(5)] + [(1500, 1500, 1510, 1510)]
    crops = rg.plan_crops(spots, np.zeros((0, 4)), 2000, 2000, min_side=64, max_crops=3)
    assert crops is not None and len(crops) == 3
    inside = [[c for c in crops if c[0] <= s[0] and c[1] <= s[1] and s[2] <= c[2] and s[3] <= c[3]] for s in spots]
    assert all(len(found) == 1 for found in inside)  # every spot in exactly one crop
    assert inside[-1][0][1] > 1000  # the far spot keeps its own crop; neighbours in the row were joined


def _dets(boxes: list[list[float]]) -> Detections:
    n = len(boxes)
    kp = np.zeros((n, 17, 3), np.float32)
    kp[:, :, 0], kp[:, :, 1], kp[:, :, 2] = 5.0, 7.0, 0.9
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(n, 0.8, np.float32),
                      np.full(n, PERSON, np.int32), keypoints=kp)


def test_outside_keeps_only_boxes_no_crop_touches() -> None:
    det = _dets([[0, 0, 10, 10], [100, 100, 120, 140], [300, 0, 310, 10]])
    kept = rg.outside(det, [(90, 90, 200, 200), (305, 5, 400, 50)])
    assert kept.xyxy.tolist() == [[0, 0, 10, 10]]
    assert len(rg.outside(det, [])) == 3 and len(rg.outside(Detections.empty(), [(0, 0, 5, 5)])) == 0


def test_shifted_moves_boxes_and_keypoints_not_scores() -> None:
    out = rg.shifted(_dets([[1, 2, 3, 4]]), 10, 20)
    assert out.xyxy.tolist() == [[11, 22, 13, 24]]
    assert out.keypoints[0, 0].tolist() == pytest.approx([15.0, 27.0, 0.9])


@pytest.mark.parametrize(("crop", "expected"), [((0, 0, 640, 360), 320), ((0, 0, 200, 100), 128),
                                                ((0, 0, 10, 10), 64), ((100, 0, 300, 330), 192)])
def test_crop_imgsz_keeps_the_whole_frame_scale(crop, expected) -> None:
    assert rg.crop_imgsz(crop, 640, 360, 320) == expected


# ---------------------------------------------------------------------------- the motion gate's regions
@pytest.fixture(scope="module")
def scene(zidane_img: np.ndarray) -> np.ndarray:
    return zidane_img


def moved(img: np.ndarray, dx: int) -> np.ndarray:
    """zidane.jpg with a 200x400 block (part of the left man's suit) moved right by ``dx``."""
    out = img.copy()
    out[200:600, 300 + dx : 500 + dx] = img[200:600, 300:500]
    return out


def test_gate_reports_where_the_frame_moved(scene) -> None:
    gate = MotionGate(MotionConfig(max_skip_s=1000))
    first = gate.check(scene, 0.0)
    assert first.detect and first.regions is None  # the first frame is looked at whole
    still = gate.check(scene, 0.2)
    assert not still.detect
    res = gate.check(moved(scene, 60), 0.4)
    assert res.detect and res.moving and res.regions
    x0 = min(r[0] for r in res.regions)
    x1 = max(r[2] for r in res.regions)
    y0 = min(r[1] for r in res.regions)
    y1 = max(r[3] for r in res.regions)
    assert x0 >= 280 and x1 <= 600 and y0 >= 160 and y1 <= 640  # around the moved block, nowhere else
    area = sum((r[2] - r[0]) * (r[3] - r[1]) for r in res.regions)
    assert area < 0.2 * scene.shape[0] * scene.shape[1]


@pytest.mark.parametrize(
    ("config", "why"),
    [(MotionConfig(max_skip_s=1000, regions=False), "regions off"),
     (MotionConfig(max_skip_s=1000, region_max_frac=0.01), "motion over region_max_frac")],
)
def test_gate_asks_for_the_whole_frame(scene, config, why) -> None:
    gate = MotionGate(config)
    gate.check(scene, 0.0)
    res = gate.check(moved(scene, 60), 0.2)
    assert res.detect and res.regions is None, why


def test_gate_refreshes_the_whole_frame_every_max_skip_s_even_while_moving(scene) -> None:
    gate = MotionGate(MotionConfig(max_skip_s=1.0))
    gate.check(scene, 0.0)
    frames = [moved(scene, 20 * (i % 2 + 1)) for i in range(8)]
    whole = [gate.check(f, 0.3 * (i + 1)).regions is None for i, f in enumerate(frames)]  # 0.3 .. 2.4 s
    assert whole == [False, False, False, True, False, False, False, True]


# ---------------------------------------------------------------------------- region mode on the real model
@pytest.fixture(scope="module")
def pose() -> UltralyticsPoseDetector:
    cache = Path(os.environ["LOOKOUT_DATA"]) / "models"
    cache.mkdir(parents=True, exist_ok=True)
    return UltralyticsPoseDetector(packaged_pose_weights(), imgsz=320, cache_dir=cache)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _matches(got: Detections, want: Detections, iou: float) -> bool:
    if len(got) != len(want):
        return False
    return all(max(_iou(w, g) for g in got.xyxy) >= iou for w in want.xyxy)


@pytest.fixture(scope="module")
def bus(bus_img: np.ndarray) -> np.ndarray:
    return bus_img


def walked(img: np.ndarray, dx: int) -> np.ndarray:
    """bus.jpg with the man at the right edge (x 672..810) shifted left by ``dx`` px, as if he walked."""
    out = img.copy()
    out[400:870, 672 - dx : 810 - dx] = img[400:870, 672:810]
    return out


def test_region_mode_sees_the_same_people_as_whole_frames(pose, bus) -> None:
    frames = [bus, walked(bus, 15), walked(bus, 15), walked(bus, 30)]
    gate = MotionGate(MotionConfig(max_skip_s=1000))
    areas = []
    for i, frame in enumerate(frames):
        res = gate.check(frame, 0.2 * i)
        if not res.detect:
            continue
        (got,) = pose.detect_batch([frame], ["cam"], regions=[res.regions])
        areas.append(pose.last_area[0])
        (want,) = pose.detect([frame])
        assert len(want) >= 3
        assert _matches(got, want, 0.8), f"frame {i}: {got.xyxy.tolist()} vs {want.xyxy.tolist()}"
        assert got.keypoints is not None and got.keypoints.shape == (len(got), 17, 3)
    assert areas[0] == 1.0  # the first frame of a feed is looked at whole
    assert all(0 < a < 0.4 for a in areas[1:]), areas  # afterwards only around the man who moved


def test_region_mode_keeps_feeds_apart_and_forgets(pose, scene) -> None:
    (a,) = pose.detect_batch([scene], ["a"], regions=[()])  # unseen feed: whole frame despite regions
    assert pose.last_area == [1.0] and len(a) >= 2
    (b,) = pose.detect_batch([scene], ["a"], regions=[()])  # nothing moved: carried, no network call
    assert pose.last_area == [0.0] and np.array_equal(a.xyxy, b.xyxy)
    pose.forget("a")
    pose.detect_batch([scene], ["a"], regions=[()])
    assert pose.last_area == [1.0]
    (c,) = pose.detect_batch([np.zeros_like(scene)], ["b"], regions=[()])  # another feed: its own state
    assert len(c) == 0 and c.keypoints is not None and c.keypoints.shape == (0, 17, 3)
