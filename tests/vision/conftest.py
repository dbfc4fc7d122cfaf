"""Real pictures for the vision tests: Ultralytics' own sample photos (shipped with the package)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

ASSETS = Path(cv2.__file__).parents[1] / "ultralytics" / "assets"


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
