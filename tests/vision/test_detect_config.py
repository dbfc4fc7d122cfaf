"""``[detectors]``: plugin picked by ``type`` (discriminated union), shorthand and cross-field checks."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest

from lookout.config import parse_config
from lookout.errors import ConfigError
from vision.detect.ssd_mobilenet import SsdDetectorConfig
from vision.detect.ultralytics_detect import UltralyticsDetectConfig


@pytest.mark.parametrize(
    ("toml", "expectation", "check"),
    [
        ("", does_not_raise(), lambda d: isinstance(d.vehicles, SsdDetectorConfig) and d.people.imgsz == 320),
        ('[detectors]\nvehicle_weights = "/w/yolo11n.pt"\n', does_not_raise(),
         lambda d: isinstance(d.vehicles, UltralyticsDetectConfig)),
        ('[detectors.vehicles]\ntype = "ssd-mobilenet"\nclasses = ["car", "bus"]\n', does_not_raise(),
         lambda d: d.vehicles.classes == ("car", "bus")),
        ('[detectors]\nvehicle_weights = "/w/y.onnx"\n[detectors.vehicles]\nimgsz = 320\n', does_not_raise(),
         lambda d: isinstance(d.vehicles, UltralyticsDetectConfig) and d.vehicles.imgsz == 320),
        ("[detectors]\nvehicles_enabled = false\n", does_not_raise(), lambda d: d.active_vehicles is None),
        ("[detectors.people]\nimgsz = 640\n", does_not_raise(), lambda d: d.people.imgsz == 640),
        ('[detectors.vehicles]\ntype = "yolo-detect"\n', pytest.raises(ConfigError, match=r"needs detectors\.vehicle"),
         None),
        ('[detectors]\nvehicle_weights = "/w/y.pt"\n[detectors.vehicles]\ntype = "ssd-mobilenet"\n',
         pytest.raises(ConfigError, match="remove vehicle_weights"), None),
        ('[detectors.vehicles]\ntype = "tflite"\n', pytest.raises(ConfigError, match="tflite"), None),
        ("[detectors.people]\nimgsz = 300\n", pytest.raises(ConfigError, match="multiple of 32"), None),
        ('[detectors.vehicles]\nclasses = ["boat"]\n', pytest.raises(ConfigError, match="unknown class 'boat'"), None),
        ("[detectors.people]\nimgsize = 320\n", pytest.raises(ConfigError, match="did you mean 'imgsz'"), None),
        ('[detectors]\ntracker = "sort"\n', pytest.raises(ConfigError, match="tracker"), None),
        ("[detectors]\ntrack_history = 1\n", pytest.raises(ConfigError, match="track_history"), None),
    ],
)
def test_detectors_section(toml, expectation, check):
    with expectation:
        cfg = parse_config(toml).detectors
        assert check(cfg)
