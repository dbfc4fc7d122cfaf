"""Composition: turn a ``LookoutConfig`` into running objects for the console and the CLI.

This is the only module that joins packages: ``flight`` links become the console's fleet source and
flight actions (``lookout.fleet_actions``); ``vision`` sources run through the scheduler and come out
annotated for the video wall (``lookout.vision_wall``); the simulator's camera frames enter vision as
(image, capture time, ``CameraPose``) through an ``IteratorSource`` (so vision never imports flight).
This module holds the factories (detector, tracker, bus, geolocator, evidence, map cameras, simulator
frames) and re-exports ``FleetView``, ``FleetActions``, ``AnnotatedFeed``, ``BusEvents`` and ``VisionWall``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from lookout.config import LookoutConfig
from lookout.fleet_actions import AuditFn, FleetActions, FleetView
from lookout.models import packaged_pose_weights, packaged_ssd_graph, resolve_weights
from lookout.vision_wall import AnnotatedFeed, BusEvents, VisionWall
from vision.types import CameraPose

__all__ = [
    "AnnotatedFeed", "AuditFn", "BusEvents", "FleetActions", "FleetView", "VisionWall", "carries_bytes",
    "detector_factory", "evidence_factory", "geolocator_for", "map_cameras", "node_name", "open_bus",
    "sim_frames", "tracker_factory",
]  # fmt: skip


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


def map_cameras(cameras: Mapping[str, Any]) -> list[Any]:
    """``console.services.MapCamera`` for every ``[cameras.X]`` with a position (its cone with ``heading_deg``)."""
    from console.services import MapCamera

    return [MapCamera(name, c.lat_deg, c.lon_deg, c.heading_deg, c.hfov_deg)
            for name, c in cameras.items() if c.lat_deg is not None and c.lon_deg is not None]  # fmt: skip


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


def sim_frames(camera: Any, feed: str) -> Iterator[tuple[np.ndarray, datetime, CameraPose]]:
    """The simulator's camera as (image, capture time, pose) for ``vision.feeds.IteratorSource``."""
    for sf in camera.frames():
        pose = CameraPose(
            lat_deg=sf.lat_deg, lon_deg=sf.lon_deg, alt_amsl_m=sf.alt_amsl_m, alt_agl_m=sf.alt_agl_m,
            roll_deg=sf.roll_deg, pitch_deg=sf.pitch_deg, yaw_deg=sf.yaw_deg, hfov_deg=sf.hfov_deg,
        )  # fmt: skip
        t = sf.capture_t_utc
        yield sf.image, t if isinstance(t, datetime) else datetime.fromtimestamp(t, UTC), pose
