"""Annotation draws boxes, labels, ids, skeletons and zones on a copy; detections stay untouched."""

from __future__ import annotations

import numpy as np
import pytest

from vision.annotate import annotate
from vision.types import BUS, PERSON, Detections


def _people_and_bus(tracked: bool) -> Detections:
    xyxy = np.array([[20, 20, 80, 180], [120, 40, 300, 160]], np.float32)
    kp = np.zeros((2, 17, 3), np.float32)
    kp[0, :, 0] = np.linspace(30, 70, 17)
    kp[0, :, 1] = np.linspace(30, 170, 17)
    kp[0, :, 2] = 0.9
    return Detections(
        xyxy,
        np.array([0.9, 0.8], np.float32),
        np.array([PERSON, BUS], np.int32),
        np.array([3, 4], np.int64) if tracked else None,
        kp,
    )


@pytest.mark.parametrize("tracked", [True, False])
def test_draws_on_a_copy_and_leaves_detections_alone(tracked):
    scene = np.zeros((200, 320, 3), np.uint8)
    det = _people_and_bus(tracked)
    before = {name: None if (v := getattr(det, name)) is None else v.copy()
              for name in ("xyxy", "confidence", "class_id", "tracker_id", "keypoints")}
    out = annotate(scene, det)
    assert out is not scene and out.shape == scene.shape and out.dtype == np.uint8
    assert not scene.any()  # input frame untouched
    assert out[20:181, 20].any() and out[40:161, 300].any()  # box edges
    assert out[100, 50].any()  # skeleton through the person's middle
    for name, value in before.items():
        now = getattr(det, name)
        assert (value is None and now is None) or np.array_equal(value, now)


def test_keypoints_below_threshold_are_not_drawn():
    scene = np.zeros((200, 320, 3), np.uint8)
    det = _people_and_bus(True)
    det.keypoints[0, :, 2] = 0.05
    out = annotate(scene, det, labels=False)
    assert not out[100, 45:56].any()  # no skeleton inside the box


@pytest.mark.parametrize(
    "zones",
    [
        {"car row": [[150, 170], [310, 170], [310, 195], [150, 195]]},
        [np.array([[150, 170], [310, 170], [310, 195], [150, 195]])],
    ],
)
def test_zones_are_drawn(zones):
    scene = np.zeros((200, 320, 3), np.uint8)
    out = annotate(scene, Detections.empty(), zones)
    assert out[182, 230].any()  # filled (translucent) inside
    assert not out[100, 230].any()  # nothing elsewhere


@pytest.mark.parametrize("zones", [None, {}, [], {"dot": [[5, 5]]}])
def test_empty_inputs(zones):
    scene = np.full((50, 60, 3), 7, np.uint8)
    out = annotate(scene, Detections.empty(), zones)
    assert np.array_equal(out, scene) and out is not scene
