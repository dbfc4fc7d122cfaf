"""People every frame, parked vehicles at a low rate: one detector made of two.

Vehicles in a fixed camera's view change slowly, so the vehicle detector runs only when a feed's
cached result is older than ``refresh_s`` or the scene changed (mean absolute difference of a small
grey thumbnail against the one at the last refresh above ``scene_change``, e.g. a drone camera
panning); in between the cached vehicles are reused. A scene change that came gradually (every
frame-to-frame step below ``scene_change``: a camera that keeps moving) re-detects at most once per
``scene_refresh_s``; a sudden one at once. The two results are merged into one ``Detections``
(vehicles get all-zero keypoints so rows stay aligned).

With ``parked`` (a ``vision.parked.ParkedConfig``; ``build_composite`` always gives one) the vehicle
detector runs at the memory's low ``vote_conf`` and what is reported are the **places** of a
per-feed ``vision.parked.ParkedMemory``: low-confidence detections at the same place add up over
refreshes, a car hidden behind a person is kept, a scene change forgets them. Refreshes before
``refresh_s`` are driven by events, not by the clock alone:

- **vote**: a place is still being voted on (``ParkedMemory.pending``: a candidate in its first
  ``pending_looks`` looks), every ``vote_refresh_s``, at most ``max_vote_refreshes`` times between
  two regular refreshes (a jump cut starts a new budget, a moving camera does not);
- **near**: a person is near a candidate place (not confirmed, may be a car, fewer than
  ``candidate_looks`` looks) or a parking zone **and something moved there**: at least
  ``place_change`` of the grey cells of its box changed since the feed's last vehicle run (a
  person standing still by a car is not news; a confirmed place is kept while people occlude it,
  so people at it are no reason either), at most once per ``near_refresh_s``.

``vehicle_reasons`` counts the runs by reason ("new", "regular", "scene", "cut", "vote", "near").
With ``clahe_votes`` every other refresh of a feed runs the vehicle detector on a contrast-normalised
copy (CLAHE on the lightness), so a place collects votes from both views (measured on the shared
footage: CLAHE raises the best car score on night and shaded clips, e.g. 0.32 -> 0.49 in the night
garage, 0.28 -> 0.40 on the night street, and lowers it on others). ``set_parking_zones(feed,
polygons)`` gives the operator's parking zones as a prior (places there are confirmed on fewer
votes). A jump cut (the frame-to-frame change of the thumbnail spikes to ``cut_ratio`` x its usual
size and at least ``cut_change``) also forgets the places and re-detects: cached boxes never
outlive the picture they came from (a cut within one camera's view changes little against the last
refresh).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vision.detect.base import Detector, Weights, build_detector, check_images
from vision.detect.regions import BatchRegions
from vision.parked import PLACE_CLASSES, ParkedConfig, ParkedMemory, person_boxes
from vision.types import Detections

THUMB_SIZE = (64, 36)
GREY_WIDTH = 160  # the finer grey copy a place's pixels are compared in (height keeps the aspect)
MOVE_LEVEL = 25.0  # a grey cell changed by more than this (of 255) moved
REASONS = ("new", "regular", "scene", "cut", "vote", "near")


@dataclass(frozen=True, slots=True)
class _VehicleCache:
    t_mono: float
    shape: tuple[int, ...]
    thumb: np.ndarray
    detections: Detections


def _thumb(img: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(
        np.float32
    )


def _grey(img: np.ndarray) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    size = (GREY_WIDTH, max(1, round(GREY_WIDTH * h / max(w, 1))))
    return cv2.resize(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), size, interpolation=cv2.INTER_AREA).astype(np.float32)


def moved_share(now: np.ndarray, then: np.ndarray, box: np.ndarray, shape: tuple[int, ...]) -> float:
    """Share of the grey cells (``_grey`` copies of two images of ``shape``) in ``box`` (xyxy pixels,
    grown by 10 % on each side) that changed by more than ``MOVE_LEVEL``."""
    h, w = shape[:2]
    gh, gw = now.shape
    bw, bh = float(box[2] - box[0]), float(box[3] - box[1])
    x1, x2 = int(max(0.0, (box[0] - 0.1 * bw) * gw / w)), int(min(gw, np.ceil((box[2] + 0.1 * bw) * gw / w)))
    y1, y2 = int(max(0.0, (box[1] - 0.1 * bh) * gh / h)), int(min(gh, np.ceil((box[3] + 0.1 * bh) * gh / h)))
    if x2 <= x1 or y2 <= y1:
        return 0.0
    return float(np.mean(np.abs(now[y1:y2, x1:x2] - then[y1:y2, x1:x2]) > MOVE_LEVEL))


def clahe(img: np.ndarray) -> np.ndarray:
    """Contrast-normalised copy: CLAHE (clip 3, 8x8 tiles) on the lightness of Lab."""
    import cv2

    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    lab[..., 0] = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(lab[..., 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def with_keypoints(det: Detections) -> Detections:
    """``det`` with all-zero keypoints if it has none (so it merges with pose detections)."""
    if det.keypoints is not None:
        return det
    return Detections(det.xyxy, det.confidence, det.class_id, det.tracker_id, np.zeros((len(det), 17, 3), np.float32))


class CompositeDetector(Detector):
    """``people`` on every image, ``vehicles`` refreshed per feed at a low rate and reused."""

    type_key = "composite"

    def __init__(
        self,
        people: Detector,
        vehicles: Detector | None,
        *,
        refresh_s: float = 10.0,
        scene_change: float = 0.12,
        max_feeds: int = 256,
        clock: Callable[[], float] = time.monotonic,
        parked: ParkedConfig | None = None,
        near_refresh_s: float = 2.0,
        vote_refresh_s: float = 0.5,
        clahe_votes: bool = True,
        cut_change: float = 0.02,
        cut_ratio: float = 4.0,
        place_change: float = 0.05,
        scene_refresh_s: float = 2.0,
    ) -> None:
        self.people = people
        self.vehicles = vehicles
        self.refresh_s = refresh_s
        self.scene_change = scene_change
        self._max_feeds = max_feeds
        self._clock = clock
        self._cache: OrderedDict[str, _VehicleCache] = OrderedDict()
        self.vehicle_runs = 0  # images the vehicle detector actually ran on (for stats and tests)
        self.last_area: list[float] = []  # per image of the last batch: share of pixels the people detector saw
        self.parked = parked
        self.near_refresh_s = near_refresh_s
        self.vote_refresh_s = vote_refresh_s
        self.clahe_votes = clahe_votes
        self.cut_change = cut_change
        self.cut_ratio = cut_ratio
        self.place_change = place_change
        self.scene_refresh_s = scene_refresh_s
        self._memory: dict[str, ParkedMemory] = {}
        self._zones: dict[str, list[np.ndarray]] = {}
        self._motion: dict[str, tuple[np.ndarray, float]] = {}  # feed -> (previous thumb, mean frame change)
        self._fast: dict[str, int] = {}  # feed -> vote refreshes since its last regular refresh
        self._flip: dict[str, bool] = {}  # feed -> its next refresh runs on the CLAHE copy
        self._last_thumb: dict[str, np.ndarray] = {}  # feed -> thumb of its previous image (gradual vs sudden change)
        self._grey: dict[str, tuple[tuple[int, ...], np.ndarray]] = {}  # feed -> (shape, grey) at its last run
        self.max_vote_refreshes = 4
        self.vehicle_reasons: dict[str, int] = dict.fromkeys(REASONS, 0)  # why the vehicle detector ran
        self.cuts = 0  # jump cuts seen (frame-to-frame change spikes): places forgotten, vehicles re-detected
        self.last_cuts: tuple[bool, ...] = ()  # per image of the last call: a jump cut (trackers start afresh)

    def _jump_cut(self, feed: str, thumb: np.ndarray) -> bool:
        """The picture jumped since the previous image of ``feed``: a cut within the same view (which
        the change against the last refresh, ``scene_change``, can miss: same camera, 20 s later).
        A change of at least ``cut_change`` and ``cut_ratio`` x the feed's usual frame change."""
        prev = self._motion.get(feed)
        if prev is None:
            self._motion[feed] = (thumb, 0.0)
            return False
        change = float(np.mean(np.abs(thumb - prev[0]))) / 255.0
        usual = prev[1]
        if change < 0.002:  # a repeated frame (re-filmed monitors, duplicated frames) says nothing
            self._motion[feed] = (thumb, usual)
            return False
        self._motion[feed] = (thumb, change if usual == 0.0 else 0.9 * usual + 0.1 * min(change, 3 * usual))
        return usual > 0.0 and change >= self.cut_change and change >= self.cut_ratio * usual

    def set_parking_zones(self, feed: str, polygons: Sequence[np.ndarray]) -> None:
        """The operator's parking zones of ``feed`` (pixel polygons): a prior for parked places."""
        self._zones[feed] = [np.asarray(p, np.float32).reshape(-1, 2) for p in polygons]

    def memory(self, feed: str) -> ParkedMemory | None:
        """The parked-vehicle places of ``feed`` (None without ``parked`` or before its first refresh)."""
        return self._memory.get(feed)

    def _soon(self, c: _VehicleCache | None, feed: str, img: np.ndarray, people: Detections,
              now: float) -> str | None:  # fmt: skip
        """Refresh before ``refresh_s`` ("vote", "near") or not (None): a place is being voted on, or
        a person is near a place or parking zone and its pixels changed since the last run."""
        mem = self._memory.get(feed)
        if c is None or mem is None:
            return None
        age = now - c.t_mono
        if mem.pending() and age >= self.vote_refresh_s and self._fast.get(feed, 0) < self.max_vote_refreshes:
            self._fast[feed] = self._fast.get(feed, 0) + 1  # bounded: junk can not keep the rate up
            return "vote"
        if age < self.near_refresh_s:
            return None
        areas = mem.near_areas(person_boxes(people), self._zones.get(feed, ()), candidates=True)
        return "near" if areas and self._moved(feed, img, areas) else None

    def _moved(self, feed: str, img: np.ndarray, areas: list[np.ndarray]) -> bool:
        """Something moved in one of ``areas`` (xyxy) since the feed's last vehicle run: at least
        ``place_change`` of its grey cells changed (a person standing still by a car is not news)."""
        ref = self._grey.get(feed)
        if ref is None or ref[0] != img.shape:
            return True
        now = _grey(img)
        return any(moved_share(now, ref[1], b, img.shape) >= self.place_change for b in areas)

    @property
    def name(self) -> str:
        v = self.vehicles.name if self.vehicles else "none"
        return f"composite(people={self.people.name}, vehicles={v} every {self.refresh_s:g}s)"

    @property
    def classes(self) -> tuple[int, ...]:
        return tuple(sorted(set(self.people.classes) | set(self.vehicles.classes if self.vehicles else ())))

    def _refresh_reason(self, c: _VehicleCache | None, img: np.ndarray, thumb: np.ndarray, last: np.ndarray | None,
                        now: float) -> str | None:  # fmt: skip
        """A regular refresh is due ("new", "regular", "scene") or not (None). A scene change that came
        gradually (a camera panning: each step below ``scene_change``) refreshes at most once per
        ``scene_refresh_s``; a sudden one (another picture) at once."""
        if c is None or c.shape != img.shape:
            return "new"
        age = now - c.t_mono
        if not 0.0 <= age < self.refresh_s:  # also: time went back
            return "regular"
        if float(np.mean(np.abs(thumb - c.thumb))) / 255.0 <= self.scene_change:
            return None
        gradual = last is not None and float(np.mean(np.abs(thumb - last))) / 255.0 <= self.scene_change
        return None if gradual and age < self.scene_refresh_s else "scene"

    def detect(
        self,
        images: list[np.ndarray],
        feeds: Sequence[str] | None = None,
        t_mono: Sequence[float] | None = None,
        imgsz: int | Sequence[int | None] | None = None,
        regions: BatchRegions = None,
    ) -> list[Detections]:
        """Detect in each image. ``feeds`` names each image's feed (the vehicle cache key; default
        one shared key, so a new scene is caught by the scene-change test); ``t_mono`` their times;
        ``imgsz`` the people detector's inference size, one for all or one per image (per-feed size);
        ``regions`` where each image moved (people are re-detected only there; see ``Detector``)."""
        check_images(images, self.name)
        n = len(images)
        feeds_given = feeds is not None
        feeds = list(feeds) if feeds is not None else ["default"] * n
        times = list(t_mono) if t_mono is not None else [self._clock()] * n
        if len(feeds) != n or len(times) != n:
            raise ValueError(f"{n} images but {len(feeds)} feeds and {len(times)} times")
        people = self.people.detect_batch(images, feeds if feeds_given else None, times, imgsz, regions)
        self.last_area = list(getattr(self.people, "last_area", None) or [1.0] * n)
        if self.vehicles is None:
            return [with_keypoints(p) for p in people]
        todo: list[int] = []  # images the vehicle detector runs on
        why: list[str] = []  # the reason of each
        source: list[int | None] = [None] * n  # which todo image's result an image reuses (None: cache)
        staged: dict[str, _VehicleCache] = {}  # this batch's refreshes, committed only if detection succeeds
        latest: dict[str, int] = {}  # feed -> its latest todo image in this batch
        cut: set[str] = set()  # feeds whose scene changed (their places are forgotten)
        jumps = [False] * n
        for i, (img, feed, now) in enumerate(zip(images, feeds, times, strict=True)):
            thumb = _thumb(img)
            prev = staged.get(feed) or self._cache.get(feed)
            jumped = self.parked is not None and self._jump_cut(feed, thumb)
            last, self._last_thumb[feed] = self._last_thumb.get(feed), thumb
            jumps[i] = jumped
            reason = "cut" if jumped else self._refresh_reason(prev, img, thumb, last, now)
            soon = None if reason or self.parked is None else self._soon(prev, feed, img, people[i], now)
            if reason:
                if reason in ("cut", "scene"):
                    cut.add(feed)  # not stale: the picture changed
                    self.cuts += jumped
                if reason != "scene":
                    self._fast[feed] = 0  # a new vote budget; a camera that keeps moving does not renew it
                todo.append(i)
                why.append(reason)
                latest[feed] = i
                staged[feed] = _VehicleCache(now, img.shape, thumb, Detections.empty())
            elif soon:
                todo.append(i)
                why.append(soon)
                latest[feed] = i
                staged[feed] = _VehicleCache(now, img.shape, prev.thumb if prev else thumb, Detections.empty())
            source[i] = latest.get(feed)
        inputs = []
        for i in todo:  # with clahe_votes, every other refresh of a feed sees the contrast-normalised copy
            flip = self.clahe_votes and self.parked is not None and self._flip.get(feeds[i], False)
            self._flip[feeds[i]] = not flip
            inputs.append(clahe(images[i]) if flip else images[i])
        found = dict(zip(todo, self.vehicles.detect(inputs) if todo else [], strict=True))
        self.vehicle_runs += len(todo)
        for i, reason in zip(todo, why, strict=True):
            self.vehicle_reasons[reason] += 1
            self._grey[feeds[i]] = (images[i].shape, _grey(images[i]))  # what "moved since the last run" compares to
        if self.parked is not None:
            for i in todo:
                mem = self._memory.setdefault(feeds[i], ParkedMemory(self.parked))
                if feeds[i] in cut:
                    mem.reset()
                    cut.discard(feeds[i])
                mem.update(times[i], found[i], person_boxes(people[i]), self._zones.get(feeds[i], ()))
                f = found[i]  # other classes (bicycles, a user model's extra classes) pass at the detector's threshold
                rest = f[~np.isin(f.class_id, PLACE_CLASSES) & (f.confidence >= self.parked.confirm_conf)]
                found[i] = Detections.merge([mem.report(), rest]) if len(rest) else mem.report()
        for feed, i in latest.items():
            c = staged[feed]
            self._cache[feed] = _VehicleCache(c.t_mono, c.shape, c.thumb, found[i])
            self._cache.move_to_end(feed)
        vehicles = [
            found[s] if s is not None else self._cache[f].detections for s, f in zip(source, feeds, strict=True)
        ]
        self.last_cuts = tuple(jumps)
        while len(self._cache) > self._max_feeds:
            gone, _ = self._cache.popitem(last=False)
            self._memory.pop(gone, None)
            self._motion.pop(gone, None)
            self._last_thumb.pop(gone, None)
            self._grey.pop(gone, None)
        return [
            Detections.merge([with_keypoints(p), with_keypoints(v)]) if len(v) else with_keypoints(p)
            for p, v in zip(people, vehicles, strict=True)
        ]

    def detect_batch(self, images, feeds=None, t_mono=None, imgsz=None, regions=None) -> list[Detections]:
        return self.detect(images, feeds=feeds, t_mono=t_mono, imgsz=imgsz, regions=regions)

    def forget(self, feed: str) -> None:
        """Drop a feed's cached vehicles and people (e.g. after a reconnect)."""
        self._cache.pop(feed, None)
        self._memory.pop(feed, None)
        self._motion.pop(feed, None)
        self._last_thumb.pop(feed, None)
        self._grey.pop(feed, None)
        self._fast.pop(feed, None)
        self._flip.pop(feed, None)
        forget = getattr(self.people, "forget", None)
        if forget is not None:
            forget(feed)

    def close(self) -> None:
        self.people.close()
        if self.vehicles is not None:
            self.vehicles.close()


def build_composite(
    config,  # vision.config.DetectorsConfig (not imported: vision.config imports the plugin configs)
    pose_weights: Path,
    vehicle_weights: Weights,
    *,
    cache_dir: Path | None = None,
    imgsz: int | None = None,
    parked: ParkedConfig | None = None,
) -> CompositeDetector:
    """The pipeline's detector from ``[detectors]``; ``imgsz`` overrides the pose size for one feed."""
    people_cfg = config.people if imgsz is None else config.people.model_copy(update={"imgsz": imgsz})
    people = build_detector(people_cfg, pose_weights, cache_dir=cache_dir)
    vehicles = None
    parked = parked or ParkedConfig()
    if config.active_vehicles is not None:
        vcfg = config.active_vehicles
        conf = getattr(vcfg, "conf", None)
        if conf is not None:  # votes come from below the detector's own threshold; one vote at it confirms
            parked = ParkedConfig(**{**_asdict(parked), "confirm_conf": float(conf)})
            vcfg = vcfg.model_copy(update={"conf": min(float(conf), parked.vote_conf, parked.zone_vote_conf)})
        try:
            vehicles = build_detector(vcfg, vehicle_weights, cache_dir=cache_dir)
        except BaseException:
            people.close()
            raise
    return CompositeDetector(people, vehicles, refresh_s=config.vehicle_refresh_s,
                             scene_change=config.vehicle_scene_change, parked=parked)


def _asdict(cfg: ParkedConfig) -> dict:
    import dataclasses

    return dataclasses.asdict(cfg)
