"""vision.parked: parked vehicles as places (votes, occlusion, parking-zone prior, cuts), on scripted
detections and on real frames of the shared footage through the real packaged SSD and pose models.

The real-frame tests reproduce two failure modes of issue 15 on footage we may use (MIT, see
``vision/eval_labels/shared-footage``): a parked car that the packaged SSD scores below its 0.4
threshold at a refresh is forgotten (night garage, nofi029), a dark SUV behind people is never
detected (nofi108, best SSD score 0.11, as the night IR SUV's 0.12) unless an operator's parking zone
says cars stand there; and a jump cut within one camera's view (two clips of the same camera 20 s
apart, fi122 -> fi123) that the scene-change test misses (0.046 < 0.12) would keep cached boxes.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import pytest

from lookout.models import packaged_pose_weights, packaged_ssd_graph
from lookout.paths import footage_dir
from vision.detect.composite import CompositeDetector
from vision.parked import ParkedConfig, ParkedMemory
from vision.types import BICYCLE, CAR, PERSON, Detections

FOOTAGE = footage_dir()
needs_footage = pytest.mark.skipif(FOOTAGE is None, reason="no ../shared/footage (set LOOKOUT_FOOTAGE)")


def dets(*rows: tuple[tuple[float, float, float, float], float, int]) -> Detections:
    if not rows:
        return Detections.empty()
    return Detections(np.array([r[0] for r in rows], np.float32), np.array([r[1] for r in rows], np.float32),
                      np.array([r[2] for r in rows], np.int32))  # fmt: skip


CAR_BOX = (100.0, 200.0, 300.0, 300.0)


def boxes(mem: ParkedMemory) -> list[list[float]]:
    return [[round(float(v)) for v in b] for b in mem.report().xyxy]


def test_one_strong_detection_confirms_a_place():
    mem = ParkedMemory()
    mem.update(0.0, dets((CAR_BOX, 0.5, CAR)))
    assert boxes(mem) == [[100, 200, 300, 300]]
    assert mem.report().confidence[0] == pytest.approx(0.5)


def test_weak_votes_at_one_place_add_up_and_junk_stays_out():
    mem = ParkedMemory()
    for k in range(2):
        mem.update(k * 0.5, dets((CAR_BOX, 0.2, CAR), ((400, 50, 500, 90), 0.1, CAR)))
        assert boxes(mem) == []  # not yet: two votes
    assert mem.pending()
    mem.update(1.0, dets(((102, 201, 302, 301), 0.18, CAR), ((400, 50, 500, 90), 0.1, CAR)))
    assert boxes(mem) == [[101, 200, 301, 300]]  # the car (mean 0.19); the 0.1 junk never
    rep = mem.report()
    assert rep.confidence[0] >= ParkedConfig().report_floor and rep.class_id[0] == CAR
    for k in range(3, 12):
        mem.update(k * 0.5, dets((CAR_BOX, 0.2, CAR), ((400, 50, 500, 90), 0.1, CAR)))
    assert len(boxes(mem)) == 1 and not mem.pending()  # junk had its votes: no faster refresh for it


def test_bicycles_are_not_places():
    mem = ParkedMemory()
    mem.update(0.0, dets((CAR_BOX, 0.9, BICYCLE)))
    assert len(mem) == 0


def test_a_person_in_front_keeps_the_place_and_its_box():
    mem = ParkedMemory()
    mem.update(0.0, dets((CAR_BOX, 0.6, CAR)))
    person = np.array([[180, 150, 240, 320]], np.float32)  # covers ~20 % of the car
    for k in range(1, 10):  # refreshes while he stands there: the car scores nothing, or a shrunk box
        found = dets(((100, 200, 180, 300), 0.12, CAR)) if k % 2 else dets()
        mem.update(10.0 * k, found, person)
        assert boxes(mem) == [[100, 200, 300, 300]], k


def test_an_unoccluded_car_that_is_gone_is_forgotten_after_misses_and_time():
    cfg = ParkedConfig()
    mem = ParkedMemory(cfg)
    mem.update(0.0, dets((CAR_BOX, 0.6, CAR)))
    for k in range(1, cfg.forget_misses + 1):
        mem.update(float(k), dets())
    assert len(boxes(mem)) == 1  # three misses, but only 3 s: kept
    mem.update(cfg.forget_s + 1.0, dets())
    assert boxes(mem) == []


def test_parking_zone_is_a_prior_for_weak_detections():
    zone = [np.array([[50, 250], [350, 250], [350, 350], [50, 350]], np.float32)]
    weak = dets((CAR_BOX, 0.1, CAR))
    plain, prior = ParkedMemory(), ParkedMemory()
    for k in range(2):
        plain.update(k * 0.5, weak)
        prior.update(k * 0.5, weak, zones=zone)
    assert boxes(plain) == [] and boxes(prior) == [[100, 200, 300, 300]]
    fainter, elsewhere = ParkedMemory(), dets(((400, 10, 500, 60), 0.06, CAR))
    for k in range(3):  # 0.06: below vote_conf, a vote only inside the zone
        fainter.update(k * 0.5, Detections.merge([dets((CAR_BOX, 0.06, CAR)), elsewhere]), zones=zone)
    assert boxes(fainter) == [[100, 200, 300, 300]] and len(fainter) == 1


def test_reset_and_near():
    mem = ParkedMemory()
    mem.update(0.0, dets((CAR_BOX, 0.6, CAR)))
    assert mem.near(np.array([[300, 180, 340, 300]], np.float32))  # at the car's side
    assert not mem.near(np.array([[600, 180, 640, 300]], np.float32))
    mem.reset()
    assert len(mem) == 0


# ---- real frames ------------------------------------------------------------------------------------


def _clip(name: str) -> list[np.ndarray]:
    from vision.eval import read_clip

    path = next(FOOTAGE.rglob(f"*{name}_*.mp4"), None)
    if path is None:
        pytest.skip(f"{name} not in {FOOTAGE}")
    return read_clip(path)[0]


@pytest.fixture(scope="module")
def detectors():
    from vision.detect.ssd_mobilenet import SsdMobilenetDetector
    from vision.detect.ultralytics_pose import UltralyticsPoseDetector

    cache = Path(os.environ["LOOKOUT_DATA"]) / "models"
    g = packaged_ssd_graph()
    pose = UltralyticsPoseDetector(packaged_pose_weights(), imgsz=320, cache_dir=cache)
    ssd_old = SsdMobilenetDetector(g.graph_pb, g.config_pbtxt, conf=0.4)
    ssd_low = SsdMobilenetDetector(g.graph_pb, g.config_pbtxt, conf=ParkedConfig().zone_vote_conf)
    yield pose, ssd_old, ssd_low
    pose.close()


def _run(comp: CompositeDetector, frames: list[np.ndarray], fps: float, feed: str = "f") -> list[Detections]:
    out = []
    for i, img in enumerate(frames):
        d = comp.detect([img], feeds=[feed], t_mono=[i / fps])[0]
        out.append(d[d.class_id != PERSON])
    return out


def _overlaps(d: Detections, box: tuple[float, float, float, float], iou: float = 0.3) -> bool:
    from vision.parked import _iou

    return len(d) > 0 and float(_iou(np.array(box, np.float32), d.xyxy).max()) >= iou


@pytest.mark.slow
@needs_footage
def test_garage_car_is_not_forgotten_at_a_refresh(detectors):
    """Night garage deck (nofi029): the packaged SSD gives the parked car 0.43 in the first frame and
    0.17-0.41 afterwards. Refreshed every 0.25 s (a 10-s refresh meets the same scores, later), the
    plain composite forgets it at the refreshes where it scores below 0.4; the parked memory keeps it
    in every frame."""
    pose, ssd_old, ssd_low = detectors
    frames = _clip("nofi029")
    car = (0.0, 3.0, 244.0, 115.0)
    old = _run(CompositeDetector(pose, ssd_old, refresh_s=0.25), frames, 24.0)
    new = _run(CompositeDetector(pose, ssd_low, refresh_s=0.25, parked=ParkedConfig(confirm_conf=0.4)), frames, 24.0)
    old_seen = [_overlaps(d, car) for d in old]
    assert old_seen[0] and not all(old_seen)  # the failure: forgotten at a refresh
    assert all(_overlaps(d, car) for d in new)


@pytest.mark.slow
@needs_footage
def test_dark_suv_behind_people_needs_the_parking_zone(detectors):
    """nofi108: a black SUV at the kerb behind a tree and three people. The packaged SSD never scores
    it above 0.11 (the night IR SUV of the issue: 0.12), so neither the plain composite nor votes
    alone make it a parked car; a parking zone drawn on the kerb does (two votes in it), and keeps it."""
    pose, ssd_old, ssd_low = detectors
    frames = _clip("nofi108")
    suv = (330.0, 20.0, 500.0, 130.0)
    old = _run(CompositeDetector(pose, ssd_old, refresh_s=0.25), frames, 30.0)
    assert not any(_overlaps(d, suv, 0.2) for d in old)  # the failure: never a parked vehicle
    votes = _run(CompositeDetector(pose, ssd_low, parked=ParkedConfig(confirm_conf=0.4)), frames, 30.0)
    assert not any(_overlaps(d, suv, 0.2) for d in votes)
    # people stand at the zone, so it is refreshed every near_refresh_s (0.5 s here to fit a 2-s clip)
    comp = CompositeDetector(pose, ssd_low, parked=ParkedConfig(confirm_conf=0.4), near_refresh_s=0.5)
    comp.set_parking_zones("f", [np.array([[280, 100], [560, 100], [560, 230], [280, 230]], np.float32)])
    zoned = _run(comp, frames, 30.0)
    seen = [_overlaps(d, suv, 0.2) for d in zoned]
    assert True in seen, "the SUV never became a parked place inside the parking zone"
    assert all(seen[seen.index(True) :])


@pytest.mark.slow
@needs_footage
def test_jump_cut_within_one_view_forgets_cached_vehicles(detectors):
    """fi122 then fi123: the same lane camera 20 s apart, spliced (a real jump cut). Against the last
    refresh the picture changed by 0.046 (< scene_change 0.12): the plain composite keeps serving its
    cached boxes across the cut. The frame-to-frame spike is caught: places are forgotten and the
    vehicles re-detected at the cut frame, and nowhere else in either clip."""
    pose, ssd_old, ssd_low = detectors
    a, b = _clip("fi122"), _clip("fi123")
    plain = CompositeDetector(pose, ssd_old, refresh_s=10.0)
    _run(plain, a + b, 25.0)
    assert plain.vehicle_runs == 1  # the failure: one detection, reused across the cut
    comp = CompositeDetector(pose, ssd_low, refresh_s=10.0, parked=ParkedConfig(confirm_conf=0.4))
    runs, flagged = [], []
    for i, img in enumerate(a + b):
        comp.detect([img], feeds=["lane"], t_mono=[i / 25.0])
        runs.append(comp.vehicle_runs)
        flagged += [i] if any(comp.last_cuts) else []  # the frame the feed's tracker starts afresh on
    assert comp.cuts == 1 and flagged == [len(a)]
    cut_at = next(i for i in range(1, len(runs)) if runs[i] > runs[i - 1] and i >= len(a) - 1)
    assert cut_at == len(a)


class _Junk:
    """A vehicle 'detector' that sees a 0.13 car at a new place on every call (clutter)."""

    name, classes = "junk", (CAR,)

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, images):
        self.calls += 1
        x = 40.0 * (self.calls % 12)
        return [dets(((x, 10.0, x + 30.0, 40.0), 0.13, CAR)) for _ in images]

    def close(self) -> None:
        pass


def test_vote_refreshes_are_bounded_between_regular_refreshes(detectors, bus_img):
    """Clutter that never confirms cannot keep the vehicle detector at the voting rate: at most
    max_vote_refreshes (4) fast refreshes per regular one, even when it shows up at a new place each
    time; clutter at one place stops costing after its ``pending_looks`` looks."""
    pose = detectors[0]
    junk = _Junk()
    comp = CompositeDetector(pose, junk, refresh_s=10.0, parked=ParkedConfig(), clahe_votes=False)
    empty = np.zeros_like(bus_img)  # nobody near anything: only the voting can trigger refreshes
    for k in range(40):  # 20 s at 2 fps
        comp.detect([empty], feeds=["f"], t_mono=[k * 0.5])
    assert comp.vehicle_runs == 2 * (1 + comp.max_vote_refreshes)  # two regular refreshes (0 s, 12 s)
    assert comp.vehicle_reasons["vote"] == 2 * comp.max_vote_refreshes
    still = CompositeDetector(pose, _Fixed((40.0, 10.0, 70.0, 40.0), 0.13), refresh_s=10.0, parked=ParkedConfig(),
                              clahe_votes=False)  # fmt: skip
    for k in range(40):
        still.detect([empty], feeds=["f"], t_mono=[k * 0.5])
    assert still.vehicle_reasons["vote"] == ParkedConfig().pending_looks - 1  # first window only
    assert still.vehicle_runs == ParkedConfig().pending_looks + 1  # + the regular refresh at 12 s


class _Fixed:
    """A vehicle 'detector' that sees the same car box at the same score on every call."""

    name, classes = "fixed", (CAR,)

    def __init__(self, box: tuple[float, float, float, float], score: float) -> None:
        self.box, self.score, self.calls = box, score, 0

    def detect(self, images):
        self.calls += len(images)
        return [dets((self.box, self.score, CAR)) for _ in images]

    def close(self) -> None:
        pass


def _beside_a_person(pose, img: np.ndarray) -> tuple[float, float, float, float]:
    """A car-sized box just right of the first person the pose model finds in ``img``."""
    people = pose.detect([img])[0]
    _, y1, x2, y2 = (float(v) for v in people.xyxy[people.class_id == PERSON][0])
    h = y2 - y1
    return (x2 + 5.0, y1 + h / 2, min(x2 + 5.0 + h, img.shape[1] - 1.0), y2)


def _changed_at(img: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    out = img.copy()
    x1, y1, x2, y2 = (int(v) for v in box)
    out[y1:y2, x1:x2] = 255 - out[y1:y2, x1:x2]  # something moved there (a door opening, a man bending)
    return out


def test_near_refresh_needs_something_to_move_at_the_place(detectors, bus_img):
    """A person standing still beside a car that is not yet confirmed does not re-run the vehicle
    detector every near_refresh_s: only a change of the pixels at the place (since the last run) does."""
    pose = detectors[0]
    box = _beside_a_person(pose, bus_img)
    comp = CompositeDetector(pose, _Fixed(box, 0.13), refresh_s=10.0, parked=ParkedConfig(), clahe_votes=False)
    for k in range(16):  # 0 .. 7.5 s, the same picture: the first look and its vote refreshes, then nothing
        comp.detect([bus_img], feeds=["f"], t_mono=[k * 0.5])
    assert comp.memory("f").near(pose.detect([bus_img])[0].xyxy)
    assert comp.vehicle_runs == ParkedConfig().pending_looks and comp.vehicle_reasons["near"] == 0
    moved = _changed_at(bus_img, box)
    comp.detect([moved], feeds=["f"], t_mono=[8.0])
    assert comp.vehicle_reasons["near"] == 1
    comp.detect([moved], feeds=["f"], t_mono=[8.5])  # still changed against 7.5 s, but not since the run at 8.0
    comp.detect([moved], feeds=["f"], t_mono=[10.5])
    assert comp.vehicle_reasons["near"] == 1


def test_a_confirmed_place_is_not_refreshed_for_people_moving_at_it(detectors, bus_img):
    """A confirmed parked car is kept while people occlude it, so people moving at it are no reason to
    run the vehicle detector again before refresh_s."""
    pose = detectors[0]
    box = _beside_a_person(pose, bus_img)
    comp = CompositeDetector(pose, _Fixed(box, 0.6), refresh_s=10.0, parked=ParkedConfig(), clahe_votes=False)
    moved = _changed_at(bus_img, box)
    for k in range(20):  # 0 .. 9.5 s
        comp.detect([moved if k % 2 else bus_img], feeds=["f"], t_mono=[k * 0.5])
    assert comp.vehicle_runs == 1 and len(comp.memory("f").report()) == 1


def test_a_camera_that_keeps_moving_refreshes_at_most_once_per_scene_refresh_s(detectors, bus_img):
    """A slow pan (every step below scene_change, the sum above it) re-detects vehicles at most once per
    scene_refresh_s; a sudden change of picture at once (``tests/vision/test_detect.py``)."""
    pose = detectors[0]
    fixed = _Fixed((10.0, 10.0, 60.0, 40.0), 0.6)
    comp = CompositeDetector(pose, fixed, refresh_s=10.0, parked=ParkedConfig(), clahe_votes=False)
    runs = []
    for k in range(30):  # 6 s at 5 fps, the view sliding down 10 px a frame
        t = k * 0.2
        before = comp.vehicle_runs
        comp.detect([np.ascontiguousarray(bus_img[10 * k : 10 * k + 700])], feeds=["f"], t_mono=[t])
        runs += [t] if comp.vehicle_runs > before else []
    assert comp.vehicle_reasons["scene"] >= 2  # the view did change
    assert all(b - a >= comp.scene_refresh_s - 1e-9 for a, b in itertools.pairwise(runs))
