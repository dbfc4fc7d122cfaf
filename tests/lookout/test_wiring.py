"""lookout.wiring: flight commands over a real Fleet (clear errors, audited); the video wall draws zones."""

from __future__ import annotations

from pathlib import Path

import pytest

from flight import Fleet
from flight.errors import NoVehicle
from lookout.audit import AuditLog
from lookout.wiring import FleetActions, FleetView


def test_command_for_a_vehicle_nobody_hears_is_a_clear_error_and_audited(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite") as audit:
        actions = FleetActions(FleetView(Fleet()), audit.append, actor="console:test")
        with pytest.raises(NoVehicle, match="no heartbeat from vehicle sysid 7 on any configured link"):
            actions.arm(7)
        [entry] = audit.entries()  # the operator's attempt is on record, with why it failed
        assert (entry.actor, entry.action, entry.subject) == ("console:test", "flight.arm", "vehicle 7")
        assert entry.detail["outcome"].startswith("failed: no heartbeat from vehicle sysid 7")


@pytest.mark.slow  # a real worker process loads the pose model (~9 s)
def test_video_wall_draws_each_cameras_zones(tmp_path: Path) -> None:
    """A configured camera through the real scheduler: its tile shows its zones (and the "*" ones)."""
    import importlib.util
    import os
    import time

    import cv2
    import numpy as np

    from lookout.config import parse_config
    from lookout.wiring import VisionWall

    assets = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "assets"
    still = cv2.imread(str(assets / "bus.jpg"))[:360, :640]  # a 640x360 "camera" (no scheduler rescale)
    cv2.imwrite(str(tmp_path / "lobby.png"), still)
    cfg = parse_config(
        f'[cameras.lobby]\nurl = "{tmp_path / "lobby.png"}"\nmotion.enabled = false\n'
        '[zones.door]\ncamera = "lobby"\ncolor = "#ff00ff"\npolygon = [[20, 20], [200, 20], [200, 120], [20, 120]]\n'
        '[zones.all]\ncamera = "*"\ncolor = "#00ffff"\nnormalized = true\n'
        "polygon = [[0.5, 0.05], [0.9, 0.05], [0.9, 0.3], [0.5, 0.3]]\n"
    )
    wall = VisionWall(cfg, Path(os.environ["LOOKOUT_DATA"]), workers=1)  # the suite's ONNX export cache
    wall.add_cameras(cfg.cameras)
    wall.start()
    try:
        deadline = time.monotonic() + 90
        while (frame := wall.feeds["lobby"].latest()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        wall.stop()
    assert frame is not None, "no annotated frame within 90 s"
    img = frame.image
    assert img.shape == still.shape

    def share(pixels: np.ndarray, bgr: tuple[int, int, int]) -> float:
        return float(np.mean(np.abs(pixels.astype(int) - np.array(bgr)).max(axis=1) <= 60))

    assert share(img[40:110, 200], (255, 0, 255)) > 0.9  # the camera's own zone, right edge
    assert share(img[40:100, 576], (255, 255, 0)) > 0.9  # the "*" zone, right edge at 0.9 * 640
