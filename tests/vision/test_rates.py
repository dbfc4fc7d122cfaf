"""vision.rates: each feed's analysed rate follows what its rules need (full / low / idle), in the
policy and in the real scheduler with spawned workers."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from lookout.config import parse_config
from vision.config import MotionConfig
from vision.feeds import IteratorSource
from vision.rates import RatePolicy, RatesConfig, need
from vision.scheduler import Scheduler
from vision.types import PERSON, Detections

HERE = Path(__file__).parent
CAR = 2


def _det(*boxes: tuple[int, tuple[float, float, float, float]]) -> Detections:
    return Detections(np.array([b for _, b in boxes], np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32),
                      np.array([c for c, _ in boxes], np.int32))  # fmt: skip


ALONE = _det((PERSON, (100, 100, 140, 200)))
AT_CAR = _det((PERSON, (100, 100, 140, 200)), (CAR, (150, 120, 300, 210)))
FAR_CAR = _det((PERSON, (100, 100, 140, 200)), (CAR, (400, 120, 550, 210)))
GROUP = _det((PERSON, (100, 100, 140, 200)), (PERSON, (150, 100, 190, 200)))
APART = _det((PERSON, (100, 100, 140, 200)), (PERSON, (400, 100, 440, 200)))


def test_what_the_rules_need() -> None:
    cfg = RatesConfig()
    assert need(Detections.empty(), cfg) == "idle"
    assert need(ALONE, cfg) == "low" and need(FAR_CAR, cfg) == "low" and need(APART, cfg) == "low"
    assert need(AT_CAR, cfg) == "full" and need(GROUP, cfg) == "full"
    assert need(_det((CAR, (0, 0, 50, 50))), cfg) == "idle"  # a parked car alone needs nothing


def test_up_at_once_down_after_the_hold_once_a_second() -> None:
    p = RatePolicy(RatesConfig(low_fps=2, idle_fps=1, hold_s=3))
    assert p.update("a", ALONE, 0.0, 10.0) == 10.0  # starts at full until the need has gone for hold_s
    assert p.update("a", ALONE, 3.5, 10.0) == 2.0 and p.level("a") == "low"
    assert p.update("a", AT_CAR, 3.7, 10.0) == 10.0  # a person at a car: full at once
    assert p.update("a", ALONE, 4.0, 10.0) == 10.0  # held
    assert p.update("a", Detections.empty(), 6.0, 10.0) == 10.0  # decided: the car was 2.3 s ago
    assert p.update("a", Detections.empty(), 6.8, 10.0) == 10.0  # next decision a second later
    assert p.update("a", Detections.empty(), 7.0, 10.0) == 2.0  # the car need is 3.3 s old; the person 3.0 s
    assert p.update("a", Detections.empty(), 7.5, 10.0) == 2.0
    assert p.update("a", Detections.empty(), 8.0, 10.0) == 1.0 and p.level("a") == "idle"
    assert p.update("b", GROUP, 0.0, 4.0) == 4.0 and p.level("b") == "full"  # feeds are separate
    assert RatePolicy(RatesConfig(enabled=False)).update("a", Detections.empty(), 99.0, 5.0) == 5.0
    assert RatePolicy(RatesConfig(low_fps=8)).fps("low", 5.0) == 5.0  # never above the camera's fps


def test_camera_config_has_rates() -> None:
    cfg = parse_config('[cameras.gate]\nurl = "x.mp4"\nfps = 8\n[cameras.gate.rates]\nlow_fps = 3\n')
    assert cfg.cameras["gate"].rates.low_fps == 3 and cfg.cameras["gate"].rates.enabled


def _frames(levels: list[tuple[float, int]]) -> Iterator:
    """Frames of a grey level per phase (seconds, grey) at 50 fps; a moving square so motion never gates."""
    i = 0
    for dur, grey in levels:
        end = time.monotonic() + dur
        while time.monotonic() < end:
            img = np.full((240, 320, 3), grey, np.uint8)
            x = (i * 13) % 200
            img[10:40, x : x + 30] = 255 if grey < 200 else 0
            yield img, datetime.now(UTC)
            i += 1
            time.sleep(0.02)


@pytest.fixture(autouse=True)
def _standin_importable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(HERE))
    yield


def test_the_scheduler_analyses_fewer_frames_where_the_rules_need_fewer() -> None:
    import rates_standin

    s = Scheduler(rates_standin.GreyPeople, workers=1)
    plan = [(2.0, 200), (3.0, 100), (3.0, 10)]  # a tight group, then one person alone, then nobody
    s.add_feed(IteratorSource("cam", functools.partial(_frames, plan)), fps=10,
               motion=MotionConfig(enabled=False), rates=RatesConfig(low_fps=2, idle_fps=1, hold_s=0.5))  # fmt: skip
    seen: list[tuple[float, int, str]] = []  # (capture time, people, level)
    with s:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            r = s.get(timeout_s=1.0)
            if r is None:
                if seen and seen[-1][1] == 0 and len([x for x in seen if x[1] == 0]) >= 3:
                    break
                continue
            seen.append((r.meta.capture_t_utc.timestamp(), int(np.sum(r.detections.class_id == PERSON)),
                         s.stats()[0].rate_level))  # fmt: skip
            if sum(1 for x in seen if x[1] == 0) >= 3:
                break
    group = [t for t, n, _ in seen if n == 2]
    alone = [t for t, n, _ in seen if n == 1]
    levels = [lv for _, _, lv in seen]
    assert "full" in levels and "low" in levels and "idle" in levels, levels
    gaps_group = np.diff(group)
    gaps_alone = np.diff(alone[-3:])  # after the hold: at 2 fps
    assert len(group) >= 8 and np.median(gaps_group) < 0.2  # 10 fps for the group
    assert len(gaps_alone) and gaps_alone.min() >= 0.4  # no faster than 2 fps while alone
