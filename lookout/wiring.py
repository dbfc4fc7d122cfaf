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
from flight.errors import FlightError, NoVehicle
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

    def __init__(self, view: FleetView, audit: AuditFn | None = None, actor: Any = None, *,
                 plan_limits: Any = None) -> None:  # fmt: skip
        """``actor``: a name for the audit log (no role check), or a ``dispatch.roles.Actor`` whose role is checked.
        ``plan_limits``: ``flight.plan_check.PlanLimits`` for "fly plan" (default: the built-in limits)."""
        self.view = view
        self._plan_limits = plan_limits
        self._audit = audit
        self._user: Any = None  # dispatch.roles.Actor once someone logged in
        self._actor = f"console:{getpass.getuser()}"
        self.set_actor(actor)

    def set_actor(self, actor: Any) -> None:
        """Who is working now (the console's login): an ``Actor`` (role checked per command), a name, or None."""
        if isinstance(actor, str):
            self._user, self._actor = None, actor or self._actor
        elif actor is not None:
            self._user, self._actor = actor, actor.name

    def _do(self, action: str, sysid: int, fn: Callable[[Link], object], **detail: Any) -> None:
        if self._user is not None:  # refuse what the role may not do, whoever calls (audited as "denied")
            from lookout.access import authorize

            need = {"disarm": "flight.arm", "fly_plan": "flight.run",
                    "gimbal": "flight.mode", "roi": "flight.mode", "photo": "flight.mode"}.get(action)
            need = need or f"flight.{action}"
            authorize(self._user, need, self._audit, f"vehicle {sysid}")
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
        def go(link: Link) -> None:
            _gate(link, sysid, "arm")
            commands.arm(link, sysid)

        self._do("arm", sysid, go)

    def disarm(self, sysid: int) -> None:
        self._do("disarm", sysid, lambda link: commands.disarm(link, sysid))

    def set_mode(self, sysid: int, mode: str) -> None:
        self._do("mode", sysid, lambda link: commands.set_mode(link, mode, sysid), mode=mode)

    def takeoff(self, sysid: int, alt_rel_m: float) -> None:
        def go(link: Link) -> None:
            _gate(link, sysid, "takeoff")
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
            fly_mission(link, plan, sysid=sysid, progress=lambda p: progress(f"#{sysid} {p}"),
                        limits=self._plan_limits)  # fmt: skip

        self._do("fly_plan", sysid, fly, plan=str(path), items=len(plan.mission.items))

    def preflight(self, sysid: int, action: str) -> Any:
        """The pre-flight checklist of ``action`` (``flight.preflight.Checklist``), read from the vehicle."""
        from flight.preflight import gather

        return gather(self.view.link(sysid), sysid, action, limits=self._plan_limits, settle_s=0.5)

    def set_gimbal(self, sysid: int, pitch_deg: float, yaw_deg: float) -> None:
        self._do("gimbal", sysid, lambda link: commands.set_gimbal(link, pitch_deg, yaw_deg, sysid),
                 gimbal_pitch_deg=pitch_deg, gimbal_yaw_deg=yaw_deg)  # fmt: skip

    def set_roi(self, sysid: int, lat_deg: float, lon_deg: float) -> None:
        self._do("roi", sysid, lambda link: commands.set_roi(link, lat_deg, lon_deg, 0.0, sysid),
                 roi_lat_deg=lat_deg, roi_lon_deg=lon_deg)  # fmt: skip

    def take_photo(self, sysid: int) -> None:
        self._do("photo", sysid, lambda link: commands.trigger_camera(link, sysid))

    def mission_path(self, sysid: int) -> Sequence[tuple[float, float]]:
        mission = download_mission(self.view.link(sysid), sysid=sysid)
        return [(i.lat_deg, i.lon_deg) for i in mission.items if i.command in _NAV_WITH_POSITION and i.lat_deg]

    # ---- the console's Plan view (console.services.MissionActions) -------------------------------
    def upload_plan(self, sysid: int, plan: Any, progress: Callable[[int, int], None] | None = None) -> None:
        """Check ``plan`` against the vehicle (``flight.plan_check``, as ``lookout fly upload``), then send
        mission, fence and rally; ``progress(done, total)`` counts items."""
        from flight.mission_transfer import upload_plan
        from flight.plan_check import check_before_upload

        def up(link: Link) -> None:
            check_before_upload(link, plan, sysid, self._plan_limits, wait_s=5.0)
            upload_plan(link, plan, sysid=sysid, progress=progress)

        self._do("upload", sysid, up, items=len(plan.mission.items), fence=len(plan.fence), rally=len(plan.rally))

    def start_mission(self, sysid: int) -> None:
        """Fly the uploaded mission: on the ground GUIDED, arm, take off to its TAKEOFF altitude, then AUTO;
        in the air AUTO at once."""
        from flight.autorun import takeoff_altitude

        def go(link: Link) -> None:
            _gate(link, sysid, "mission start")
            if not link.state(sysid).armed:
                alt = takeoff_altitude(download_mission(link, sysid=sysid).items)
                commands.set_mode(link, "GUIDED", sysid)
                commands.arm(link, sysid)
                commands.takeoff(link, alt, sysid)
                link.wait_state(lambda s: (s.alt_rel_m or 0.0) >= 0.9 * alt or not s.armed, sysid=sysid,
                                timeout_s=max(30.0, alt * 3))  # fmt: skip
            commands.set_mode(link, "AUTO", sysid)

        self._do("run", sysid, go)

    def pause_mission(self, sysid: int) -> None:
        """Hold where it is (BRAKE, as QGC pauses an ArduCopter; LOITER when BRAKE is refused)."""
        def hold(link: Link) -> None:
            try:
                commands.set_mode(link, "BRAKE", sysid)
            except FlightError:  # a vehicle without BRAKE (plane, PX4) holds in LOITER
                commands.set_mode(link, "LOITER", sysid)

        self._do("mode", sysid, hold, mode="BRAKE")

    def resume_mission(self, sysid: int) -> None:
        """Continue the mission from its current item (AUTO)."""
        self._do("mode", sysid, lambda link: commands.set_mode(link, "AUTO", sysid), mode="AUTO")


def _gate(link: Link, sysid: int, action: str) -> None:
    """The pre-flight gate's blocking items from the vehicle's state, whoever calls (the console's
    dialogs show the full checklist first; the plan is checked at upload). Armed: nothing to check."""
    from dataclasses import replace

    from flight.preflight import PreflightRefused, evaluate

    st = link.state(sysid)
    if st.armed:
        return
    gate = evaluate(st, "arm")  # plan and fence are checked at upload (check_before_upload)
    if not gate.ok:
        raise PreflightRefused(replace(gate, action=action))


def map_cameras(cameras: Mapping[str, Any]) -> list[Any]:
    """``console.services.MapCamera`` for every ``[cameras.X]`` with a position (its cone with ``heading_deg``)."""
    from console.services import MapCamera

    return [MapCamera(name, c.lat_deg, c.lon_deg, c.heading_deg, c.hfov_deg)
            for name, c in cameras.items() if c.lat_deg is not None and c.lon_deg is not None]  # fmt: skip


# ---- video -------------------------------------------------------------------------------------
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


def open_bus(cfg: LookoutConfig, role: str = "console", *, max_pending: int | None = None) -> Any:
    """The ``[bus]`` of ``cfg``: an ``InProcessBus`` or a connected ``vision.mqtt_bus.MqttBus`` (``role`` goes
    into its default client id, so a node and a console on one host keep separate MQTT sessions)."""
    from vision.bus import InProcessBus

    bc = cfg.bus
    if bc.type == "mqtt":
        from vision.mqtt_bus import MqttBus

        return MqttBus.from_config(bc, role=role)
    return InProcessBus(max_pending=max_pending or bc.max_pending)


def node_name(cfg: LookoutConfig) -> str:
    import socket

    return cfg.bus.node or socket.gethostname()


def carries_bytes(bus: Any) -> bool:
    """Whether evidence bytes must ride along: the bus leaves this process (MQTT)."""
    return bool(getattr(bus, "remote", False))


def geolocator_for(camera: Any | None) -> Any | None:
    """``vision.geolocate.Geolocator`` of a ``[cameras.X]`` (homography) or a drone feed (None: the pose);
    None when geolocation is not available."""
    try:
        from vision.geolocate import Geolocator
    except ImportError:  # pragma: no cover - until vision.geolocate is installed
        return None
    return Geolocator.for_camera(camera)


def evidence_factory(data_dir: Path, feed: str) -> Callable[[Callable[[Any], None]], Any] | None:
    """A factory of the feed's ``vision.evidence.EvidenceRecorder`` (files under ``<data>/evidence``), given
    the pipeline's ``on_ready``; None when evidence recording is not available."""
    try:
        from vision.evidence import EvidenceRecorder
    except ImportError:
        return None
    return lambda on_ready: EvidenceRecorder(feed, data_dir / "evidence", on_ready=on_ready)


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
                 evidence: bool = True, node: str | None = None, listen: bool = True) -> None:  # fmt: skip
        """``bus``: None = ``open_bus(cfg)`` (owned, closed by ``stop``). ``listen=False``: no events_since
        subscription (a headless node does not read its own events back from the broker)."""
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
        self.scheduler = Scheduler(
            detector_factory(cfg, data_dir),
            tracker=tracker_factory(cfg.detectors.tracker),
            workers=workers,
            keep_frames=True,
            on_result=self._on_result,
        )

    def add(self, source: Any, fps: float, motion: Any = None, zones: bool = False,
            camera: Any = None) -> AnnotatedFeed:  # fmt: skip
        """``zones``: the configured ``[zones.*]`` of this feed apply (fixed cameras; not a moving drone camera).
        ``camera``: its ``[cameras.X]`` (reference points for geolocation); None for a drone feed (pose)."""
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
        return feed

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
        its next frame."""
        from vision.zones import zones_for_camera

        self.zone_cfg = dict(zones_cfg)
        cfg = self.zone_cfg
        for name, fp in self.pipeline.feeds.items():
            pixel, camera = self._zone_kinds.get(name, (False, None))
            fixed = (lambda w, h, _n=name: zones_for_camera(cfg, _n, w, h)) if pixel else ()
            fp.set_zones(fixed, self._ground_zones(name, camera))  # type: ignore[arg-type]

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
        out = self.pipeline.process(result.meta, result.detections, image)
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


def sim_frames(camera: Any, feed: str) -> Iterator[tuple[np.ndarray, datetime, CameraPose]]:
    """The simulator's camera as (image, capture time, pose) for ``vision.feeds.IteratorSource``."""
    for sf in camera.frames():
        pose = CameraPose(
            lat_deg=sf.lat_deg, lon_deg=sf.lon_deg, alt_amsl_m=sf.alt_amsl_m, alt_agl_m=sf.alt_agl_m,
            roll_deg=sf.roll_deg, pitch_deg=sf.pitch_deg, yaw_deg=sf.yaw_deg, hfov_deg=sf.hfov_deg,
        )  # fmt: skip
        t = sf.capture_t_utc
        yield sf.image, t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC), pose
