"""vision.crowd: the tiled person pass that counts dense groups (real model on a real crowd frame when
the shared footage is there; tiling and seam de-duplication always)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from lookout.models import packaged_pose_weights
from lookout.paths import footage_dir
from vision.crowd import CrowdCountConfig, CrowdCounter, merge_people, tiles
from vision.types import PERSON, Detections

NIGHTCLUB = "nofight/dev_nofi049_nightclub_crowd.mp4"


def test_tiles_cover_the_frame_with_overlap() -> None:
    t = tiles(854, 480, (2, 2), 0.2)
    assert len(t) == 4 and t[0][:2] == (0, 0) and t[-1][2:] == (854, 480)
    assert t[1][0] < t[0][2] and t[2][1] < t[0][3]  # neighbours overlap
    cover = np.zeros((480, 854), bool)
    for x0, y0, x1, y1 in t:
        cover[y0:y1, x0:x1] = True
    assert cover.all()


def _people(*boxes: tuple[float, float, float, float], conf: float = 0.9) -> Detections:
    n = len(boxes)
    xyxy = np.array(boxes, np.float32).reshape(-1, 4)
    return Detections(xyxy, np.full(n, conf, np.float32), np.full(n, PERSON, np.int32))


def test_a_person_cut_by_a_tile_seam_counts_once() -> None:
    whole = _people((400, 100, 460, 260))
    cut = _people((400, 100, 440, 260), conf=0.6)  # the same person, half in the next tile
    other = _people((600, 100, 660, 260))
    merged = merge_people([whole, cut, other], 0.6)
    assert len(merged) == 2 and sorted(merged.xyxy[:, 0].tolist()) == [400, 600]


def test_due_only_for_groups_and_at_most_at_its_rate() -> None:
    class Never:
        def detect(self, images, imgsz=None):  # type: ignore[no-untyped-def]
            return [Detections.empty() for _ in images]

    c = CrowdCounter(Never(), CrowdCountConfig(min_people=3, rate_hz=1.0))
    three = _people((0, 0, 10, 30), (20, 0, 30, 30), (40, 0, 50, 30))
    img = np.zeros((100, 200, 3), np.uint8)
    assert c.update("a", img, 0.0, _people((0, 0, 10, 30))) is None  # one person: no tiled pass
    got = c.update("a", img, 0.0, three)
    assert got is not None and got.whole_frame == 3 and got.people == 0
    assert c.update("a", img, 0.5, three) is None and c.update("a", img, 1.0, three) is not None
    assert c.passes == 2


def test_tiled_pass_finds_at_least_the_whole_frame_people_in_a_real_crowd() -> None:
    root = footage_dir()
    if root is None or not (root / NIGHTCLUB).is_file():
        pytest.skip(f"no shared footage clip {NIGHTCLUB} (../shared/footage or LOOKOUT_FOOTAGE)")
    from vision.detect import build_detector
    from vision.detect.ultralytics_pose import PoseDetectorConfig

    cap = cv2.VideoCapture(str(root / NIGHTCLUB))
    ok, img = cap.read()
    cap.release()
    assert ok
    det = build_detector(PoseDetectorConfig(imgsz=640), packaged_pose_weights(),
                         cache_dir=Path.home() / ".local/share/lookout/models")  # fmt: skip
    whole = det.detect([img], imgsz=640)[0]
    counted = CrowdCounter(det).update("club", img, 0.0, whole)
    assert counted is not None and counted.whole_frame >= 4
    assert counted.people >= counted.whole_frame
    assert (counted.detections.xyxy[:, 2] <= img.shape[1] + 1).all()  # back in frame pixels


def test_lookout_detect_crowd_prints_the_tiled_count(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from lookout.cli import main

    clip = (footage_dir() or Path("/nonexistent")) / "nofight/dev_nofi026_night_group_walking.mp4"
    if not clip.is_file():
        pytest.skip("no shared footage clip nofi026 (../shared/footage or LOOKOUT_FOOTAGE)")
    assert main(["detect", str(clip), "--crowd", "--json", "--imgsz", "320", "--max-frames", "12"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    crowd = [x for x in lines if x["type"] == "crowd"]
    assert len(crowd) == 1 and crowd[0]["frame"] == 0  # at most once a second (12 frames at 30 fps)
    assert crowd[0]["people"] >= crowd[0]["whole_frame"] >= 4
    frames = [x["frame"] for x in lines if x["type"] == "detection"]
    assert frames[0] == 0 and lines.index(crowd[0]) == 1  # right after its frame's detection line


def test_the_tiled_pass_waits_for_people_standing_together() -> None:
    from vision.crowd import largest_group

    def people(*feet: tuple[float, float]) -> Detections:
        xyxy = np.array([[x - 10, y - 50, x + 10, y] for x, y in feet], np.float32)
        return Detections(xyxy, np.full(len(feet), 0.9, np.float32), np.zeros(len(feet), np.int32))

    spread = people((50, 400), (300, 420), (550, 380), (800, 410))  # four walkers far apart
    group = people((300, 400), (340, 405), (380, 398), (420, 402))  # four people within a box height
    chain = people((100, 400), (160, 400), (220, 400), (900, 400))  # three linked one to the next, one apart
    assert (largest_group(spread, 1.5), largest_group(group, 1.5), largest_group(chain, 1.5)) == (1, 4, 3)
    c = CrowdCounter(object(), CrowdCountConfig(min_people=4))  # due() never calls the detector
    assert not c.due("plaza", 0.0, spread) and c.due("plaza", 0.0, group)
    assert CrowdCounter(object(), CrowdCountConfig(min_people=4, group_heights=0)).due("plaza", 0.0, spread)
