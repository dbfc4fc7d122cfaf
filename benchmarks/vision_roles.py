"""The measured sides of ``lookout bench vision``, each run in its own subprocess by the orchestrator:

- ``ours``: ``vision.scheduler.Scheduler`` over N paced ``FileSource`` copies of the clip;
- ``naive`` / ``naive-onnx``: one thread per feed, each a ``YOLO(weights).track(clip, stream=True)`` loop;
- ``long``: ours for ``--minutes`` at one N, memory drift.

Each role prints ``RESULT {json}`` lines (``vision_measure.emit``) that the orchestrator collects.
"""

from __future__ import annotations

import argparse
import functools
import os
import threading
import time
from pathlib import Path

from benchmarks.vision_measure import Row, Sampler, emit, ladder, onnx_path, slope, window


def _feeds_list(spec: str) -> list[int]:
    return [int(x) for x in spec.split(",") if x.strip()]


def _frame_count(clip: Path) -> int:
    import cv2

    cap = cv2.VideoCapture(str(clip))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return n


# ---------------------------------------------------------------------------- ours
def _ours_scheduler(a: argparse.Namespace, n: int, onnx: Path):
    from vision.detect.base import build_detector
    from vision.detect.ultralytics_pose import PoseDetectorConfig
    from vision.scheduler import Scheduler
    from vision.track import Tracker

    factory = functools.partial(build_detector, PoseDetectorConfig(imgsz=a.imgsz), onnx)
    extra = {"batch_max": a.batch_max} if a.batch_max else {}
    sched = Scheduler(factory, tracker=functools.partial(Tracker, "bytetrack"), workers=a.workers, **extra)
    _set_feeds(sched, a, n)
    return sched


def _set_feeds(sched, a: argparse.Namespace, n: int) -> None:
    """Make the scheduler analyse exactly ``cam0`` .. ``cam{n-1}`` (adds or removes copies)."""
    from vision.config import MotionConfig
    from vision.feeds import FileSource

    frames = a.clip_frames
    have = set(sched.feeds)
    for name in sorted(have):
        if int(name[3:]) >= n:
            sched.remove_feed(name)
    motion = MotionConfig(enabled=not a.no_motion)
    for i in range(n):  # copies start at different frames: real cameras do not run in step
        if f"cam{i}" not in have:
            src = FileSource(f"cam{i}", str(a.clip), loop=True, pace=True, start_frame=(i * 7) % max(1, frames - 1))
            sched.add_feed(src, fps=a.fps, motion=motion)


def _ours_counts(sched) -> dict[str, tuple[int, int]]:
    return {st.feed: (st.results, st.detected) for st in sched.stats()}


def _measure_ours(sched, a: argparse.Namespace, n: int) -> Row:
    r = window(lambda: _ours_counts(sched), lambda: [os.getpid(), *sched.worker_pids],
               lambda: all(st.results > 0 for st in sched.stats()), a, n)
    st = sched.stats()
    r["source_dropped"] = sum(x.source.dropped for x in st)
    r["missed_slots"] = sum(x.missed for x in st)
    area = [getattr(x, "area_frac", None) for x in st]  # FeedStats.area_frac: pixels sent to the detector
    if area and all(v is not None for v in area):
        r["area_frac_mean"] = round(sum(area) / len(area), 3)
    return r


def role_ours(a: argparse.Namespace) -> list[Row]:
    """Full run: a fresh scheduler per N. ``--quick``: one scheduler, feeds added/removed per N
    (saves the worker start-up per N; every window still starts after its own warm-up)."""
    onnx = onnx_path(a.data_dir, a.imgsz)
    a.clip_frames = _frame_count(a.clip)
    cores = os.cpu_count() or 1
    if not a.quick:
        def measure(n: int) -> Row:
            sched = _ours_scheduler(a, n, onnx)
            sched.start(timeout_s=180)
            try:
                return _measure_ours(sched, a, n)
            finally:
                sched.stop()

        return ladder(measure, _feeds_list(a.feeds), False, 0, 0, a.fps, cores, emit)
    sched = _ours_scheduler(a, a.probe_feeds, onnx)
    sched.start(timeout_s=180)

    def measure_quick(n: int) -> Row:
        _set_feeds(sched, a, n)
        return _measure_ours(sched, a, n)

    try:
        return ladder(measure_quick, [], True, a.probe_feeds, a.quick_tries, a.fps, cores, emit)
    finally:
        sched.stop()


def role_long(a: argparse.Namespace) -> Row:
    onnx = onnx_path(a.data_dir, a.imgsz)
    a.clip_frames = _frame_count(a.clip)
    n = a.long_feeds or 1
    sched = _ours_scheduler(a, n, onnx)
    sched.start(timeout_s=180)
    pids = lambda: [os.getpid(), *sched.worker_pids]  # noqa: E731
    try:
        with Sampler(pids, every_s=2.0, pss_every=5) as s:
            t0 = time.monotonic()
            c0 = _ours_counts(sched)
            time.sleep(a.minutes * 60)
            c1, dt = _ours_counts(sched), time.monotonic() - t0
    finally:
        stats = sched.stats()
        sched.stop()
    series = s.series
    warm = min(60.0, a.minutes * 30)
    after = [(t, m) for t, m in series if t >= warm] or series
    rss_after = [(t, m) for t, m in s.rss_series if t >= warm] or s.rss_series
    half = rss_after[len(rss_after) // 2 :]
    fps = [(c1[k][0] - c0[k][0]) / dt for k in c1]
    r = {
        "feeds": n,
        "minutes": round(dt / 60, 2),
        "pss_start_mb": round(series[0][1], 1),
        "pss_after_warmup_mb": round(after[0][1], 1),
        "pss_end_mb": round(series[-1][1], 1),
        "pss_peak_mb": round(max(m for _, m in series), 1),
        "pss_drift_mb": round(series[-1][1] - after[0][1], 1),
        "pss_slope_mb_per_min": round(slope(after) * 60, 2),
        "rss_peak_mb": round(s.peak_mb, 1),
        "rss_after_warmup_mb": round(rss_after[0][1], 1),
        "rss_end_mb": round(s.rss_series[-1][1], 1),
        "rss_slope_mb_per_min": round(slope(rss_after) * 60, 2),
        "rss_drift_2nd_half_mb": round(half[-1][1] - half[0][1], 1),
        "fps_min": round(min(fps), 2),
        "fps_mean": round(sum(fps) / len(fps), 2),
        "source_dropped": sum(x.source.dropped for x in stats),
        "samples": len(series),
    }
    emit(r)
    return r


# ---------------------------------------------------------------------------- naive
def _measure_naive(a: argparse.Namespace, weights: Path, n: int) -> Row:
    from ultralytics import YOLO

    stop = threading.Event()
    counts = {f"cam{i}": [0, 0] for i in range(n)}

    def loop(name: str) -> None:
        model = YOLO(str(weights), task="pose")
        while not stop.is_set():
            for _ in model.track(source=str(a.clip), stream=True, persist=True, imgsz=a.imgsz,
                                 tracker="bytetrack.yaml", verbose=False, device="cpu"):
                counts[name][0] += 1
                counts[name][1] += 1
                if stop.is_set():
                    break

    threads = [threading.Thread(target=loop, args=(k,), daemon=True) for k in counts]
    for t in threads:
        t.start()
    try:
        return window(lambda: {k: (v[0], v[1]) for k, v in counts.items()}, lambda: [os.getpid()],
                      lambda: all(v[0] > 0 for v in counts.values()), a, n)
    finally:
        stop.set()
        for t in threads:
            t.join(30)


def role_naive(a: argparse.Namespace, weights: Path) -> list[Row]:
    cores = os.cpu_count() or 1
    feeds = _feeds_list(a.naive_feeds)
    return ladder(lambda n: _measure_naive(a, weights, n), feeds, a.quick, 1, a.quick_tries, a.fps, cores, emit)
