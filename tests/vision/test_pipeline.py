"""vision.pipeline: zones once per size, rules, the capture pose on events, geolocation and evidence hooks,
annotation, and everything leaving through the bus (detections then events, in order)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from lookout.config import parse_config
from vision.behaviours import RulesConfig
from vision.bus import InProcessBus
from vision.messages import DetectionsMessage, EventMessage, EvidenceMessage, Topics
from vision.pipeline import FrameInfo, Pipeline
from vision.types import CameraPose, Detections
from vision.zones import zones_for_camera

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
POSE = CameraPose(52.1, 4.3, 60.0, 40.0, 0.0, -45.0, 90.0, 70.0)
INSIDE, OUTSIDE = (250.0, 10.0, 290.0, 60.0), (80.0, 200.0, 120.0, 300.0)  # foot (270, 60) / (100, 300)
CFG = parse_config('[zones.door]\ncamera = "*"\nkind = "restricted"\npolygon = [[0, 0], [320, 0], [320, 180]]\n'
                   "[rules]\ncooldown_s = 0\n")  # fmt: skip


def _det(boxes: dict[int, tuple[float, float, float, float]]) -> Detections:
    ids = list(boxes)
    return Detections(np.array([boxes[i] for i in ids], np.float32).reshape(-1, 4), np.full(len(ids), 0.9, np.float32),
                      np.zeros(len(ids), np.int32), np.array(ids, np.int64))  # fmt: skip


def _frame(k: int, pose: CameraPose | None = None, size: tuple[int, int] = (640, 360)) -> FrameInfo:
    return FrameInfo("gate", k, T0 + timedelta(seconds=k / 10), size[0], size[1], pose)


def _zones(w: int, h: int) -> list:
    return zones_for_camera(CFG.zones, "gate", w, h)


class Recorder:
    """Collects what the bus delivers, per topic, in order."""

    def __init__(self, bus: InProcessBus) -> None:
        self.got: list[tuple[str, object]] = []
        bus.subscribe("lookout/#", lambda t, m: self.got.append((t, m)))

    def of(self, cls: type) -> list:
        return [m for _, m in self.got if isinstance(m, cls)]


def test_events_carry_the_capture_pose_and_follow_their_frames_detections_on_the_bus() -> None:
    calls: list[tuple[int, int]] = []

    def zones(w: int, h: int):
        calls.append((w, h))
        return zones_for_camera(CFG.zones, "gate", w, h)

    with InProcessBus() as bus:
        rec = Recorder(bus)
        fp = Pipeline(bus, rules=CFG.rules, node="node-1").add_feed("gate", zones=zones)
        for k in range(6):  # in and out of the restricted zone: an entry on frames 0, 2, 4
            out = fp.process(_frame(k, POSE), _det({1: INSIDE if k % 2 == 0 else OUTSIDE}))
            assert out.zones == (("door",) if k % 2 == 0 else (None,))
        fp.process(_frame(6, POSE, (1280, 720)), _det({1: OUTSIDE}))
        assert bus.flush()
    assert calls == [(640, 360), (1280, 720)]  # zones resolved once per frame size
    topics = [t for t, _ in rec.got]
    per_frame = [["lookout/detections/gate", "lookout/events"] if k in (0, 2, 4) else ["lookout/detections/gate"]
                 for k in range(7)]  # fmt: skip
    assert topics == [t for frame in per_frame for t in frame]  # each event right after its frame's detections
    events = rec.of(EventMessage)
    assert [m.event.frame_index for m in events] == [0, 2, 4]
    assert all(m.pose == POSE and m.node == "node-1" and m.event.zone == "door" for m in events)
    dets = rec.of(DetectionsMessage)
    assert [d.frame_index for d in dets] == list(range(7)) and dets[0].objects[0]["zone"] == "door"
    assert dets[0].objects[0]["tracker_id"] == 1 and dets[0].pose == POSE


def test_annotated_frame_shows_the_event_and_untracked_input_runs_no_rules() -> None:
    img = np.zeros((360, 640, 3), np.uint8)
    with InProcessBus() as bus:
        rec = Recorder(bus)
        pipe = Pipeline(bus, rules=CFG.rules, show_s=1.0)
        fp = pipe.add_feed("gate", zones=lambda w, h: zones_for_camera(CFG.zones, "gate", w, h))
        out = fp.process(_frame(0), _det({1: INSIDE}), img)
        assert len(out.events) == 1 and out.image is not None and out.image is not img
        assert not img.any()  # the input frame is never drawn on
        red = np.all(out.image == (0, 140, 255), axis=2)  # medium severity box (orange, BGR)
        assert red.sum() > 100
        later = fp.process(_frame(20), _det({1: OUTSIDE}), img)  # 2 s later: no longer drawn (show_s 1)
        assert later.shown == ()
        plain = pipe.add_feed("still", rules=False)
        assert plain.process(FrameInfo("still", 0, T0, 640, 360), _det({1: INSIDE})).events == ()
        assert bus.flush()
    assert len(rec.of(EventMessage)) == 1


class FakeGeolocator:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple] = []
        self.fail = fail

    def locate(self, u_px, v_px, width_px, height_px, pose):
        self.calls.append((u_px, v_px, width_px, height_px, pose))
        if self.fail:
            raise ValueError("no ground")
        geolocate = pytest.importorskip("vision.geolocate")
        return geolocate.GroundFix(52.0, 4.0, 2.5)


def test_each_event_is_located_at_its_foot_point_with_the_frames_pose() -> None:
    pytest.importorskip("vision.geolocate")
    geo = FakeGeolocator()
    with InProcessBus() as bus:
        rec = Recorder(bus)
        fp = Pipeline(bus, rules=CFG.rules).add_feed("gate", zones=_zones, geolocator=geo)
        fp.process(_frame(0, POSE), _det({1: INSIDE}))
        assert bus.flush()
    assert geo.calls[0] == (270.0, 60.0, 640, 360, POSE)  # the event's foot point (then its track path)
    [msg] = rec.of(EventMessage)
    assert (msg.position.lat_deg, msg.position.accuracy_m) == (52.0, 2.5)


def test_the_main_tracks_path_is_located_with_the_pose_of_each_of_its_frames() -> None:
    geolocate = pytest.importorskip("vision.geolocate")

    class PoseEcho:  # ground "position" = (frame pose's yaw, foot x): shows which pose each point used
        def locate(self, u_px, v_px, width_px, height_px, pose):
            return geolocate.GroundFix(pose.yaw_deg, u_px, 1.0)

    with InProcessBus() as bus:
        rec = Recorder(bus)
        fp = Pipeline(bus, rules=CFG.rules).add_feed("gate", zones=_zones, geolocator=PoseEcho())
        for k in range(5):  # the person walks right (outside the zone), the drone turns; then enters
            x = 400.0 - 10 * k
            pose = CameraPose(52.1, 4.3, 60.0, 40.0, 0.0, -45.0, float(k), 70.0)
            box = (x, 200.0, x + 40, 300.0) if k < 4 else INSIDE
            fp.process(_frame(k, pose), _det({1: box}))
        assert bus.flush()
    [msg] = rec.of(EventMessage)
    assert msg.track_path == ((0.0, 420.0), (1.0, 410.0), (2.0, 400.0), (3.0, 390.0), (4.0, 270.0))
    assert msg.position == geolocate.GroundFix(4.0, 270.0, 1.0)


def test_a_failing_geolocator_is_logged_and_the_event_still_goes_out(caplog) -> None:
    with caplog.at_level(logging.ERROR, logger="vision.pipeline"), InProcessBus() as bus:
        rec = Recorder(bus)
        fp = Pipeline(bus, rules=CFG.rules).add_feed("gate", zones=_zones, geolocator=FakeGeolocator(fail=True))
        fp.process(_frame(0, POSE), _det({1: INSIDE}))
        assert bus.flush()
    [msg] = rec.of(EventMessage)
    assert msg.position is None and fp.errors == 1 and "geolocation failed" in caplog.text


@pytest.mark.parametrize("carry", [False, True])
def test_evidence_snapshot_rides_in_the_event_and_the_clip_is_published_when_ready(tmp_path: Path, carry: bool) -> None:
    """The real vision.evidence recorder: ring push every frame, the annotated snapshot now, the clip later."""
    from vision.evidence import EvidenceRecorder

    def factory(on_ready):
        return EvidenceRecorder("gate", tmp_path / "evidence", pre_s=0.5, post_s=0.5, on_ready=on_ready)

    img = np.full((360, 640, 3), 60, np.uint8)
    with InProcessBus() as bus:
        rec = Recorder(bus)
        pipe = Pipeline(bus, rules=CFG.rules, carry_bytes=carry, topics=Topics())
        pipe.add_feed("gate", zones=_zones, evidence_factory=factory)
        for k in range(12):  # enters on frame 0 and 10 (0.1 s apart): two events, two clips
            pipe.process(_frame(k), _det({1: INSIDE if k in (0, 1, 10, 11) else OUTSIDE}), img)
        pipe.close()  # end of stream: the clips still pending are finished and published
        assert bus.flush()
    events, clips = rec.of(EventMessage), rec.of(EvidenceMessage)
    assert [m.event.frame_index for m in events] == [0, 10]
    for m in events:
        assert m.snapshot.kind == "snapshot" and m.snapshot.path.is_file() and m.snapshot.event_id == m.event.id
        assert m.snapshot_jpeg == (m.snapshot.path.read_bytes() if carry else None)
    assert sorted(c.evidence.event_id for c in clips) == sorted(m.event.id for m in events)
    for c in clips:
        assert c.evidence.kind == "clip" and c.evidence.path.stat().st_size == c.evidence.size_bytes
        assert c.data == (c.evidence.path.read_bytes() if carry else None)


def test_rules_config_default_builds_every_rule() -> None:
    with InProcessBus() as bus:
        fp = Pipeline(bus, rules=RulesConfig()).add_feed("gate")
        assert fp.engine is not None and len(fp.engine.rules) == 7
