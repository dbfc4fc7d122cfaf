"""Detector plugins behind one interface (see ``base.py``). Importing this package is cheap:
plugins import Ultralytics / cv2 only when built."""

from vision.detect.base import PLUGINS, Detector, DetectorConfigBase, build_detector
from vision.detect.errors import DetectorError, SourceError, UnknownDetectorError, WeightsError

__all__ = [
    "PLUGINS",
    "Detector",
    "DetectorConfigBase",
    "DetectorError",
    "SourceError",
    "UnknownDetectorError",
    "WeightsError",
    "build_detector",
]
