"""The crowd rule counts a tiled pass (``vision.crowd``) when one ran: scripted, and on the real nightclub
crowd where the whole-frame pass at 320 (the pipeline's default) sees a few of the people."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from lookout.models import packaged_pose_weights
from lookout.paths import footage_dir
from tests.vision.behaviours.scripted import PERSON, T0, H, W, person_at, tracked
from vision.behaviours import BehaviourEngine, RulesConfig
from vision.types import Detections

NIGHTCLUB = "nofight/dev_nofi049_nightclub_crowd.mp4"


def _engine(**crowd) -> BehaviourEngine:  # type: ignore[no-untyped-def]
    cfg = RulesConfig.model_validate({"cooldown_s": 0, "crowd": {"min_people": 8, "min_duration_s": 1.0, **crowd}})
    return BehaviourEngine("cam", cfg)


def _untracked(n: int, x0: float = 100, spacing: float = 40) -> Detections:
    boxes = np.array([person_at(x0 + spacing * i, 400) for i in range(n)], np.float32)
    return Detections(boxes, np.full(n, 0.6, np.float32), np.full(n, PERSON, np.int32))


def _run(engine: BehaviourEngine, frames: list[Detections], crowds: dict[int, Detections], fps: float = 10.0):  # type: ignore[no-untyped-def]
    out = []
    for k, det in enumerate(frames):
        t = T0 + timedelta(seconds=k / fps)
        out += [(k, ev) for ev in engine.update(k, t, W, H, det, crowd=crowds.get(k)) if ev.kind == "crowd"]
    return out


def test_a_tiled_count_fires_the_crowd_the_tracked_people_undercount() -> None:
    three = tracked({1: person_at(140, 400), 2: person_at(220, 400), 3: person_at(600, 400)})
    frames = [three] * 30
    assert _run(_engine(), frames, {}) == []  # 3 tracked people: never a crowd of 8
    tiled = {k: _untracked(10) for k in range(0, 30, 10)}  # a tiled pass once a second sees 10
    [(k, ev)] = _run(_engine(), frames, tiled)
    assert k == 10 and ev.details == {"people": 10, "held_s": 1.0, "counted": "tiled"}
    assert ev.track_ids == (1, 2)  # the tracked people inside the tiled group (3 stands apart)
    assert ev.summary == "crowd of 10 people for 1.0 s"


def test_a_tiled_count_stands_only_for_tiled_hold_s() -> None:
    frames = [tracked({1: person_at(140, 400)})] * 30
    assert _run(_engine(tiled_hold_s=0.5), frames, {0: _untracked(10)}) == []  # seen 0.5 s, needs 1.0
    assert len(_run(_engine(tiled_hold_s=2.0), frames, {0: _untracked(10)})) == 1


def test_the_tiled_count_fires_the_crowd_on_a_real_nightclub_crowd() -> None:
    root = footage_dir()
    if root is None or not (root / NIGHTCLUB).is_file():
        pytest.skip(f"no shared footage clip {NIGHTCLUB} (../shared/footage or LOOKOUT_FOOTAGE)")
    from vision.crowd import CrowdCountConfig, CrowdCounter
    from vision.detect import build_detector
    from vision.detect.ultralytics_pose import PoseDetectorConfig
    from vision.track import Tracker

    cap = cv2.VideoCapture(str(root / NIGHTCLUB))
    fps = cap.get(cv2.CAP_PROP_FPS) or 15.0
    images = []
    while (got := cap.read())[0]:
        images.append(got[1])
    cap.release()
    det = build_detector(PoseDetectorConfig(imgsz=320), packaged_pose_weights(),
                         cache_dir=Path.home() / ".local/share/lookout/models")  # fmt: skip
    tracker, counter = Tracker("bytetrack"), CrowdCounter(det, CrowdCountConfig(min_people=3))
    frames, tiled = [], {}
    for k, img in enumerate(images):
        whole = det.detect([img])[0]
        frames.append(tracker.update(whole, img))
        counted = counter.update("club", img, k / fps, whole)
        if counted is not None:
            tiled[k] = counted.detections
    det.close()
    h, w = images[0].shape[:2]

    def run(crowds: dict[int, Detections]) -> list:  # type: ignore[type-arg]
        eng = _engine()
        return [ev for k, d in enumerate(frames)
                for ev in eng.update(k, T0 + timedelta(seconds=k / fps), w, h, d, crowd=crowds.get(k))
                if ev.kind == "crowd"]  # fmt: skip

    most = max(int(np.sum(d.class_id == PERSON)) for d in frames)
    assert most < 8 and run({}) == []  # the whole-frame pass at 320 never sees a crowd of 8
    assert tiled and max(len(t) for t in tiled.values()) >= 8
    [ev] = run(tiled)
    assert ev.details["counted"] == "tiled" and ev.details["people"] >= 8


def test_lookout_detect_crowd_fires_the_rule_from_the_tiled_count(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from lookout.cli import main

    root = footage_dir()
    if root is None or not (root / NIGHTCLUB).is_file():
        pytest.skip(f"no shared footage clip {NIGHTCLUB} (../shared/footage or LOOKOUT_FOOTAGE)")
    config = tmp_path / "lookout.toml"
    config.write_text("[detectors.crowd]\nmin_people = 3\n[rules.crowd]\nmin_duration_s = 1.0\n")
    assert main(["--config", str(config), "detect", str(root / NIGHTCLUB), "--crowd", "--json", "--imgsz", "320"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    counts = [x["people"] for x in lines if x["type"] == "crowd"]
    events = [x for x in lines if x["type"] == "event" and x["kind"] == "crowd"]
    assert counts and max(counts) >= 8
    assert len(events) == 1 and events[0]["details"]["counted"] == "tiled"
