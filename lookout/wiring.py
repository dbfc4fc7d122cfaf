"""Composition: turn a ``LookoutConfig`` into running objects for the console and the CLI.

This is the only module that joins packages: ``flight`` links become the console's fleet source and
flight actions; ``vision`` sources run through the scheduler and come out annotated for the video
wall; the simulator's camera frames enter vision as (image, capture time, ``CameraPose``) through an
``IteratorSource`` (so vision never imports flight).
"""

from __future__ import annotations

import functools
import getpass
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from console.services import FeedFrame
from flight import Fleet, Link, commands
from flight.errors import NoVehicle
from flight.mission_transfer import download_mission
from flight.types import VehicleState
from lookout.config import LookoutConfig
from lookout.models import packaged_pose_weights, packaged_ssd_graph, resolve_weights
from missions import load_plan
from vision.types import CameraPose

log = logging.getLogger(__name__)

_NAV_WITH_POSITION = {16, 17, 18, 19, 21, 22, 82}  # waypoint, loiters, land, takeoff, spline


# ---- detectors ---------------------------------------------------------------------------------
def detector_factory(cfg: LookoutConfig, data_dir: Path, imgsz: int | None = None) -> Callable[[], Any]:
    """A picklable zero-argument factory of the configured detector (weights resolved here, once)."""
    from vision.detect.composite import build_composite
    from vision.detect.ssd_mobilenet import SsdDetectorConfig

    det = cfg.detectors
    pose = resolve_weights(det.pose_weights, "detectors.pose_weights") or packaged_pose_weights()
    vehicles: Any = None
    if isinstance(det.active_vehicles, SsdDetectorConfig):
        graph = packaged_ssd_graph()
        vehicles = (graph.graph_pb, graph.config_pbtxt)
    elif det.active_vehicles is not None:
        vehicles = resolve_weights(det.vehicle_weights, "detectors.vehicle_weights")
    return functools.partial(build_composite, det, pose, vehicles, cache_dir=data_dir / "models", imgsz=imgsz)


def tracker_factory(kind: str) -> Callable[[], Any] | None:
    from vision.track import Tracker

    return None if kind == "none" else functools.partial(Tracker, kind)


# ---- fleet -------------------------------------------------------------------------------------
class FleetView:
    """``console.services.FleetSource`` over a ``flight.Fleet`` (vehicles keyed by sysid)."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    def snapshot(self) -> Mapping[int, VehicleState]:
        return {st.sysid: st for st in self.fleet.states().values()}

    def link(self, sysid: int) -> Link:
        for (name, sid), _ in self.fleet.states().items():
            if sid == sysid:
                return self.fleet.links[name]
        raise NoVehicle("any configured link", sysid, 0)


AuditFn = Callable[..., Any]  # lookout.audit.AuditLog.append(actor, action, subject, **detail)


class FleetActions:
    """``console.services.FlightActions`` over ``flight.commands`` and ``flight.autorun``.

    Every command is written to the audit log (``audit``), with its outcome, before it returns or raises.
    """

    def __init__(self, view: FleetView, audit: AuditFn | None = None, actor: str | None = None) -> None:
        self.view = view
        self._audit = audit
        self._actor = actor or f"console:{getpass.getuser()}"

    def _do(self, action: str, sysid: int, fn: Callable[[Link], object], **detail: Any) -> None:
        outcome = "ok"
        try:
            fn(self.view.link(sysid))
        except Exception as exc:
            outcome = f"failed: {exc}"
            raise
        finally:
            if self._audit is not None:
                self._audit(self._actor, f"flight.{action}", f"vehicle {sysid}", outcome=outcome, **detail)

    def arm(self, sysid: int) -> None:
        self._do("arm", sysid, lambda link: commands.arm(link, sysid))

    def disarm(self, sysid: int) -> None:
        self._do("disarm", sysid, lambda link: commands.disarm(link, sysid))

    def set_mode(self, sysid: int, mode: str) -> None:
        self._do("mode", sysid, lambda link: commands.set_mode(link, mode, sysid), mode=mode)

    def takeoff(self, sysid: int, alt_rel_m: float) -> None:
        def go(link: Link) -> None:
            if link.state(sysid).mode != "GUIDED":
                commands.set_mode(link, "GUIDED", sysid)
            if not link.state(sysid).armed:
                commands.arm(link, sysid)
            commands.takeoff(link, alt_rel_m, sysid)

        self._do("takeoff", sysid, go, alt_rel_m=alt_rel_m)

    def goto(self, sysid: int, lat_deg: float, lon_deg: float, alt_rel_m: float) -> None:
        def go(link: Link) -> None:
            if link.state(sysid).mode != "GUIDED":
                commands.set_mode(link, "GUIDED", sysid)
            commands.goto(link, lat_deg, lon_deg, alt_rel_m, sysid)

        self._do("goto", sysid, go, lat_deg=lat_deg, lon_deg=lon_deg, alt_rel_m=alt_rel_m)

    def rtl(self, sysid: int) -> None:
        self._do("rtl", sysid, lambda link: commands.rtl(link, sysid))

    def land(self, sysid: int) -> None:
        self._do("land", sysid, lambda link: commands.land(link, sysid))

    def fly_plan(self, sysid: int, path: Path, progress: Callable[[str], None]) -> None:
        from flight.autorun import fly_mission

        plan = load_plan(path)

        def fly(link: Link) -> None:
            fly_mission(link, plan, sysid=sysid, progress=lambda p: progress(f"#{sysid} {p}"))

        self._do("fly_plan", sysid, fly, plan=str(path), items=len(plan.mission.items))

    def mission_path(self, sysid: int) -> Sequence[tuple[float, float]]:
        mission = download_mission(self.view.link(sysid), sysid=sysid)
        return [(i.lat_deg, i.lon_deg) for i in mission.items if i.command in _NAV_WITH_POSITION and i.lat_deg]


# ---- video -------------------------------------------------------------------------------------
@dataclass
class AnnotatedFeed:
    """``console.services.VideoFeed``: the newest annotated frame of one vision feed."""

    name: str
    source: Any = None  # vision.feeds.FrameSource, for its health
    zone_cfg: Mapping[str, Any] = field(default_factory=dict)  # [zones.*]; those of this camera and "*" are drawn
    _latest: FeedFrame | None = None
    _t_mono: float = 0.0
    _times: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _zones: tuple[tuple[int, int], list[Any]] | None = None
    last_event: Any = None  # the newest vision.behaviours.Event of this feed
    _overlay: Any = None  # vision.annotate.EventOverlay, made on first use

    EVENT_SHOW_S = 5.0  # an event's box stays on the tile this long (capture time) after it fired

    def note_events(self, events: Sequence[Any], t_s: float) -> list[Any]:
        """Remember ``events`` fired at capture time ``t_s``; return the events to draw on this frame."""
        if self._overlay is None:
            from vision.annotate import EventOverlay

            self._overlay = EventOverlay(self.EVENT_SHOW_S)
        if events:
            self.last_event = events[-1]
        return self._overlay.update(events, t_s)

    def publish(self, image: np.ndarray, n_people: int, n_vehicles: int, alert: str | None = None) -> None:
        now = time.monotonic()
        with self._lock:
            self._times = [t for t in self._times if now - t < 5.0] + [now]
            fps = (len(self._times) - 1) / max(1e-3, self._times[-1] - self._times[0]) if len(self._times) > 1 else 0
            caption = f"{fps:.1f} fps · {n_people} people · {n_vehicles} vehicles"
            if alert:
                caption += f" · {alert}"
            self._latest, self._t_mono = FeedFrame(image, caption), now

    def zones_at(self, width: int, height: int) -> list[Any]:
        """This feed's ``vision.zones.Zone`` list in pixels of a ``width`` x ``height`` frame (kept per size)."""
        if not self.zone_cfg:
            return []
        if self._zones is None or self._zones[0] != (width, height):
            from vision.zones import zones_for_camera

            self._zones = ((width, height), zones_for_camera(self.zone_cfg, self.name, width, height))
        return self._zones[1]

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


class VisionWall:
    """Runs ``vision.scheduler.Scheduler`` over sources, the behaviour rules over each feed's tracks
    (one ``BehaviourEngine`` per feed, with that feed's zones), and annotates each result for the console.

    Events: the newest ``MAX_EVENTS`` are kept with increasing sequence numbers; the console polls
    ``events_since(seq)`` from its thread while results arrive on the scheduler's result thread.
    """

    MAX_EVENTS = 500

    def __init__(self, cfg: LookoutConfig, data_dir: Path, workers: int | None = 1) -> None:
        from vision.scheduler import Scheduler

        self.feeds: dict[str, AnnotatedFeed] = {}
        self.zone_cfg = cfg.zones
        self.rules_cfg = cfg.rules
        self.engines: dict[str, Any] = {}  # feed -> vision.behaviours.BehaviourEngine
        self._history = (cfg.detectors.track_history, cfg.detectors.track_expire_s)
        self._events: deque[tuple[int, Any]] = deque(maxlen=self.MAX_EVENTS)  # (seq, Event), oldest first
        self._seq = 0
        self._events_lock = threading.Lock()
        self.scheduler = Scheduler(
            detector_factory(cfg, data_dir),
            tracker=tracker_factory(cfg.detectors.tracker),
            workers=workers,
            keep_frames=True,
            on_result=self._on_result,
        )

    def add(self, source: Any, fps: float, motion: Any = None, zones: bool = False) -> AnnotatedFeed:
        """``zones``: draw the configured ``[zones.*]`` of this feed (fixed cameras; not a moving drone camera)."""
        from vision.behaviours import BehaviourEngine

        feed = self.feeds[source.name] = AnnotatedFeed(source.name, source, self.zone_cfg if zones else {})
        length, expire_s = self._history
        self.engines[source.name] = BehaviourEngine(
            source.name, self.rules_cfg, feed.zones_at, history_len=length, expire_s=expire_s
        )
        self.scheduler.add_feed(source, fps=fps, motion=motion)
        return feed

    def add_cameras(self, cameras: Mapping[str, Any]) -> None:
        """Every enabled ``[cameras.NAME]`` as a feed (a dead URL keeps retrying; its tile says so)."""
        from vision.feeds import open_source

        for name, cam in cameras.items():
            if not cam.enabled:
                continue
            src = open_source(cam.url, name, loop=cam.loop, pace=cam.pace, open_timeout_s=cam.open_timeout_s,
                              read_timeout_s=cam.read_timeout_s, backoff_max_s=cam.reconnect_max_s)  # fmt: skip
            self.add(src, cam.fps, cam.motion, zones=True)

    def start(self) -> None:
        self.scheduler.start()

    def _on_result(self, result: Any) -> None:
        """On the scheduler's result thread: rules first (every analysed frame, detected or carried), then the tile."""
        from vision.annotate import annotate, draw_events
        from vision.types import PERSON, VEHICLE_CLASSES

        feed = self.feeds.get(result.feed)
        if feed is None:
            return
        det, meta = result.detections, result.meta
        events = self._run_rules(result)
        shown = feed.note_events(events, meta.capture_t_utc.timestamp())
        if result.frame is None:
            return
        h, w = result.frame.image.shape[:2]
        image = annotate(result.frame.image, det, feed.zones_at(w, h))  # annotate draws on a copy
        draw_events(image, shown)
        alert = shown[-1].kind.replace("_", " ").upper() if shown else None
        feed.publish(image, int(np.sum(det.class_id == PERSON)), int(np.isin(det.class_id, VEHICLE_CLASSES).sum()),
                     alert)  # fmt: skip

    def _run_rules(self, result: Any) -> list[Any]:
        engine = self.engines.get(result.feed)
        if engine is None:
            return []
        meta = result.meta
        events = engine.update(meta.index, meta.capture_t_utc, meta.width, meta.height, result.detections)
        if events:
            with self._events_lock:
                for ev in events:
                    self._seq += 1
                    self._events.append((self._seq, ev))
            for ev in events:
                log.info("event %s on %s (%s): %s", ev.kind, ev.feed, ev.severity, ev.summary)
        return events

    def events_since(self, seq: int) -> tuple[int, list[Any]]:
        """The newest sequence number and the events after ``seq``, oldest first (at most ``MAX_EVENTS``;
        older ones have been dropped). Thread-safe and quick: the console calls it from its timer."""
        with self._events_lock:
            return self._seq, [ev for s, ev in self._events if s > seq]

    def stop(self) -> None:
        self.scheduler.stop()


def sim_frames(camera: Any, feed: str) -> Iterator[tuple[np.ndarray, datetime, CameraPose]]:
    """The simulator's camera as (image, capture time, pose) for ``vision.feeds.IteratorSource``."""
    for sf in camera.frames():
        pose = CameraPose(
            lat_deg=sf.lat_deg, lon_deg=sf.lon_deg, alt_amsl_m=sf.alt_amsl_m, alt_agl_m=sf.alt_agl_m,
            roll_deg=sf.roll_deg, pitch_deg=sf.pitch_deg, yaw_deg=sf.yaw_deg, hfov_deg=sf.hfov_deg,
        )  # fmt: skip
        t = sf.capture_t_utc
        yield sf.image, t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC), pose
