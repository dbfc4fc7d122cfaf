from __future__ import annotations

import os
from pathlib import Path

import pytest

from lookout.errors import ModelFileError
from lookout.models import packaged_pose_weights, packaged_ssd_graph, resolve_weights


def test_packaged_weights_are_absolute_existing_files() -> None:
    pose = packaged_pose_weights()
    assert pose.is_absolute() and pose.is_file() and pose.stat().st_size > 5_000_000
    ssd = packaged_ssd_graph()
    assert ssd.graph_pb.is_file() and ssd.config_pbtxt.is_file()


def test_offline_env_is_set_for_the_suite() -> None:
    assert os.environ["YOLO_OFFLINE"] == "1"
    assert os.environ["YOLO_AUTOINSTALL"] == "0"
    assert Path(os.environ["YOLO_CONFIG_DIR"]).is_dir()


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("yolo11n.pt", "absolute path"),
        ("/nonexistent/yolo11n.pt", "does not exist"),
        ("/etc/hostname", "expected an Ultralytics"),
    ],
)
def test_bad_user_weights_are_refused(value: str, match: str) -> None:
    with pytest.raises(ModelFileError, match=match):
        resolve_weights(Path(value), "detectors.vehicle_weights")


def test_user_weights_file_is_accepted(tmp_path: Path) -> None:
    w = tmp_path / "yolo11n.onnx"
    w.write_bytes(b"x")
    assert resolve_weights(w, "detectors.vehicle_weights") == w.resolve()
    assert resolve_weights(None, "detectors.vehicle_weights") is None
