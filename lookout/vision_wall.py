"""The console's video wall and events over ``vision``: ``VisionWall`` runs the scheduler and a pipeline
per feed, ``AnnotatedFeed`` holds each feed's newest annotated frame (``console.services.VideoFeed``),
``BusEvents`` serves the events published on the bus (``console.services.EventFeed``).

``lookout.wiring`` re-exports all three and holds the factories they use (detector, tracker, bus,
geolocator, evidence), imported inside ``VisionWall``'s methods so the re-export is not circular.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from console.services import FeedFrame
from lookout.config import LookoutConfig

log = logging.getLogger("lookout.wiring")  # events have always been logged under this name


@dataclass
class AnnotatedFeed:
    """``console.services.VideoFeed``: the newest annotated frame of one vision feed (drawn by
    ``vision.pipeline.FeedPipeline``; this only holds it for the console's timer)."""

    name: str
    source: Any = None  # vision.feeds.FrameSource, for its health
    _latest: FeedFrame | None = None
    _t_mono: float = 0.0
    _times: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    last_event: Any = None  # the newest vision.behaviours.Event of this feed

    def publish(self, image: np.ndarray, n_people: int, n_vehicles: int, alert: str | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            self._times = [t for t in self._times if now - t < 5.0] + [now]
            fps = (len(self._times) - 1) / max(1e-3, self._times[-1] - self._times[0]) if len(self._times) > 1 else 0
            caption = f"{fps:.1f} fps · {n_people} people · {n_vehicles} vehicles"
            if alert:
                caption += f" · {alert}"
            self._latest, self._t_mono = FeedFrame(image, caption), now

    def latest(self) -> FeedFrame | None:
        with self._lock:
            if self._latest is None:
                return None
            return FeedFrame(self._latest.image, self._latest.caption, time.monotonic() - self._t_mono)

    def status(self) -> str:
        last = "" if self.last_event is None else f" (last event: {self.last_event.kind.replace('_', ' ')})"
        if self.source is None:
            return last.strip(" ()")
        h = self.source.health()
        if h.connected:
            return f"connected, {h.fps_in:.1f} fps in, waiting for analysis{last}"
        if h.ended:
            return f"source ended{last}"
        why = f": {h.last_error}" if h.last_error else ""
        return f"{h.url} unreachable, retrying (attempt {h.reconnects + 1}){why}{last}"


class BusEvents:
    """``console.services.EventFeed`` over the bus: the newest ``MAX_EVENTS`` behaviour events published on
    it (by this process's pipeline or, with an MQTT bus, by ``lookout node``s elsewhere), with increasing
    sequence numbers. Events arrive on the bus's delivery thread; the console polls ``events_since``."""

    MAX_EVENTS = 500

    def __init__(self, bus: Any, topics: Any = None) -> None:
        from vision.messages import Topics

        self._events: deque[tuple[int, Any]] = deque(maxlen=self.MAX_EVENTS)  # (seq, Event), oldest first
        self._seq = 0
        self._lock = threading.Lock()
        self.last: dict[str, Any] = {}  # feed -> its newest event
        self._sub = bus.subscribe((topics or Topics()).events, self._on_event)

    def _on_event(self, topic: str, message: Any) -> None:
        ev = message.event
        with self._lock:
            self._seq += 1
            self._events.append((self._seq, ev))
            self.last[ev.feed] = ev
        where = f" at {message.position.lat_deg:.6f}, {message.position.lon_deg:.6f}" if message.position else ""
        log.info("event %s on %s (%s): %s%s", ev.kind, ev.feed, ev.severity, ev.summary, where)

    def events_since(self, seq: int) -> tuple[int, list[Any]]:
        """The newest sequence number and the events after ``seq``, oldest first (at most ``MAX_EVENTS``;
        older ones have been dropped). Thread-safe and quick: the console calls it from its timer."""
        with self._lock:
            return self._seq, [ev for s, ev in self._events if s > seq]

    def close(self) -> None:
        self._sub.unsubscribe()


class VisionWall:
    """Runs ``vision.scheduler.Scheduler`` over sources and ``vision.pipeline`` (zones, rules, geolocation,
    evidence, annotation) over each result; events leave through the bus.

    Events: the console polls ``events_since(seq)``, a ``BusEvents`` subscription to the bus's events topic
    (so events of vision nodes on other machines show too, with an MQTT bus). Results arrive on the
    scheduler's result thread, events on the bus's delivery thread, the console reads from its own.
    """

    MAX_EVENTS = BusEvents.MAX_EVENTS

    def __init__(self, cfg: LookoutConfig, data_dir: Path, workers: int | None = 1, *, bus: Any = None,
                 evidence: bool = True, node: str | None = None, listen: bool = True,
                 detector: Any = None) -> None:  # fmt: skip
        """``bus``: None = ``open_bus(cfg)`` (owned, closed by ``stop``). ``listen=False``: no events_since
        subscription (a headless node does not read its own events back from the broker). ``detector``: a
        picklable detector factory (None = the configured one, ``lookout.wiring.detector_factory``). With the
        crowd rule and ``[detectors.crowd]`` on, the workers also run the tiled crowd count (``vision.crowd``)."""
        from lookout.wiring import carries_bytes, detector_factory, node_name, open_bus, tracker_factory
        from vision.crowd import crowd_counting
        from vision.messages import Topics
        from vision.pipeline import Pipeline
        from vision.scheduler import Scheduler

        self.cfg, self.data_dir = cfg, data_dir
        self.feeds: dict[str, AnnotatedFeed] = {}
        self.zone_cfg = cfg.zones
        self._zone_kinds: dict[str, tuple[bool, Any]] = {}  # feed -> (pixel zones apply, its [cameras.X])
        self.evidence = evidence
        self._own_bus = bus is None
        self.bus = open_bus(cfg) if bus is None else bus
        self.topics = Topics(cfg.bus.topic_prefix)
        self.pipeline = Pipeline(self.bus, rules=cfg.rules, topics=self.topics, node=node or node_name(cfg),
                                 history_len=cfg.detectors.track_history, expire_s=cfg.detectors.track_expire_s,
                                 publish_detections=cfg.bus.detections,
                                 carry_bytes=carries_bytes(self.bus))  # fmt: skip
        self.events = BusEvents(self.bus, self.topics) if listen else None
        factory = detector_factory(cfg, data_dir) if detector is None else detector
        if cfg.detectors.crowd.enabled and cfg.rules.crowd.enabled:
            factory = crowd_counting(factory, cfg.detectors.crowd)
        self.scheduler = Scheduler(
            factory,
            tracker=tracker_factory(cfg.detectors.tracker),
            workers=workers,
            keep_frames=True,
            on_result=self._on_result,
        )

    def add(self, source: Any, fps: float, motion: Any = None, zones: bool = False,
            camera: Any = None) -> AnnotatedFeed:  # fmt: skip
        """``zones``: the configured ``[zones.*]`` of this feed apply (fixed cameras; not a moving drone camera).
        ``camera``: its ``[cameras.X]`` (reference points for geolocation); None for a drone feed (pose)."""
        from lookout.wiring import evidence_factory, geolocator_for
        from vision.zones import zones_for_camera

        name = source.name
        feed = self.feeds[name] = AnnotatedFeed(name, source)
        self._zone_kinds[name] = (zones, camera)
        zone_cfg = self.zone_cfg
        zones_fn = (lambda w, h: zones_for_camera(zone_cfg, name, w, h)) if zones and zone_cfg else ()
        factory = evidence_factory(self.data_dir, name) if self.evidence else None
        self.pipeline.add_feed(name, zones=zones_fn, geolocator=geolocator_for(camera), evidence_factory=factory,
                               pose_zones=self._ground_zones(name, camera))  # fmt: skip
        self.scheduler.add_feed(source, fps=fps, motion=motion, rates=getattr(camera, "rates", None))
        self.scheduler.set_parking_zones(name, self._parking(name, zones))
        return feed

    def _parking(self, name: str, pixel: bool) -> Any:
        """The feed's ``parking`` zones for the detector's parked-vehicle prior, resolved per frame size (in the
        scheduler, into the worker's pixels); () for a feed without pixel zones."""
        from vision.zones import zones_for_camera

        cfg = self.zone_cfg
        if not pixel or not cfg:
            return ()
        return lambda w, h: [z.polygon for z in zones_for_camera(cfg, name, w, h) if z.kind == "parking"]

    def _ground_zones(self, name: str, camera: Any) -> Any:
        """A drone feed's GeoJSON zones (``vision.geozones``), projected with each frame's pose; None for a
        fixed camera or when it has none. A broken GeoJSON file raises ``GeoZoneError`` (one line)."""
        if camera is not None or not any(getattr(z, "geojson", None) for z in self.zone_cfg.values()):
            return None
        from vision.geozones import GeoZoneProjector, load_geozones

        geo = load_geozones(self.zone_cfg, name)
        return GeoZoneProjector(geo) if geo else None

    def set_zones(self, zones_cfg: Mapping[str, Any]) -> None:
        """New ``[zones.*]`` (drawn in the console, saved to the config): every running feed uses them from
        its next frame (rules and drawing here; ``parking`` zones also in the workers' detector)."""
        from vision.zones import zones_for_camera

        self.zone_cfg = dict(zones_cfg)
        cfg = self.zone_cfg
        for name, fp in self.pipeline.feeds.items():
            pixel, camera = self._zone_kinds.get(name, (False, None))
            fixed = (lambda w, h, _n=name: zones_for_camera(cfg, _n, w, h)) if pixel else ()
            fp.set_zones(fixed, self._ground_zones(name, camera))  # type: ignore[arg-type]
            self.scheduler.set_parking_zones(name, self._parking(name, pixel))  # the worker's detector, next frame

    def add_cameras(self, cameras: Mapping[str, Any]) -> None:
        """Every enabled ``[cameras.NAME]`` as a feed (a dead URL keeps retrying; its tile says so)."""
        from vision.feeds import open_source

        for name, cam in cameras.items():
            if not cam.enabled:
                continue
            src = open_source(cam.url, name, loop=cam.loop, pace=cam.pace, open_timeout_s=cam.open_timeout_s,
                              read_timeout_s=cam.read_timeout_s, backoff_max_s=cam.reconnect_max_s)  # fmt: skip
            self.add(src, cam.fps, cam.motion, zones=True, camera=cam)

    def start(self) -> None:
        self.scheduler.start()

    def _on_result(self, result: Any) -> None:
        """On the scheduler's result thread: the feed's pipeline (every analysed frame, detected or carried)."""
        feed = self.feeds.get(result.feed)
        if feed is None:
            return
        image = None if result.frame is None else result.frame.image
        out = self.pipeline.process(result.meta, result.detections, image, crowd=result.crowd)
        if out is None:
            return
        if out.events:
            feed.last_event = out.events[-1]
        if out.image is not None:
            alert = out.shown[-1].kind.replace("_", " ").upper() if out.shown else None
            feed.publish(out.image, out.people, out.vehicles, alert)

    def events_since(self, seq: int) -> tuple[int, list[Any]]:
        """``BusEvents.events_since``: the console's Events list (empty for a wall that does not listen)."""
        return (0, []) if self.events is None else self.events.events_since(seq)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until the in-process bus delivered everything published so far (tests, shutdown)."""
        flush = getattr(self.bus, "flush", None)
        return True if flush is None else bool(flush(timeout_s))

    def stop(self) -> None:
        self.scheduler.stop()
        self.pipeline.close()  # pending clips are finished and published
        if self.events is not None:
            self.events.close()
        if self._own_bus:
            self.bus.close()
