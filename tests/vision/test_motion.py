"""Motion gating on real pixels (Ultralytics' zidane.jpg): static frames skip the detector."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vision.config import MotionConfig
from vision.motion import MotionGate


@pytest.fixture(scope="module")
def scene(zidane_img: np.ndarray) -> np.ndarray:
    return zidane_img


def noisy(img: np.ndarray, seed: int) -> np.ndarray:
    """The same scene with camera sensor noise (+-3 grey levels): still 'static'."""
    rng = np.random.default_rng(seed)
    return cv2.add(img, rng.integers(0, 4, img.shape, dtype=np.uint8))


def with_person_moved(img: np.ndarray, dx: int) -> np.ndarray:
    out = img.copy()
    patch = img[200:600, 300:500]
    out[200:600, 300 + dx : 500 + dx] = patch
    return out


@pytest.mark.parametrize("method", ["diff", "mog2"])
def test_static_frames_skip_and_motion_triggers(scene: np.ndarray, method: str) -> None:
    gate = MotionGate(MotionConfig(method=method, max_skip_s=1000))
    t = 0.0
    assert gate.needs_detection(scene, t)  # the first frame always needs detection
    static = [gate.needs_detection(noisy(scene, i), t := t + 0.2) for i in range(10)]
    assert static == [False] * 10
    assert gate.needs_detection(with_person_moved(scene, 60), t + 0.2)


def test_max_skip_forces_a_refresh_in_a_static_scene(scene: np.ndarray) -> None:
    gate = MotionGate(MotionConfig(max_skip_s=2.0))
    decisions = [gate.needs_detection(scene, i * 0.5) for i in range(9)]  # 0.0 .. 4.0 s
    assert decisions == [True, False, False, False, True, False, False, False, True]


def test_disabled_gate_always_detects(scene: np.ndarray) -> None:
    gate = MotionGate(MotionConfig(enabled=False))
    assert all(gate.needs_detection(scene, i) for i in range(5))


def test_resolution_change_resets_and_detects(scene: np.ndarray) -> None:
    gate = MotionGate(MotionConfig(max_skip_s=1000))
    assert gate.needs_detection(scene, 0)
    assert not gate.needs_detection(scene, 1)
    small = np.ascontiguousarray(scene[:, :960])  # another aspect ratio: another downscaled shape
    r = gate.check(small, 2)
    assert r.detect and r.moving
    assert not gate.needs_detection(small, 3)


@pytest.mark.parametrize("image", [np.zeros((1, 1, 3), np.uint8), np.zeros((10, 4000, 3), np.uint8)])
def test_tiny_and_odd_shapes(image: np.ndarray) -> None:
    gate = MotionGate()
    assert gate.needs_detection(image, 0)
    assert not gate.needs_detection(image, 0.1)
