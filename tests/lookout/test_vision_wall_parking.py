"""A parking zone configured for a camera, or drawn in the console while the wall runs, reaches the detector
in the video wall's worker process (the parked-vehicle prior): real wall, scheduler and spawned worker, real
config file and zone store; a stand-in detector that reports the zones it has as car boxes."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lookout.config import load_config
from lookout.config_edit import ConfigZones

VISION_TESTS = Path(__file__).parents[1] / "vision"
CAR = 2
CONFIG = """[cameras.gate]
url = "cam.mp4"

[zones.front_row]
camera = "gate"
kind = "parking"
normalized = true
polygon = [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]]

[zones.pond]
camera = "gate"
kind = "water"
normalized = true
polygon = [[0.6, 0.6], [0.9, 0.6], [0.9, 0.9]]
"""


@pytest.fixture(autouse=True)
def _standin_importable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(VISION_TESTS))  # spawned workers inherit sys.path
    yield


def frames() -> Iterator:
    while True:
        yield np.full((720, 1280, 3), 90, np.uint8), datetime.now(UTC)
        time.sleep(0.02)


def car_boxes(wall, want: list[list[float]], timeout_s: float = 60.0) -> list[list[float]]:  # type: ignore[no-untyped-def]
    """Wait until a detected result of "gate" has exactly the car boxes ``want`` (frame pixels, +-2 px)."""
    end, got = time.monotonic() + timeout_s, None
    while time.monotonic() < end:
        r = wall.scheduler.get(timeout_s=max(0.0, end - time.monotonic()))
        if r is None or not r.detected:
            continue
        d = r.detections
        got = sorted(d.xyxy[i].tolist() for i in np.flatnonzero(d.class_id == CAR))
        if len(got) == len(want) and all(np.allclose(g, w, atol=2) for g, w in zip(got, sorted(want), strict=True)):
            return got
    raise AssertionError(f"cars {want} not seen within {timeout_s} s; last: {got}")


def test_configured_and_drawn_parking_zones_reach_the_walls_worker_detector(tmp_path: Path) -> None:
    import parking_standin

    from console.zone_editor import DrawnZone
    from lookout.wiring import VisionWall
    from vision.config import MotionConfig
    from vision.feeds import IteratorSource

    path = tmp_path / "lookout.toml"
    path.write_text(CONFIG)
    detector = functools.partial(parking_standin.ParkingStandIn, car_conf=0.9)
    wall = VisionWall(load_config(path), tmp_path, workers=1, evidence=False, listen=False, detector=detector)
    wall.add(IteratorSource("gate", frames), 10.0, MotionConfig(enabled=False), zones=True)
    wall.start()
    try:
        car_boxes(wall, [[128, 360, 640, 648]])  # the configured parking zone; the water zone is not parking
        drawn = DrawnZone("back_row", "parking", ((0.55, 0.1), (0.95, 0.1), (0.95, 0.4)))
        ConfigZones(path, on_saved=wall.set_zones).save("gate", [drawn])  # the console's zone editor saves
        car_boxes(wall, [[704, 72, 1216, 288]])  # front_row was replaced, back_row counts from now on
    finally:
        wall.stop()
