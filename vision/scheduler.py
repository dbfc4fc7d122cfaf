"""The scheduler: share the CPU across many feeds, one detect+track worker process per core.

Per feed: a target fps (earliest-deadline-first, so an overloaded machine gives every feed the same
share), a motion gate (static frames skip the detector and the last tracks are carried over; moving
frames carry the motion regions, so the detector looks only there) and a fixed worker (its trackers
and the detector's per-feed state live there). Frames due at the same time are batched into one detector
call. A frame goes to a worker through a shared-memory ring slot; when the worker's two batches in
flight are busy, nothing is queued: the source's 1-frame slot is simply overwritten by newer frames
(counted as dropped there) and the missed target-rate slots are counted here. Memory is fixed:
one ring per worker, one frame per source, one small background per motion gate, bounded results.

Results (``Result``: feed, frame meta, detections, detected-or-carried) go to ``on_result`` (called
on the scheduler's result thread; keep it quick) and/or the bounded ``results`` queue (oldest dropped).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from vision.config import MotionConfig
from vision.detect.regions import scaled
from vision.feeds.base import FrameSource
from vision.motion import MotionGate
from vision.rates import RatePolicy, RatesConfig
from vision.scheduler_feeds import FeedState, Job, ParkingArg
from vision.scheduler_types import (
    BatchDone,
    BatchFailed,
    DetectBatch,
    FeedStats,
    ForgetFeed,
    FrameMeta,
    Result,
    SchedulerError,
    WorkerFatal,
    WorkerReady,
    WorkItem,
    rescale,
)
from vision.shm_ring import FrameRing
from vision.worker import DetectorFactory, TrackerFactory, WorkerHandle, spawn_context, start_worker, stop_worker

__all__ = ["FeedStats", "FrameMeta", "Result", "Scheduler", "SchedulerError", "rescale"]

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 2  # batches per worker: one running, one ready to go


class Scheduler:
    """Run a detector (+ tracker) over many ``FrameSource`` feeds with a fixed CPU and memory budget.

    ``detector`` and ``tracker`` are picklable zero-argument factories, called once per worker (the
    tracker once per feed), e.g. ``functools.partial(build_detector, cfg, weights, cache_dir=d)``.
    """

    def __init__(
        self,
        detector: DetectorFactory,
        *,
        tracker: TrackerFactory | None = None,
        workers: int | None = None,
        batch_max: int = 4,
        max_side_px: int = 640,
        results_max: int = 256,
        keep_frames: bool = False,
        on_result: Callable[[Result], None] | None = None,
        pin_workers: bool = False,
        threads_per_worker: int | None = None,
    ) -> None:
        self.workers_n = max(1, workers or os.cpu_count() or 1)
        self.batch_max = max(1, batch_max)
        self.max_side_px = max_side_px
        self.keep_frames = keep_frames
        self.on_result = on_result
        self.results: queue.Queue[Result] = queue.Queue(maxsize=results_max)
        self.results_dropped = 0
        self._detector = detector
        self._tracker = tracker
        self._pin = pin_workers
        cores = os.cpu_count() or 1
        self.threads_per_worker = threads_per_worker or max(1, cores // self.workers_n)
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._feeds: dict[str, FeedState] = {}
        self._workers: list[WorkerHandle] = []
        self._outbox: Any = None
        self._threads: list[threading.Thread] = []
        self._batch_id = 0
        self._fatal: str | None = None
        self._ready = threading.Event()
        self.last_error: str | None = None
        self.detect_s_total = 0.0
        self.batches = 0
        self.restarts = 0  # workers replaced after dying
        self._ctx: Any = None
        self._last_check = 0.0

    # ----------------------------------------------------------------- feeds
    def add_feed(self, source: FrameSource, *, fps: float = 5.0, motion: MotionConfig | None = None,
                 rates: RatesConfig | None = None) -> None:  # fmt: skip
        """Analyse ``source`` at up to ``fps``; the scheduler starts and stops it from now on.

        ``rates`` (``vision.rates``): analyse at full ``fps`` only while the rules need it (a person at a
        vehicle, a tight group), else at its low/idle rate, decided from each detected frame."""
        if fps <= 0:
            raise SchedulerError(f"feed {source.name}: fps must be > 0, got {fps}")
        with self._lock:
            if source.name in self._feeds:
                raise SchedulerError(f"feed {source.name!r} is already scheduled; give each source a unique name")
            counts = [sum(1 for f in self._feeds.values() if f.wid == w) for w in range(self.workers_n)]
            wid = counts.index(min(counts))
            if source.fps_limit is None:
                source.fps_limit = fps * 1.5  # decode a little more often than analysed, skip the rest
            source.add_listener(self._wake.set)
            policy = RatePolicy(rates) if rates is not None and rates.enabled else None
            self._feeds[source.name] = FeedState(source, fps, MotionGate(motion), wid, base_fps=fps, policy=policy)
        if self._threads:
            source.start(require=False)

    def remove_feed(self, name: str, timeout_s: float = 2.0) -> None:
        with self._lock:
            f = self._feeds.pop(name, None)
            if f is None:
                return
            f.removed = True
            if self._workers:
                self._workers[f.wid].inbox.put(ForgetFeed(name))
        f.source.stop(timeout_s)

    def set_parking_zones(self, name: str, zones: ParkingArg) -> None:
        """Feed ``name``'s parking zones (pixel polygons or ``Zone``s, or ``(width, height) -> them``): the worker's
        detector gets them (``set_parking_zones``, the parked-vehicle prior) with the feed's next frame."""
        with self._lock:
            if name not in self._feeds:
                raise SchedulerError(f"feed {name!r} is not scheduled; add it before giving its parking zones")
            self._feeds[name].set_parking(zones)

    @property
    def feeds(self) -> list[str]:
        with self._lock:
            return list(self._feeds)

    # ----------------------------------------------------------------- lifecycle
    def start(self, timeout_s: float = 120.0) -> Scheduler:
        """Spawn the workers, wait until each has loaded its detector, then start the feeds."""
        if self._threads:
            return self
        ctx = self._ctx = spawn_context()
        self._outbox = ctx.Queue()
        slots = MAX_IN_FLIGHT * self.batch_max
        for wid in range(self.workers_n):
            ring = FrameRing(slots, self.max_side_px)
            core = wid % (os.cpu_count() or 1) if self._pin else None
            self._workers.append(start_worker(ctx, wid, self._detector, self._tracker, ring, self._outbox, core,
                                              self.threads_per_worker))
        self._stop.clear()
        t = threading.Thread(target=self._collect, name="vision-results", daemon=True)
        t.start()
        self._threads.append(t)
        if not self._ready.wait(timeout_s) or self._fatal:
            reason = self._fatal or f"workers not ready after {timeout_s:.0f} s"
            self.stop()
            raise SchedulerError(f"vision workers failed to start: {reason}")
        with self._lock:
            feeds = list(self._feeds.values())
        for f in feeds:
            f.source.start(require=False)
        t = threading.Thread(target=self._dispatch, name="vision-dispatch", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop feeds, workers and threads within about ``timeout_s``. True if everything exited cleanly."""
        deadline = time.monotonic() + timeout_s
        self._stop.set()
        self._wake.set()
        with self._lock:
            sources = [f.source for f in self._feeds.values()]
        for s in sources:
            s.request_stop()
        clean = True
        for t in self._threads[1:]:
            t.join(max(0.0, min(1.0, deadline - time.monotonic())))
        worker_deadline = time.monotonic() + max(0.5, (deadline - time.monotonic()) * 0.6)
        for w in self._workers:
            clean &= stop_worker(w, worker_deadline)
        if self._threads:
            self._threads[0].join(max(0.0, min(1.0, deadline - time.monotonic())))
        for s in sources:
            clean &= s.stop(max(0.05, deadline - time.monotonic()))
        for w in self._workers:
            w.ring.close()
        if self._outbox is not None:
            self._outbox.close()
            self._outbox.cancel_join_thread()
        self._workers.clear()
        self._threads.clear()
        self._ready.clear()
        return clean

    def __enter__(self) -> Scheduler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----------------------------------------------------------------- results
    def get(self, timeout_s: float | None = None) -> Result | None:
        """The next result from the bounded queue, or None on timeout."""
        try:
            return self.results.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def stats(self) -> list[FeedStats]:
        now = time.monotonic()
        with self._lock:
            return [f.stats(name, now) for name, f in self._feeds.items()]

    @property
    def in_flight(self) -> list[int]:
        """Batches in flight per worker (never more than ``MAX_IN_FLIGHT``)."""
        with self._lock:
            return [len(w.in_flight) for w in self._workers]

    @property
    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def _emit(self, r: Result) -> None:
        if self.on_result is not None:
            try:
                self.on_result(r)
            except Exception:  # a broken consumer must not stop the pipeline
                log.exception("on_result callback failed")
        try:
            self.results.put_nowait(r)
        except queue.Full:
            try:
                self.results.get_nowait()
                self.results_dropped += 1
            except queue.Empty:
                pass
            try:
                self.results.put_nowait(r)
            except queue.Full:
                self.results_dropped += 1

    # ----------------------------------------------------------------- dispatcher thread
    def _dispatch(self) -> None:
        while not self._stop.is_set():
            wait_s = self._dispatch_once()
            self._wake.wait(wait_s)
            self._wake.clear()

    def _dispatch_once(self) -> float:
        now = time.monotonic()
        next_wake = 0.05
        carried: list[Result] = []
        with self._lock:
            batches: dict[int, list[Job]] = {}
            for f in sorted(self._feeds.values(), key=lambda f: f.next_due):
                if f.next_due > now:
                    next_wake = min(next_wake, f.next_due - now)
                    continue
                if f.in_flight:
                    continue  # its previous frame is still being detected: results stay in order
                w = self._workers[f.wid]
                jobs = batches.setdefault(f.wid, [])
                if not w.ready or len(w.in_flight) >= MAX_IN_FLIGHT or len(jobs) >= self.batch_max:
                    continue  # busy: the source keeps only its newest frame; nothing piles up
                frame = f.source.latest(f.last_index)
                if frame is None:
                    continue  # due, but no new frame yet: the source's listener wakes us
                f.last_index = frame.index
                late = now - f.next_due
                if f.next_due and late >= f.period:
                    skipped = int(late / f.period)
                    f.missed += skipped
                    f.next_due += skipped * f.period
                f.next_due = now + f.period if not f.next_due else max(f.next_due, now - f.period) + f.period
                h, wd = frame.image.shape[:2]
                meta = FrameMeta(f.source.name, frame.index, frame.capture_t_utc, wd, h, frame.pose)
                motion = f.gate.check(frame.image, now)
                if not motion.detect:
                    f.record(False)
                    carried.append(Result(f.source.name, meta, f.last_det, False, time.monotonic() - now,
                                          frame if self.keep_frames else None))
                    continue
                slot = w.free_slots.pop()
                f.in_flight += 1
                sh, sw, scale = w.ring.write(slot, frame.image)
                regions = None if motion.regions is None else scaled(motion.regions, 1.0 / scale)
                item = WorkItem(slot, f.source.name, sh, sw, regions, f.parking_px(wd, h, scale))
                jobs.append(Job(f, meta, frame if self.keep_frames else None, item, scale, now))
            for wid, jobs in batches.items():
                if not jobs:
                    continue
                w = self._workers[wid]
                self._batch_id += 1
                w.in_flight[self._batch_id] = jobs
                w.inbox.put(DetectBatch(self._batch_id, tuple(j.item for j in jobs)))
        for r in carried:
            self._emit(r)
        return next_wake

    # ----------------------------------------------------------------- result thread
    def _collect(self) -> None:
        waiting = set(range(self.workers_n))
        while True:
            if self._stop.is_set():
                workers = self._workers
                if not any(w.in_flight for w in workers) or all(w.process.exitcode is not None for w in workers):
                    return
            self._check_workers()
            try:
                msg = self._outbox.get(timeout=0.2)
            except queue.Empty:
                continue
            except (OSError, ValueError, EOFError):
                return
            if isinstance(msg, WorkerReady):
                self._workers[msg.wid].ready, self._workers[msg.wid].name = True, msg.detector_name
                waiting.discard(msg.wid)
                log.info("vision worker %d ready: %s", msg.wid, msg.detector_name)
                if not waiting:
                    self._ready.set()
            elif isinstance(msg, WorkerFatal):
                self._fatal = f"worker {msg.wid}: {msg.message}"
                self._ready.set()
            elif isinstance(msg, BatchDone | BatchFailed):
                self._finish(msg)
            self._wake.set()

    def _finish(self, msg: BatchDone | BatchFailed) -> None:
        w = self._workers[msg.wid]
        with self._lock:
            jobs: list[Job] = w.in_flight.pop(msg.batch_id, [])
            w.free_slots.extend(j.item.slot for j in jobs)
            for j in jobs:
                j.feed.in_flight -= 1
        if not jobs:
            return  # a batch of a worker that was replaced meanwhile
        if isinstance(msg, BatchFailed):
            self.last_error = msg.message
            log.warning("vision worker %d: batch failed: %s", msg.wid, msg.message)
            for j in jobs:
                j.feed.errors += 1
            return
        self.batches += 1
        self.detect_s_total += msg.detect_s
        done = time.monotonic()
        areas = msg.areas if msg.areas is not None else [1.0] * len(jobs)
        crowds = msg.crowd if msg.crowd is not None else [None] * len(jobs)
        for j, det, area, crowd in zip(jobs, msg.detections, areas, crowds, strict=True):
            f = j.feed
            det = rescale(det, j.scale)
            with self._lock:
                f.last_det = det
                f.record(True, area)
                if f.adapt(det, j.meta, done):  # a higher rate starts at once
                    self._wake.set()
            if not f.removed:
                crowd = None if crowd is None else rescale(crowd, j.scale)
                self._emit(Result(f.source.name, j.meta, det, True, done - j.t0, j.frame, crowd))

    def _check_workers(self) -> None:
        """Replace a worker that died (crash, OOM kill): its in-flight frames are lost, its feeds go on."""
        now = time.monotonic()
        if now - self._last_check < 0.5:
            return
        self._last_check = now
        for w in list(self._workers):
            if self._stop.is_set() or w.process.exitcode is None:
                continue
            if not w.ready:  # died while loading (e.g. spawn could not import the caller's __main__)
                if not self._ready.is_set():
                    self._fatal = f"worker {w.wid} exited with code {w.process.exitcode} before it was ready"
                    self._ready.set()
                continue
            self.last_error = f"worker {w.wid} died (exit code {w.process.exitcode})"
            log.error("vision %s; restarting it (its trackers start over)", self.last_error)
            with self._lock:
                for jobs in w.in_flight.values():
                    for j in jobs:
                        j.feed.errors += 1
                        j.feed.in_flight -= 1
                w.in_flight.clear()
                w.ready = False
            stop_worker(w, now)  # reap it and close its inbox
            core = w.wid % (os.cpu_count() or 1) if self._pin else None
            new = start_worker(self._ctx, w.wid, self._detector, self._tracker, w.ring, self._outbox, core,
                               self.threads_per_worker)
            with self._lock:
                self._workers[w.wid] = new
            self.restarts += 1
