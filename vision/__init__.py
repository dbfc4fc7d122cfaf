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
