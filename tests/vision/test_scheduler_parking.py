"""Parking zones reach the detector in the scheduler's worker process (``Scheduler.set_parking_zones``),
in the worker's pixels, once per change, and live: real spawned workers, a stand-in detector that reports
the zones it has as car boxes (tests/vision/parking_standin.py)."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from vision.config import MotionConfig
from vision.feeds import IteratorSource
from vision.scheduler import Result, Scheduler, SchedulerError

HERE = Path(__file__).parent
CAR = 2


@pytest.fixture(autouse=True)
def _standin_importable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(HERE))  # spawned workers inherit sys.path
    yield


def frames(size: tuple[int, int] = (720, 1280)) -> Iterator:
    while True:
        yield np.full((*size, 3), 90, np.uint8), datetime.now(UTC)
        time.sleep(0.01)


def cars(r: Result) -> list[tuple[list[float], float]]:
    d = r.detections
    return [(d.xyxy[i].round(1).tolist(), round(float(d.confidence[i]), 2)) for i in np.flatnonzero(d.class_id == CAR)]


def wait_for(s: Scheduler, pred, timeout_s: float = 30.0) -> Result:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < end:
        r = s.get(timeout_s=max(0.0, end - time.monotonic()))
        if r is not None and r.detected:
            last = r
            if pred(r):
                return r
    raise AssertionError(f"no matching result within {timeout_s} s; last cars: {last and cars(last)}")


def test_parking_zones_reach_the_worker_detector_scaled_once_and_live() -> None:
    import parking_standin

    s = Scheduler(parking_standin.ParkingStandIn, workers=1, max_side_px=640)  # 1280x720 frames -> slot scale 2
    s.add_feed(IteratorSource("gate", functools.partial(frames)), fps=20, motion=MotionConfig(enabled=False))
    s.add_feed(IteratorSource("yard", functools.partial(frames)), fps=20, motion=MotionConfig(enabled=False))
    sizes: list[tuple[int, int]] = []

    def row(w: int, h: int) -> list[np.ndarray]:
        sizes.append((w, h))  # resolved at the frame's size, once per size
        return [np.array([[0.1 * w, 0.5 * h], [0.5 * w, 0.5 * h], [0.5 * w, 0.9 * h], [0.1 * w, 0.9 * h]])]

    s.set_parking_zones("gate", row)
    with s:
        r = wait_for(s, lambda r: r.feed == "gate" and cars(r))
        assert cars(r) == [([128.0, 360.0, 640.0, 648.0], 0.01)]  # frame pixels again; handed over once
        for _ in range(10):  # later frames: the same zones, not handed over again
            r = wait_for(s, lambda r: r.feed == "gate")
            assert cars(r) == [([128.0, 360.0, 640.0, 648.0], 0.01)]
        assert sizes == [(1280, 720)]
        assert not cars(wait_for(s, lambda r: r.feed == "yard"))  # another feed's zones stay its own

        drawn = [np.array([[700, 100], [1200, 100], [1200, 400]], np.float32)]  # an operator draws a new row
        s.set_parking_zones("gate", drawn)
        r = wait_for(s, lambda r: r.feed == "gate" and cars(r) and cars(r)[0][0][0] == 700.0)
        assert cars(r) == [([700.0, 100.0, 1200.0, 400.0], 0.02)]

        s.set_parking_zones("gate", ())  # and deletes it
        wait_for(s, lambda r: r.feed == "gate" and not cars(r))
    with pytest.raises(SchedulerError, match="not scheduled"):
        s.set_parking_zones("nowhere", drawn)
