"""The one vision pipeline after detection: zones -> behaviour rules -> geolocation -> evidence -> annotation
-> the bus. ``lookout detect`` (detector inline) and the video wall / ``lookout node`` (the scheduler's
result thread) both call it, so an event looks the same wherever it was seen.

    pipe = Pipeline(bus, rules=cfg.rules, node="node-1")
    fp = pipe.add_feed("gate", zones=lambda w, h: zones_for_camera(cfg.zones, "gate", w, h),
                       geolocator=geo, evidence=recorder)       # both optional (None = off)
    out = fp.process(FrameInfo("gate", index, capture_t_utc, w, h, pose), tracked_detections, image)
    out.events, out.image                                       # what fired, the annotated frame (if image)

Per frame, ``FeedPipeline.process``:
1. resolves the feed's zones once per frame size (``set_zones`` replaces them at run time; a drone feed's
   ``pose_zones``, ground outlines from ``vision.geozones``, are projected
   with each frame's pose) and tags each object with the zone of its foot point;
2. runs the feed's ``BehaviourEngine`` (tracked detections only; ``crowd``: the people of a tiled pass on
   this frame, ``vision.crowd``, for the crowd rule);
3. annotates ``image`` (zones, boxes, skeletons, the events of the last ``show_s`` s);
4. pushes the annotated frame into the evidence ring, and per event: locates the main track's foot point
   on the ground (``Geolocator.locate``, with the frame's capture pose), writes the snapshot now and asks
   for the clip (-pre_s .. +post_s);
5. publishes ``DetectionsMessage`` (QoS 0, if ``publish_detections``) and then one ``EventMessage`` per
   event (QoS 1), in that order. Finished clips are published as ``EvidenceMessage`` (QoS 1) when the
   recorder reports them. Nothing else leaves the pipeline: consumers subscribe to the bus.

``carry_bytes=True`` (an MQTT bus: the subscriber may be on another machine) puts the snapshot JPEG
into each ``EventMessage`` and the clip bytes into each ``EvidenceMessage``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from vision.behaviours import BehaviourEngine, Event, RulesConfig
from vision.bus import Bus
from vision.messages import DetectionsMessage, EventMessage, EvidenceMessage, Topics
from vision.types import CLASS_NAMES, PERSON, VEHICLE_CLASSES, CameraPose, Detections

if TYPE_CHECKING:
    from vision.evidence import EvidenceFile
    from vision.geolocate import GroundFix

log = logging.getLogger(__name__)

TRACK_PATH_POINTS = 20  # ground points of the main track per event (for the map)

ZonesArg = Callable[[int, int], Sequence[Any]] | Sequence[Any]
PoseZones = Callable[[int, int, CameraPose | None], Sequence[Any]]  # vision.geozones.GeoZoneProjector


class GeolocatorLike(Protocol):
    """``vision.geolocate.Geolocator``: a feed's pixel -> ground mapping (homography or camera pose)."""

    def locate(self, u_px: float, v_px: float, width_px: int, height_px: int,
               pose: CameraPose | None) -> GroundFix | None: ...  # fmt: skip


class EvidenceLike(Protocol):
    """``vision.evidence.EvidenceRecorder``: a feed's frame ring, snapshots and clips."""

    def push(self, image: np.ndarray, capture_t_utc: datetime) -> None: ...
    def snapshot(self, event_id: str, image: np.ndarray, t_utc: datetime) -> EvidenceFile: ...
    def request_clip(self, event_id: str, t_utc: datetime) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """A frame without its pixels (``vision.scheduler.FrameMeta`` and ``vision.types.Frame`` fit too)."""

    feed: str
    index: int
    capture_t_utc: datetime
    width: int
    height: int
    pose: CameraPose | None = None


@dataclass(frozen=True, slots=True, eq=False)
class FrameOutput:
    """What one ``FeedPipeline.process`` call produced (everything was also published on the bus)."""

    events: tuple[Event, ...]  # fired on this frame
    shown: tuple[Event, ...]  # drawn on this frame (fired within the last show_s s)
    zones: tuple[str | None, ...]  # the zone of each object's foot point
    image: np.ndarray | None  # the annotated frame, when an image was given and annotate is on
    people: int
    vehicles: int


def object_json(det: Detections, i: int, zone: str | None = None) -> dict[str, Any]:
    """One object as ``lookout detect --json`` prints it."""
    cid = int(det.class_id[i])
    kp = None
    if det.keypoints is not None and cid == PERSON:
        kp = [[round(float(x), 1), round(float(y), 1), round(float(s), 3)] for x, y, s in det.keypoints[i]]
    return {
        "class": CLASS_NAMES.get(cid, str(cid)),
        "confidence": round(float(det.confidence[i]), 4),
        "xyxy": [round(float(v), 1) for v in det.xyxy[i]],
        "tracker_id": None if det.tracker_id is None else int(det.tracker_id[i]),
        "keypoints": kp,
        "zone": zone,
    }


class FeedPipeline:
    """One feed's zones, rules, geolocation, evidence and annotation; output on the bus."""

    def __init__(
        self,
        feed: str,
        bus: Bus,
        *,
        rules: RulesConfig | None = None,
        zones: ZonesArg = (),
        topics: Topics | None = None,
        node: str = "",
        history_len: int = 64,
        expire_s: float = 10.0,
        geolocator: GeolocatorLike | None = None,
        evidence: EvidenceLike | None = None,
        annotate: bool = True,
        show_s: float = 5.0,
        publish_detections: bool = True,
        carry_bytes: bool = False,
        engine: BehaviourEngine | None = None,
        pose_zones: PoseZones | None = None,
    ) -> None:
        from vision.annotate import EventOverlay

        self.feed, self.bus, self.node = feed, bus, node
        self.topics = topics or Topics()
        self.geolocator, self.evidence = geolocator, evidence
        self.annotate, self.publish_detections, self.carry_bytes = annotate, publish_detections, carry_bytes
        self._zones_fn = zones if callable(zones) else None
        self._zones_fixed = tuple(() if callable(zones) else zones)
        self._zones_at: tuple[tuple[int, int], tuple[Any, ...]] | None = None
        self._pose_zones = pose_zones
        self._frame_zones: tuple[Any, ...] | None = None  # this frame's zones, pose zones included
        self.engine = engine
        if engine is None and rules is not None:
            self.engine = BehaviourEngine(feed, rules, self._engine_zones, history_len=history_len,
                                          expire_s=expire_s)  # fmt: skip
        self._overlay = EventOverlay(show_s)
        self._poses: deque[tuple[float, CameraPose | None]] = deque(maxlen=max(2 * history_len, 16))  # for track paths
        self._lock = threading.Lock()  # one frame at a time per feed (rules are stateful, in capture order)
        self.frames = 0
        self.events = 0
        self.errors = 0  # geolocation / evidence failures (logged, the event still goes out)

    def zones(self, width: int, height: int) -> tuple[Any, ...]:
        """This feed's ``vision.zones.Zone``s in pixels of a ``width`` x ``height`` frame (resolved once per size)."""
        if self._zones_fn is None:
            return self._zones_fixed
        if self._zones_at is None or self._zones_at[0] != (width, height):
            self._zones_at = ((width, height), tuple(self._zones_fn(width, height)))
        return self._zones_at[1]

    def set_zones(self, zones: ZonesArg, pose_zones: PoseZones | None = None) -> None:
        """Replace this feed's zones while it runs (an operator drew or edited them; the config was
        reloaded). Takes effect from the next frame; rule state (tracks, dwell times) is kept."""
        with self._lock:
            self._zones_fn = zones if callable(zones) else None
            self._zones_fixed = tuple(() if callable(zones) else zones)
            self._zones_at = None
            self._pose_zones = pose_zones
            if self.engine is not None:
                self.engine.forget_zones()

    def _engine_zones(self, width: int, height: int) -> tuple[Any, ...]:
        return self._frame_zones if self._frame_zones is not None else self.zones(width, height)

    def _zones_now(self, w: int, h: int, pose: CameraPose | None) -> tuple[Any, ...]:
        """The zones of this frame: the per-size ones and, for a drone feed, the ground zones seen from ``pose``."""
        zones = self.zones(w, h)
        if self._pose_zones is None:
            self._frame_zones = None
            return zones
        moving = tuple(self._guard("ground zones", self._pose_zones, w, h, pose) or ())
        self._frame_zones = zones + moving
        if self.engine is not None:
            self.engine.forget_zones()
        return self._frame_zones

    def process(self, frame: FrameInfo | Any, detections: Detections, image: np.ndarray | None = None, *,
                latency_ms: float = 0.0, crowd: Detections | None = None) -> FrameOutput:  # fmt: skip
        """One analysed frame (``frame``: feed, index, capture_t_utc, width, height, pose) of this feed;
        ``crowd``: the people a tiled pass found on it (``vision.crowd``), when one ran."""
        from vision.annotate import annotate, draw_events
        from vision.zones import foot_points, zone_of_points

        with self._lock:
            w, h = self._size(frame, image)
            t_utc: datetime = frame.capture_t_utc
            pose: CameraPose | None = getattr(frame, "pose", None)
            zones = self._zones_now(w, h, pose)
            in_zone = zone_of_points(zones, foot_points(detections.xyxy)) if zones else [None] * len(detections)
            events: list[Event] = []
            if self.engine is not None:
                events = self.engine.update(frame.index, t_utc, w, h, detections, crowd=crowd)
            shown = self._overlay.update(events, t_utc.timestamp())
            scene = None
            if image is not None and self.annotate:
                scene = draw_events(annotate(image, detections, zones), shown)  # annotate draws on a copy
            if self.evidence is not None and (scene is not None or image is not None):
                self._guard("evidence ring", self.evidence.push, scene if scene is not None else image, t_utc)
            self.frames += 1
            if self.geolocator is not None:
                self._poses.append((t_utc.timestamp(), pose))
            det_topic = self.topics.detections(self.feed)
            wants = getattr(self.bus, "wants", None)  # in-process: skip building what nobody reads
            if self.publish_detections and (wants is None or wants(det_topic)):
                objects = tuple(object_json(detections, i, in_zone[i]) for i in range(len(detections)))
                msg = DetectionsMessage(self.feed, frame.index, t_utc, objects, pose, self.node, latency_ms)
                self.bus.publish(det_topic, msg, qos=0)
            snap_src = scene if scene is not None else image
            for ev in events:
                self.events += 1
                self.bus.publish(self.topics.events, self._event_message(ev, w, h, pose, snap_src), qos=1)
            people = int(np.sum(detections.class_id == PERSON))
            vehicles = int(np.isin(detections.class_id, VEHICLE_CLASSES).sum())
            return FrameOutput(tuple(events), tuple(shown), tuple(in_zone), scene, people, vehicles)

    def on_evidence(self, ev: EvidenceFile) -> None:
        """The recorder's ``on_ready``: publish a finished clip (with its bytes when ``carry_bytes``)."""
        if ev.kind == "snapshot":
            return  # snapshots travel in their EventMessage
        data = None
        if self.carry_bytes:
            try:
                data = ev.path.read_bytes()
            except OSError as exc:
                self.errors += 1
                log.error("feed %s: evidence %s of event %s cannot be read (%s); sent without its bytes",
                          self.feed, ev.path, ev.event_id, exc)  # fmt: skip
        self.bus.publish(self.topics.evidence, EvidenceMessage(ev, data, self.node), qos=1)

    def close(self) -> None:
        """End of stream: finish pending clips now (they are published), then release the recorder."""
        if self.evidence is not None:
            self._guard("evidence flush", self.evidence.flush)
            self._guard("evidence close", self.evidence.close)

    # ---- internals
    @staticmethod
    def _size(frame: Any, image: np.ndarray | None) -> tuple[int, int]:
        if image is not None:
            return int(image.shape[1]), int(image.shape[0])
        return int(frame.width), int(frame.height)

    def _event_message(self, ev: Event, w: int, h: int, pose: CameraPose | None,
                       image: np.ndarray | None) -> EventMessage:  # fmt: skip
        position, path = None, ()
        if self.geolocator is not None:
            position = self._guard("geolocation", self.geolocator.locate, ev.xy_px[0], ev.xy_px[1], w, h, pose)
            if position is not None:
                path = self._guard("track path", self._track_path, ev, w, h) or ()
        snapshot, jpeg = None, None
        if self.evidence is not None:
            if image is not None:
                snapshot = self._guard("snapshot", self.evidence.snapshot, ev.id, image, ev.t_end_utc)
            self._guard("clip request", self.evidence.request_clip, ev.id, ev.t_end_utc)
            if snapshot is not None and self.carry_bytes:
                jpeg = self._guard("snapshot read", snapshot.path.read_bytes)
        log.info("event %s on %s (%s): %s", ev.kind, ev.feed, ev.severity, ev.summary)
        return EventMessage(ev, pose, position, snapshot, jpeg, self.node, path)

    def _track_path(self, ev: Event, w: int, h: int) -> tuple[tuple[float, float], ...]:
        """The main track's recent foot points on the ground (each with the pose of its own frame), at most
        ``TRACK_PATH_POINTS``, oldest first."""
        if self.engine is None or not ev.track_ids or self.geolocator is None:
            return ()
        points = self.engine.history.get(ev.track_ids[0])
        if not points:
            return ()
        step = max(1, len(points) // TRACK_PATH_POINTS)
        poses = dict(self._poses)
        out = []
        for p in points[::step][-TRACK_PATH_POINTS:]:
            x1, _, x2, y2 = (float(v) for v in p.xyxy)
            fix = self.geolocator.locate((x1 + x2) / 2, y2, w, h, poses.get(p.t_s))
            if fix is not None:
                out.append((fix.lat_deg, fix.lon_deg))
        return tuple(out)

    def _guard(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a geolocation/evidence step; a failure is logged and counted, never stops the event."""
        try:
            return fn(*args)
        except Exception as exc:
            self.errors += 1
            if self.errors <= 3 or self.errors % 100 == 0:
                log.error("feed %s: %s failed (%d so far): %s", self.feed, what, self.errors, exc)
            return None


class Pipeline:
    """The feeds' pipelines over one bus (one ``FeedPipeline`` per feed, same rules and options)."""

    def __init__(self, bus: Bus, *, rules: RulesConfig | None = None, topics: Topics | None = None, node: str = "",
                 history_len: int = 64, expire_s: float = 10.0, publish_detections: bool = True,
                 carry_bytes: bool = False, show_s: float = 5.0) -> None:  # fmt: skip
        self.bus, self.rules, self.topics, self.node = bus, rules, topics or Topics(), node
        self._options = {"history_len": history_len, "expire_s": expire_s, "publish_detections": publish_detections,
                         "carry_bytes": carry_bytes, "show_s": show_s}  # fmt: skip
        self.feeds: dict[str, FeedPipeline] = {}

    def add_feed(self, feed: str, *, zones: ZonesArg = (), geolocator: GeolocatorLike | None = None,
                 evidence: EvidenceLike | None = None, rules: bool = True, annotate: bool = True,
                 evidence_factory: Callable[[Callable[[EvidenceFile], None]], EvidenceLike] | None = None,
                 pose_zones: PoseZones | None = None) -> FeedPipeline:  # fmt: skip
        """A feed's pipeline. ``rules=False``: no behaviour rules (untracked input). ``evidence_factory``
        builds the recorder given the pipeline's ``on_ready`` (so finished clips reach the bus)."""
        fp = FeedPipeline(feed, self.bus, rules=self.rules if rules else None, zones=zones, topics=self.topics,
                          node=self.node, geolocator=geolocator, evidence=evidence, annotate=annotate,
                          pose_zones=pose_zones, **self._options)  # type: ignore[arg-type]  # fmt: skip
        if evidence_factory is not None:
            fp.evidence = evidence_factory(fp.on_evidence)
        self.feeds[feed] = fp
        return fp

    def process(self, frame: FrameInfo | Any, detections: Detections, image: np.ndarray | None = None, *,
                latency_ms: float = 0.0, crowd: Detections | None = None) -> FrameOutput | None:  # fmt: skip
        """Route a frame to its feed's pipeline; None for a feed that was never added."""
        fp = self.feeds.get(frame.feed)
        return None if fp is None else fp.process(frame, detections, image, latency_ms=latency_ms, crowd=crowd)

    def close(self) -> None:
        for fp in self.feeds.values():
            fp.close()


__all__ = ["EvidenceLike", "FeedPipeline", "FrameInfo", "FrameOutput", "GeolocatorLike", "Pipeline", "object_json"]
