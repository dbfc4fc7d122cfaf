"""Real pictures for the vision tests: Ultralytics' own sample photos (shipped with the package)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

ASSETS = Path(cv2.__file__).parents[1] / "ultralytics" / "assets"


def footage_frames(pattern: str, index: int, limit: int | None = None) -> list[np.ndarray]:
    """Frame ``index`` of each clip of the shared footage matching ``pattern`` (e.g. ``"*/*parked*.mp4"``),
    sorted by name, at most ``limit`` clips; [] where the footage is absent (a user's clone)."""
    from lookout.paths import footage_dir

    root = footage_dir()
    out: list[np.ndarray] = []
    for clip in sorted(root.glob(pattern))[:limit] if root is not None else []:
        cap = cv2.VideoCapture(str(clip))
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = cap.read()
        cap.release()
        if ok:
            out.append(frame)
    return out


def asset(name: str) -> np.ndarray:
    """``ultralytics/assets/<name>`` as BGR pixels (the test is skipped if the file is missing)."""
    img = cv2.imread(str(ASSETS / name))
    if img is None:
        pytest.skip(f"ultralytics asset {name} is missing")
    return img


@pytest.fixture(scope="session")
def zidane_img() -> np.ndarray:
    return asset("zidane.jpg")


@pytest.fixture(scope="session")
def bus_img() -> np.ndarray:
    return asset("bus.jpg")
