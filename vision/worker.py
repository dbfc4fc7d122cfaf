"""The detect+track worker process (one per core) and the handle the scheduler keeps for it.

A worker never decodes video: it reads already-decoded pixels from the scheduler's ``FrameRing``
(shared memory), runs ONE detector call per batch (frames of several feeds), updates each feed's
tracker, and sends back only the small ``Detections``. Protocol (typed messages of
``vision.scheduler_types``, all tiny):

- in:  ``DetectBatch(batch_id, items=(WorkItem(slot, feed, height, width, regions), ...))`` (regions: motion
  boxes in the slot's pixels, or None = the whole frame), ``ForgetFeed(feed)``, ``None`` = stop
- out: ``WorkerReady(wid, detector_name)``, ``WorkerFatal(wid, message)``,
  ``BatchDone(wid, batch_id, detections, detect_s, areas | None)``, ``BatchFailed(wid, batch_id, message)``
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vision.scheduler_types import (
    BatchDone,
    BatchFailed,
    DetectBatch,
    ForgetFeed,
    Polygon,
    WorkerFatal,
    WorkerReady,
    WorkItem,
)
from vision.types import Detections

log = logging.getLogger(__name__)


class TrackerLike(Protocol):
    def update(self, detections: Detections, image: np.ndarray | None = None) -> Detections: ...
    def reset(self) -> None: ...


#: picklable zero-argument factories, called inside the worker (e.g. ``functools.partial(build_detector, cfg, w)``)
DetectorFactory = Callable[[], Any]
TrackerFactory = Callable[[], TrackerLike]


def worker_main(
    wid: int,
    detector_factory: DetectorFactory,
    tracker_factory: TrackerFactory | None,
    ring_name: str,
    slots: int,
    max_side_px: int,
    inbox: Any,
    outbox: Any,
    pin_core: int | None,
    threads: int = 1,
) -> None:
    """Entry point of a worker process (spawned)."""
    if pin_core is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {pin_core})
    from vision.shm_ring import FrameRing  # after the affinity, before any model import

    ring = None
    detector = None
    try:
        import cv2

        cv2.setNumThreads(threads)  # one worker per core: no thread pools fighting over it
        os.environ["OMP_NUM_THREADS"] = str(threads)
        from vision.detect._ultralytics import limit_onnxruntime_threads

        limit_onnxruntime_threads(threads)
        ring = FrameRing.attach(ring_name, slots, max_side_px)
        detector = detector_factory()
        detector.detect([np.zeros((max_side_px // 2, max_side_px // 2, 3), np.uint8)])  # warm up
    except Exception as exc:  # anything a detector factory raises must reach the parent as one line
        outbox.put(WorkerFatal(wid, f"{type(exc).__name__}: {exc}"))
        if ring is not None:
            ring.close()
        return
    outbox.put(WorkerReady(wid, getattr(detector, "name", type(detector).__name__)))
    with_regions = accepts_regions(detector)
    trackers: dict[str, TrackerLike] = {}
    parking: dict[str, tuple[Polygon, ...]] = {}  # feed -> the parking zones the detector has
    try:
        while True:
            msg = inbox.get()
            if msg is None:
                break
            if isinstance(msg, ForgetFeed):
                trackers.pop(msg.feed, None)
                parking.pop(msg.feed, None)
                forget = getattr(detector, "forget", None)
                if forget is not None:
                    forget(msg.feed)
                continue
            if not isinstance(msg, DetectBatch):
                log.warning("vision worker %d: ignoring an unknown message %r", wid, type(msg).__name__)
                continue
            try:
                apply_parking(detector, msg.items, parking)
                images = [ring.view(it.slot, it.height, it.width) for it in msg.items]
                feeds = [it.feed for it in msg.items]
                t0 = time.perf_counter()
                # per-feed names: the composite keeps each feed's slow-refresh vehicle cache apart
                if with_regions:
                    dets = detector.detect_batch(images, feeds, regions=[it.regions for it in msg.items])
                else:
                    dets = detector.detect_batch(images, feeds)
                areas = getattr(detector, "last_area", None) if with_regions else None
                out = []
                cuts = getattr(detector, "last_cuts", ())  # per image: a jump cut, the scene's tracks end there
                for k, (it, img, det) in enumerate(zip(msg.items, images, dets, strict=True)):
                    if tracker_factory is not None:
                        trk = trackers.get(it.feed)
                        if trk is None:
                            trk = trackers[it.feed] = tracker_factory()
                        elif k < len(cuts) and cuts[k]:
                            trk.reset()
                        det = trk.update(det, img)
                    out.append(det)
                del images
                areas = tuple(areas) if areas is not None and len(areas) == len(out) else None
                crowd = tuple(getattr(detector, "last_crowd", ()))  # vision.crowd.CrowdCountingDetector
                crowd = crowd if len(crowd) == len(out) and any(c is not None for c in crowd) else None
                outbox.put(BatchDone(wid, msg.batch_id, tuple(out), time.perf_counter() - t0, areas, crowd))
            except Exception as exc:  # one bad batch must not kill the worker; the parent logs it
                outbox.put(BatchFailed(wid, msg.batch_id, f"{type(exc).__name__}: {exc}"))
    finally:
        close = getattr(detector, "close", None)
        if close is not None:
            close()
        ring.close()


def apply_parking(detector: Any, items: tuple[WorkItem, ...], applied: dict[str, tuple[Polygon, ...]]) -> None:
    """Give ``detector.set_parking_zones`` each feed's parking zones (slot pixels) when they differ from what it
    has (``applied``, updated): a zone drawn or removed while the feed runs counts from this batch on."""
    set_zones = getattr(detector, "set_parking_zones", None)
    if set_zones is None:
        return
    for it in items:
        if applied.get(it.feed, ()) != it.parking:
            set_zones(it.feed, [np.asarray(p, np.float32) for p in it.parking])
            applied[it.feed] = it.parking


def accepts_regions(detector: Any) -> bool:
    """Whether ``detector.detect_batch`` takes motion ``regions`` (every ``vision.detect.Detector``
    does; a bare duck-typed detector may not, and then sees whole frames)."""
    try:
        return "regions" in inspect.signature(detector.detect_batch).parameters
    except (AttributeError, TypeError, ValueError):
        return False


@dataclass
class WorkerHandle:
    """The scheduler's side of one worker: its process, inbox, ring and free slots."""

    wid: int
    process: Any
    inbox: Any
    ring: Any
    free_slots: list[int]
    in_flight: dict[int, list[Any]] = field(default_factory=dict)  # batch_id -> the batch's jobs
    ready: bool = False
    name: str = ""
    feeds: set[str] = field(default_factory=set)


def start_worker(
    ctx: Any,
    wid: int,
    detector_factory: DetectorFactory,
    tracker_factory: TrackerFactory | None,
    ring: Any,
    outbox: Any,
    pin_core: int | None,
    threads: int = 1,
) -> WorkerHandle:
    inbox = ctx.Queue()
    proc = ctx.Process(
        target=worker_main,
        name=f"lookout-vision-{wid}",
        args=(wid, detector_factory, tracker_factory, ring.name, ring.slots, ring.max_side_px, inbox, outbox, pin_core,
              threads),
        daemon=True,
    )
    proc.start()
    return WorkerHandle(wid, proc, inbox, ring, list(range(ring.slots)))


def stop_worker(handle: WorkerHandle, deadline_mono: float) -> bool:
    """Ask nicely, then terminate, then kill; never wait past ``deadline_mono``. True if it exited cleanly."""
    proc = handle.process
    with contextlib.suppress(ValueError, OSError, queue.Full):
        handle.inbox.put_nowait(None)
    proc.join(max(0.0, deadline_mono - time.monotonic()))
    clean = not proc.is_alive()
    if not clean:
        proc.terminate()
        proc.join(1.0)
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
    handle.inbox.close()
    handle.inbox.cancel_join_thread()
    return clean


def spawn_context() -> Any:
    return mp.get_context("spawn")
