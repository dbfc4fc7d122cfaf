"""The scheduler with real spawned worker processes and a stand-in detector (tests/vision/standin_detector.py)."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil
import pytest

from vision.config import MotionConfig
from vision.feeds import IteratorSource
from vision.scheduler import Result, Scheduler, SchedulerError

HERE = Path(__file__).parent


@pytest.fixture(autouse=True)
def _standin_importable(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(HERE))  # spawned workers inherit sys.path
    yield


def standin():
    import standin_detector

    return standin_detector


def frames(grey: int, size=(720, 1280), moving: bool = False, period_s: float = 0.0) -> Iterator:
    """Endless frames of one grey level (static) or with a bright square sweeping across (moving)."""
    i = 0
    while True:
        img = np.full((*size, 3), grey, np.uint8)
        if moving:
            x = (i * 37) % (size[1] - 100)
            img[50:150, x : x + 100] = 255
        yield img, datetime.now(UTC)
        i += 1
        if period_s:
            time.sleep(period_s)  # a camera's frame interval (the source's own thread)


def collect(s: Scheduler, n: int, timeout_s: float = 20.0, pred=lambda r: True) -> list[Result]:
    out: list[Result] = []
    end = time.monotonic() + timeout_s
    while len(out) < n:
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError(f"only {len(out)} of {n} results after {timeout_s} s: {s.stats()}")
        r = s.get(timeout_s=left)
        if r is not None and pred(r):
            out.append(r)
    return out


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_detections_cross_shared_memory_and_come_back_in_original_pixels() -> None:
    sd = standin()
    s = Scheduler(functools.partial(sd.StandInDetector), tracker=sd.CountingTracker, workers=2, max_side_px=320)
    s.add_feed(IteratorSource("a", functools.partial(frames, 40, moving=True, period_s=0.01)), fps=20)
    s.add_feed(IteratorSource("b", functools.partial(frames, 200, (240, 320), moving=True, period_s=0.01)), fps=20)
    with s:
        got = collect(s, 16, pred=lambda r: r.detected)
    by_feed = {f: [r for r in got if r.feed == f] for f in ("a", "b")}
    assert all(by_feed.values()), "both feeds were analysed"
    a, b = by_feed["a"][0], by_feed["b"][0]
    assert a.meta.width == 1280 and a.meta.height == 720 and a.frame is None
    np.testing.assert_allclose(a.detections.xyxy, [[0, 0, 1280, 720]], atol=3)  # found at 320 px, scaled back
    np.testing.assert_allclose(a.detections.keypoints[0, 0, :2], [1280, 720], atol=3)
    np.testing.assert_allclose(b.detections.xyxy, [[0, 0, 320, 240]])  # small enough: not scaled
    mean_grey = (40 * 1280 * 720 + 215 * 100 * 100) / (1280 * 720)  # the background plus the bright square
    assert a.detections.confidence[0] == pytest.approx(mean_grey / 255, abs=0.02)
    for rs in by_feed.values():  # one tracker per feed, updated once per detected frame, in order
        ids = [int(r.detections.tracker_id[0]) for r in rs]
        assert ids == sorted(ids) and ids[0] >= 1
        indices = [r.meta.index for r in rs]
        assert indices == sorted(set(indices))  # each feed's results in frame order
    assert {st.worker for st in s.stats()} == {0, 1}  # the two feeds went to different workers


def test_a_jump_cut_the_detector_reports_restarts_the_feeds_tracks() -> None:
    sd = standin()
    s = Scheduler(functools.partial(sd.StandInDetector, cut_on_call=4), tracker=sd.CountingTracker, workers=1)
    s.add_feed(IteratorSource("a", functools.partial(frames, 40, moving=True, period_s=0.01)), fps=20,
               motion=MotionConfig(enabled=False))  # fmt: skip
    with s:
        got = collect(s, 6, pred=lambda r: r.detected)
    ids = [int(r.detections.tracker_id[0]) for r in got]
    assert ids[:6] == [1, 2, 3, 1, 2, 3]  # the counting tracker was reset at the 4th detection: the cut


def test_motion_gate_skips_static_frames_and_carries_tracks_over() -> None:
    sd = standin()
    s = Scheduler(sd.StandInDetector, tracker=sd.CountingTracker, workers=1)
    still = MotionConfig(max_skip_s=1000)
    s.add_feed(IteratorSource("still", functools.partial(frames, 90, period_s=0.01)), fps=20, motion=still)
    s.add_feed(IteratorSource("busy", functools.partial(frames, 90, moving=True, period_s=0.01)), fps=20, motion=still)
    with s:
        got = collect(s, 10, pred=lambda r: r.feed == "still")
        collect(s, 5, pred=lambda r: r.feed == "busy")
        stats = {st.feed: st for st in s.stats()}
    assert got[0].detected and not any(r.detected for r in got[1:])
    first = got[0].detections
    assert all(r.detections is first for r in got[1:])  # carried over, not re-detected
    assert stats["still"].detected == 1 and stats["still"].gated >= 9
    assert stats["busy"].gated <= 1 and stats["busy"].detected >= 5


def test_overload_drops_frames_instead_of_queueing() -> None:
    sd = standin()
    s = Scheduler(functools.partial(sd.StandInDetector, 0.15), workers=1, batch_max=2, results_max=8)
    for k in range(6):
        src = IteratorSource(f"cam{k}", functools.partial(frames, 10 * k, moving=True, period_s=0.01))
        s.add_feed(src, fps=10, motion=MotionConfig(enabled=False))
    with s:
        # nobody reads the results queue while ~24 frames per second are offered to a ~13/s detector
        deadline = time.monotonic() + 20
        while min(st.detected for st in s.stats()) < 3:
            if time.monotonic() > deadline:
                raise AssertionError(f"feeds starved: {s.stats()}")
            time.sleep(0.05)
        stats = s.stats()
        in_flight = max(s.in_flight)
    assert in_flight <= 2
    assert s.results.qsize() <= 8 and s.results_dropped > 0  # bounded output, oldest dropped
    assert sum(st.missed for st in stats) > 0  # target-rate slots missed while the worker was busy ...
    assert all(st.source.dropped > 0 for st in stats)  # ... and the sources overwrote, not queued
    detected = [st.detected for st in stats]
    assert max(detected) - min(detected) <= max(3, max(detected) // 2)  # fair share (EDF)


def test_worker_start_and_stop_are_bounded_even_with_a_stuck_detector() -> None:
    sd = standin()
    s = Scheduler(functools.partial(sd.StandInDetector, 60.0), workers=2)
    s.add_feed(IteratorSource("x", functools.partial(frames, 5, moving=True, period_s=0.01)), fps=5)
    s.start(timeout_s=60)
    pids = s.worker_pids
    assert len(pids) == 2 and all(alive(p) for p in pids)
    deadline = time.monotonic() + 20
    while not any(s.in_flight):  # one worker is now stuck in a 60 s detect call
        assert time.monotonic() < deadline
        time.sleep(0.02)
    t0 = time.monotonic()
    clean = s.stop(timeout_s=2.0)
    took = time.monotonic() - t0
    assert not clean  # the stuck worker had to be terminated ...
    assert took < 10.0  # ... within the bound, not after its 60 s call
    assert not any(alive(p) for p in pids)


def test_a_worker_that_dies_is_replaced_and_its_feed_goes_on() -> None:
    sd = standin()
    s = Scheduler(functools.partial(sd.StandInDetector), workers=1)
    s.add_feed(IteratorSource("x", functools.partial(frames, 5, moving=True, period_s=0.01)), fps=20)
    with s:
        collect(s, 3)
        (pid,) = s.worker_pids
        psutil.Process(pid).kill()
        deadline = time.monotonic() + 30
        while s.restarts < 1 or s.worker_pids == [pid]:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.05)
        before = s.stats()[0].detected
        collect(s, 3, pred=lambda r: r.detected)
        assert s.stats()[0].detected > before
    assert "died" in (s.last_error or "")
    assert not alive(pid)


def test_clean_stop_of_idle_workers() -> None:
    sd = standin()
    s = Scheduler(sd.StandInDetector, workers=2)
    s.start(timeout_s=60)
    pids = s.worker_pids
    assert s.stop(timeout_s=5.0)
    assert not any(alive(p) for p in pids)


def test_a_detector_that_cannot_load_is_one_clear_error() -> None:
    sd = standin()
    s = Scheduler(functools.partial(sd.StandInDetector, crash=True), workers=1)
    with pytest.raises(SchedulerError, match="stand-in detector refuses to load"):
        s.start(timeout_s=60)


def test_a_worker_that_dies_while_loading_fails_start_at_once() -> None:
    s = Scheduler(functools.partial(os._exit, 3), workers=1)  # the process ends without a word
    with pytest.raises(SchedulerError, match="worker 0 exited with code 3 before it was ready"):
        s.start(timeout_s=120)  # the message differs from the timeout's ("not ready after 120 s")


def test_a_failing_batch_is_counted_and_other_feeds_go_on() -> None:
    sd = standin()
    s = Scheduler(functools.partial(sd.StandInDetector, fail_feed_value=77), workers=1, batch_max=1)
    s.add_feed(IteratorSource("bad", functools.partial(frames, 77, period_s=0.01)), fps=10,
               motion=MotionConfig(enabled=False))
    s.add_feed(IteratorSource("good", functools.partial(frames, 20, period_s=0.01)), fps=10,
               motion=MotionConfig(enabled=False))
    with s:
        collect(s, 5, pred=lambda r: r.feed == "good")
        stats = {st.feed: st for st in s.stats()}
    assert stats["bad"].errors >= 1 and stats["bad"].detected == 0
    assert "fail on grey 77" in (s.last_error or "")


@pytest.mark.parametrize("fps", [0, -1])
def test_bad_fps_is_refused(fps: float) -> None:
    s = Scheduler(standin().StandInDetector, workers=1)
    with pytest.raises(SchedulerError, match="fps must be > 0"):
        s.add_feed(IteratorSource("x", iter([])), fps=fps)


def test_duplicate_feed_names_are_refused() -> None:
    s = Scheduler(standin().StandInDetector, workers=1)
    s.add_feed(IteratorSource("x", iter([])))
    with pytest.raises(SchedulerError, match="already scheduled"):
        s.add_feed(IteratorSource("x", iter([])))

