"""Parked vehicles as places, not per-frame detections (one ``ParkedMemory`` per feed).

The vehicle detector runs at a low rate and misses parked cars that are plainly there: a dark SUV on
a night IR camera scores 0.12, a white car scores 0.12 while a man stands in front of it. A parked
car does not go anywhere, so its evidence can be **accumulated over time at the same place**:

- **Votes.** Every vehicle detection at or above ``vote_conf`` at a refresh is a vote for the place
  it overlaps (IoU >= ``match_iou``; a new place otherwise). A place is **confirmed** (reported as a
  parked vehicle) when one vote reached ``confirm_conf`` (the detector's own threshold), or when it
  gathered ``min_votes`` votes whose mean score is at least ``vote_mean`` (junk that scores 0.1 at
  the same place again and again stays out).
- **Pending.** ``pending()``: an unconfirmed place that may still be a car (best >= ``pending_conf``,
  any vote inside a parking zone) asks for quick vote refreshes, but only for its first
  ``pending_looks`` looks (refreshes that could have seen it): clutter stops costing after that.
- **Operator prior.** Inside a parking zone drawn by the operator (``zones`` of ``update``) a place
  is confirmed with ``zone_votes`` votes of at least ``zone_vote_conf`` (below ``vote_conf``): the
  operator said cars stand there.
- **Occlusion keeps a place.** A refresh that does not see a place while a person's box covers at
  least ``occluded_frac`` of it is no evidence it left: no miss is counted and its box is not
  changed (a person in front shrinks a fresh box). Only ``forget_misses`` unoccluded refreshes in a
  row without it, and at least ``forget_s`` seconds, forget a place (the car drove off).
- **Scene change.** ``reset()`` (a cut, a camera move) forgets every place at once.

Confirmed places are reported with their smoothed box, the class most voted for and a confidence
of at least ``report_floor`` (trackers drop weaker boxes), with a stable ``place_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from vision.types import BUS, CAR, PERSON, TRUCK, Detections

#: classes a place may stand for (bicycles and motorcycles have no doors and are not kept here)
PLACE_CLASSES = (CAR, BUS, TRUCK)


@dataclass(frozen=True, slots=True)
class ParkedConfig:
    vote_conf: float = 0.08  # lowest detection score that counts as a vote
    confirm_conf: float = 0.40  # one vote this strong confirms a place at once
    min_votes: int = 3  # or this many votes ...
    vote_mean: float = 0.15  # ... whose combined belief reaches this
    zone_votes: int = 2  # inside an operator's parking zone: this many votes ...
    zone_vote_conf: float = 0.05  # ... each at least this (lower than vote_conf: the operator said cars stand there)
    match_iou: float = 0.40
    zone_match_iou: float = 0.25  # in a parking zone weak boxes wander more (a car behind people)
    occluded_frac: float = 0.10  # a person box covering this share of a place hides it
    forget_misses: int = 3
    forget_s: float = 30.0
    max_votes: int = 8  # votes kept per place (the newest)
    pending_conf: float = 0.12  # an unconfirmed place this strong keeps the refresh fast ...
    pending_looks: int = 5  # ... for this many looks at it (refreshes that could have seen it), then no longer
    candidate_looks: int = 10  # an unconfirmed place is refreshed for people moving at it for this many looks
    report_floor: float = 0.30
    box_alpha: float = 0.3  # weight of a new unoccluded box in the smoothed box
    near_heights: float = 0.5  # a person within this x their height of a place is "near" it


@dataclass(slots=True)
class Place:
    place_id: int
    box: np.ndarray  # (4,) float32 smoothed xyxy
    first_t: float
    last_match_t: float
    votes: list[float] = field(default_factory=list)  # scores, newest last
    classes: dict[int, float] = field(default_factory=dict)  # class id -> summed score
    best: float = 0.0
    misses: int = 0
    looks: int = 0  # refreshes since it appeared that could have seen it (it matched, or was missed unoccluded)
    in_zone: bool = False
    confirmed: bool = False

    @property
    def belief(self) -> float:
        return float(1.0 - np.prod([1.0 - s for s in self.votes])) if self.votes else 0.0

    @property
    def class_id(self) -> int:
        return max(self.classes, key=self.classes.__getitem__) if self.classes else CAR


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of box ``a`` (4,) against boxes ``b`` (n, 4)."""
    x1, y1 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x2, y2 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: np.clip(z[..., 2] - z[..., 0], 0, None) * np.clip(z[..., 3] - z[..., 1], 0, None)  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-6)


def covered_frac(box: np.ndarray, others: np.ndarray) -> float:
    """Largest share of ``box`` that any one of ``others`` (n, 4) covers (0 when none)."""
    if not len(others):
        return 0.0
    x1, y1 = np.maximum(box[0], others[:, 0]), np.maximum(box[1], others[:, 1])
    x2, y2 = np.minimum(box[2], others[:, 2]), np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1e-6)
    return float(inter.max()) / area


def _in_zones(box: np.ndarray, zones: Sequence[np.ndarray]) -> bool:
    """The box's bottom centre lies in one of the pixel polygons ``zones``."""
    if not zones:
        return False
    import cv2

    pt = (float(box[0] + box[2]) / 2, float(box[3]))
    return any(cv2.pointPolygonTest(np.asarray(z, np.float32).reshape(-1, 1, 2), pt, False) >= 0 for z in zones)


class ParkedMemory:
    """One feed's parked-vehicle places. ``update`` at each vehicle refresh, ``report`` any frame."""

    def __init__(self, config: ParkedConfig | None = None) -> None:
        self.config = config or ParkedConfig()
        self._places: list[Place] = []
        self._next_id = 1

    def reset(self) -> None:
        """Forget every place (the scene changed: a cut or a camera move)."""
        self._places.clear()

    def update(self, t_s: float, vehicles: Detections, people: np.ndarray | None = None,
               zones: Sequence[np.ndarray] = ()) -> None:  # fmt: skip
        """One refresh: ``vehicles`` as the detector gave them (any score), ``people`` (n, 4) person
        boxes of the same image (occluders), ``zones`` parking polygons (pixels) as a prior."""
        c = self.config
        people = np.zeros((0, 4), np.float32) if people is None else np.asarray(people, np.float32).reshape(-1, 4)
        keep = (vehicles.confidence >= min(c.vote_conf, c.zone_vote_conf)) & np.isin(vehicles.class_id, PLACE_CLASSES)
        if zones and c.zone_vote_conf < c.vote_conf:  # weaker votes count only inside a parking zone
            weak = keep & (vehicles.confidence < c.vote_conf)
            for i in np.flatnonzero(weak):
                keep[i] = _in_zones(vehicles.xyxy[i], zones)
        else:
            keep &= vehicles.confidence >= c.vote_conf
        boxes = vehicles.xyxy[keep].astype(np.float32)
        scores, classes = vehicles.confidence[keep], vehicles.class_id[keep]
        matched: set[int] = set()
        for i in np.argsort(-scores):
            box, score, cls = boxes[i], float(scores[i]), int(classes[i])
            free = [p for p in self._places if p.place_id not in matched]
            ious = _iou(box, np.stack([p.box for p in free])) if free else np.zeros(0)
            need = np.array([c.zone_match_iou if p.in_zone else c.match_iou for p in free])
            ok = ious >= need if len(ious) else ious.astype(bool)
            ious = np.where(ok, ious, -1.0)
            if ok.any():
                place = free[int(np.argmax(ious))]
                if covered_frac(place.box, people) < c.occluded_frac:
                    place.box = (1 - c.box_alpha) * place.box + c.box_alpha * box
            else:
                if self._places and float(_iou(box, np.stack([p.box for p in self._places])).max()) >= c.match_iou:
                    continue  # a second box on a place already voted for at this refresh
                place = Place(self._next_id, box.copy(), t_s, t_s, in_zone=_in_zones(box, zones))
                self._next_id += 1
                self._places.append(place)
            matched.add(place.place_id)
            place.looks += 1
            place.votes = [*place.votes, score][-c.max_votes :]
            place.classes[cls] = place.classes.get(cls, 0.0) + score
            place.best, place.last_match_t, place.misses = max(place.best, score), t_s, 0
            place.in_zone = place.in_zone or _in_zones(place.box, zones)
            place.confirmed = place.confirmed or self._confirms(place)
        for place in self._places:
            if place.place_id in matched or covered_frac(place.box, people) >= c.occluded_frac:
                continue  # seen, or hidden behind someone: no evidence it left
            place.misses += 1
            place.looks += 1
        self._places = [
            p for p in self._places if p.misses < c.forget_misses or t_s - p.last_match_t < c.forget_s
        ]

    def _confirms(self, p: Place) -> bool:
        c = self.config
        if p.best >= c.confirm_conf:
            return True
        if p.in_zone and len(p.votes) >= c.zone_votes:
            return True
        return len(p.votes) >= c.min_votes and float(np.mean(p.votes)) >= c.vote_mean

    @property
    def places(self) -> list[Place]:
        return list(self._places)

    def pending(self) -> bool:
        """Some place that may still be a car (best score >= ``pending_conf``, any vote in a parking
        zone) is not confirmed and has been looked at fewer than ``pending_looks`` times (worth
        refreshing soon; junk stops counting after its looks, whether it scored again or not)."""
        c = self.config
        return any(
            not p.confirmed and p.best >= (c.vote_conf if p.in_zone else c.pending_conf) and p.looks < c.pending_looks
            for p in self._places
        )

    def near(self, people: np.ndarray, zones: Sequence[np.ndarray] = ()) -> bool:
        """A person box (n, 4) is within ``near_heights`` x its height of a place or of the bounding
        box of a parking zone."""
        return bool(self.near_areas(people, zones))

    def near_areas(self, people: np.ndarray, zones: Sequence[np.ndarray] = (), *,
                   candidates: bool = False) -> list[np.ndarray]:  # fmt: skip
        """The place boxes and parking-zone bounding boxes (xyxy) that a person box of ``people``
        (n, 4) is near (within ``near_heights`` x its height). With ``candidates`` only places that
        are not confirmed but may be a car (best >= ``pending_conf``, or any vote in a parking zone)
        and have been looked at fewer than ``candidate_looks`` times."""
        c = self.config
        people = np.asarray(people, np.float32).reshape(-1, 4)
        places = [p for p in self._places if not candidates or (
            not p.confirmed and p.best >= (c.vote_conf if p.in_zone else c.pending_conf) and p.looks < c.candidate_looks
        )]  # fmt: skip
        if not len(people) or not (places or zones):
            return []
        m = c.near_heights * (people[:, 3] - people[:, 1])
        areas = [p.box for p in places]
        areas += [np.array([*np.asarray(z).min(axis=0), *np.asarray(z).max(axis=0)], np.float32) for z in zones]
        out = []
        for b in areas:
            gap_x = np.maximum(0, np.maximum(b[0] - people[:, 2], people[:, 0] - b[2]))
            gap_y = np.maximum(0, np.maximum(b[1] - people[:, 3], people[:, 1] - b[3]))
            if bool(((gap_x <= m) & (gap_y <= m)).any()):
                out.append(np.asarray(b, np.float32))
        return out

    def report(self) -> Detections:
        """The confirmed places as vehicle detections (no tracker ids)."""
        conf = [p for p in self._places if p.confirmed]
        if not conf:
            return Detections.empty()
        floor = self.config.report_floor
        return Detections(
            np.stack([p.box for p in conf]).astype(np.float32),
            np.array([max(floor, p.best, min(p.belief, 0.99)) for p in conf], np.float32),
            np.array([p.class_id for p in conf], np.int32),
        )

    def __len__(self) -> int:
        return len(self._places)


def person_boxes(det: Detections) -> np.ndarray:
    """The (n, 4) person boxes of ``det``."""
    return det.xyxy[det.class_id == PERSON].astype(np.float32).reshape(-1, 4)
