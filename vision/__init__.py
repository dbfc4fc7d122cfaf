"""vision package (see README.md)."""

# Detection and tracking (issue 7a). Cheap to import: Ultralytics/cv2 load when a detector is built.
from vision.detect import Detector, DetectorError, SourceError, WeightsError, build_detector
from vision.detect.composite import CompositeDetector, build_composite
from vision.history import TrackHistory, TrackPoint
from vision.track import Tracker

__all__ = [
    "CompositeDetector",
    "Detector",
    "DetectorError",
    "SourceError",
    "TrackHistory",
    "TrackPoint",
    "Tracker",
    "WeightsError",
    "build_composite",
    "build_detector",
]

# Frame sources, motion gating, scheduler (issue 7b), zones. They need cv2/shapely, so they load on first use (PEP 562).
_LAZY = {
    **dict.fromkeys(
        ("FeedHealth", "FileSource", "FrameSource", "Gap", "ImageSource", "IteratorSource", "SourceNotFound",
         "SourceUnavailable", "StreamSource", "open_camera", "open_source"),
        "vision.feeds",
    ),
    **dict.fromkeys(("MotionGate",), "vision.motion"),
    **dict.fromkeys(("Zone", "ZoneConfig", "point_in_zone", "zone_of_points", "zones_for_camera"), "vision.zones"),
    **dict.fromkeys(("FeedStats", "FrameMeta", "Result", "Scheduler", "SchedulerError"), "vision.scheduler"),
}
__all__ += list(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vision' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
