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


def _wall_result(feed: str, k: int, boxes: dict, *, frame: bool = True, detected: bool = True):
    """A scheduler Result of ``feed`` at capture time k/10 s with tracked people ``boxes`` (id -> xyxy)."""
    from datetime import UTC, datetime, timedelta

    import numpy as np

    from vision.scheduler_types import FrameMeta, Result
    from vision.types import Detections, Frame

    t = datetime(2026, 11, 23, 15, 0, tzinfo=UTC) + timedelta(seconds=k / 10)
    ids = list(boxes)
    det = Detections(np.array([boxes[i] for i in ids], np.float32).reshape(-1, 4), np.full(len(ids), 0.9, np.float32),
                     np.zeros(len(ids), np.int32), np.array(ids, np.int64))  # fmt: skip
    img = np.zeros((360, 640, 3), np.uint8)
    return Result(feed, FrameMeta(feed, k, t, 640, 360), det, detected, 0.01,
                  Frame(img, t, feed, k) if frame else None)  # fmt: skip


def test_video_wall_runs_the_rules_per_feed_and_serves_events_since(tmp_path: Path, caplog) -> None:
    """One engine per feed with that feed's zones; detected and carried results count; bounded, in order."""
    import logging

    from lookout.config import parse_config
    from lookout.wiring import VisionWall
    from vision.feeds import IteratorSource

    cfg = parse_config(
        '[cameras.yard]\nurl = "/dev/null"\n[cameras.road]\nurl = "/dev/null"\n'
        '[zones.lawn]\ncamera = "yard"\nkind = "watch"\npolygon = [[0, 0], [320, 0], [320, 360], [0, 360]]\n'
        "[rules]\ncooldown_s = 0\n[rules.loitering]\ndwell_s = 0.5\n"
    )
    wall = VisionWall(cfg, tmp_path, workers=1)  # not started: results are fed by hand, no model loads
    for name in ("yard", "road"):
        wall.add(IteratorSource(name, []), fps=10, zones=True)
    assert wall.events_since(0) == (0, [])
    standing = {7: (100.0, 100.0, 140.0, 200.0)}  # foot point (120, 200): on the lawn
    with caplog.at_level(logging.INFO, logger="lookout.wiring"):
        for k in range(8):  # detected, carried (motion gate) and frameless results all count
            wall._on_result(_wall_result("yard", k, standing, detected=k % 2 == 0, frame=k != 3))
            wall._on_result(_wall_result("road", k, standing))  # road has no zones: nothing loiters there
        assert wall.flush()  # events reach events_since through the bus (its delivery thread)
    seq, events = wall.events_since(0)
    assert seq == 1 and [(e.kind, e.feed, e.zone, e.frame_index) for e in events] == [("loitering", "yard", "lawn", 5)]
    assert wall.events_since(seq) == (1, [])
    assert "event loitering on yard (low): person 7 stayed in 'lawn' (watch) for 0.5 s" in caplog.text
    assert "LOITERING" in wall.feeds["yard"].latest().caption
    assert "last event: loitering" in wall.feeds["yard"].status()
    assert "last event" not in wall.feeds["road"].status()
    wall.bus.close()


def test_video_wall_keeps_the_newest_500_events_with_increasing_seq(tmp_path: Path) -> None:
    import threading

    from lookout.config import parse_config
    from lookout.wiring import VisionWall
    from vision.feeds import IteratorSource

    cfg = parse_config('[zones.door]\ncamera = "*"\nkind = "restricted"\npolygon = [[0, 0], [320, 0], [320, 360]]\n'
                       "[rules]\ncooldown_s = 0\n[rules.loitering]\nenabled = false\n")  # fmt: skip
    wall = VisionWall(cfg, tmp_path, workers=1)
    wall.add(IteratorSource("gate", []), fps=10, zones=True)
    seen: list[int] = []
    done = threading.Event()

    def poll() -> None:  # the console's timer, on another thread
        seq = 0
        while not done.is_set() or seq < wall.events_since(seq)[0]:
            seq, new = wall.events_since(seq)
            seen.extend(e.frame_index for e in new)

    poller = threading.Thread(target=poll)
    poller.start()
    inside, outside = (250.0, 10.0, 290.0, 60.0), (80.0, 200.0, 120.0, 300.0)
    for k in range(1400):  # enters the restricted zone every other frame: 700 events
        wall._on_result(_wall_result("gate", k, {1: inside if k % 2 == 0 else outside}, frame=False))
    assert wall.flush()
    done.set()
    poller.join(timeout=30)
    wall.bus.close()
    seq, kept = wall.events_since(0)
    assert seq == 700 and len(kept) == 500 and [e.frame_index for e in kept] == list(range(400, 1400, 2))
    assert seen == sorted(set(seen)) and seen[-1] == 1398  # in order, none twice, the last one seen


def test_video_wall_events_carry_their_frames_pose_and_ground_position(tmp_path: Path) -> None:
    """A drone feed: the capture pose of the frame that fired rides on the EventMessage, and the event's
    foot point is projected onto the ground with it (vision.geolocate), snapshot and clip written."""
    from dataclasses import replace

    from lookout.config import parse_config
    from lookout.wiring import VisionWall
    from vision.feeds import IteratorSource
    from vision.messages import EventMessage, EvidenceMessage
    from vision.types import CameraPose

    cfg = parse_config('[zones.yard]\ncamera = "*"\nkind = "restricted"\nnormalized = true\n'
                       "polygon = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]\n[rules]\ncooldown_s = 0\n")  # fmt: skip
    wall = VisionWall(cfg, tmp_path, workers=1)
    got: list = []
    wall.bus.subscribe("lookout/#", lambda t, m: got.append(m))
    wall.add(IteratorSource("drone1", []), fps=5, zones=True)  # camera=None: geolocation from the pose
    for k in range(3):
        pose = CameraPose(52.0, 4.0, 60.0, 40.0, 0.0, -45.0, 90.0 + k, 70.0)  # 40 m up, looking east, 45 deg down
        r = _wall_result("drone1", k, {5: (300.0, 200.0, 340.0, 300.0)})  # foot (320, 300): in the yard
        wall._on_result(replace(r, meta=replace(r.meta, pose=pose)))
    wall.stop()  # finishes the clip, delivers everything
    [ev] = [m for m in got if isinstance(m, EventMessage)]
    assert ev.event.frame_index == 0 and ev.pose.yaw_deg == 90.0  # the pose of the frame that fired
    assert ev.position is not None and ev.position.lon_deg > 4.0 and abs(ev.position.lat_deg - 52.0) < 1e-3
    assert 0 < ev.position.accuracy_m < 20
    assert ev.snapshot is not None and ev.snapshot.path.is_file()
    assert [m.evidence.event_id for m in got if isinstance(m, EvidenceMessage)] == [ev.event.id]
