"""What behaviour rules see (``FrameContext``) and what they report (``Event``).

An ``Event`` is the vision side of an alert (DESIGN.md: Event -> Alert): framework-neutral, with the
capture time span, the tracks involved, where in the image it happened (the foot point, which
geolocation later maps to the ground) and the zone. Rules never see Qt, sinks or the scheduler.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from vision.history import TrackHistory
from vision.types import Detections

Severity = Literal["low", "medium", "high"]

#: every kind a rule may report; the console and dispatch key their texts and colours on these
EVENT_KINDS = (
    "door_handle_trying",  # a person touching the doors of several parked cars one after another
    "vehicle_entry",  # a person disappearing into a parked car they were touching
    "water_entry",  # a person's foot point entering a water zone
    "fight",  # fast limb motion between people close together
    "loitering",  # a person staying in a restricted/watch zone
    "crowd",  # many people close together
    "zone_entry",  # a person entering a restricted zone
)


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # one of EVENT_KINDS
    severity: Severity
    feed: str
    t_start_utc: datetime  # capture time of the first frame that counts
    t_end_utc: datetime  # capture time of the frame that fired it
    frame_index: int  # the frame that fired it
    track_ids: tuple[int, ...]  # the people (and vehicles) involved
    xy_px: tuple[float, float]  # where in the image: the main person's foot point (bottom-centre)
    box_xyxy: tuple[float, float, float, float]  # union of the involved boxes at the firing frame
    score: float  # 0..1, how sure the rule is
    zone: str | None = None  # the zone it happened in, if any
    summary: str = ""  # one human line, e.g. "person 7 tried the doors of 3 parked cars in 41 s"
    details: dict[str, Any] = field(default_factory=dict)  # rule-specific, JSON-serialisable
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_json(self) -> dict[str, Any]:
        """The ``lookout detect --json`` line body (``type`` is added by the caller)."""
        return {
            "id": self.id, "kind": self.kind, "severity": self.severity, "feed": self.feed,
            "t_start_utc": self.t_start_utc.isoformat(), "t_end_utc": self.t_end_utc.isoformat(),
            "frame": self.frame_index, "track_ids": list(self.track_ids),
            "xy_px": [round(self.xy_px[0], 1), round(self.xy_px[1], 1)],
            "box_xyxy": [round(v, 1) for v in self.box_xyxy], "score": round(self.score, 3),
            "zone": self.zone, "summary": self.summary, "details": self.details,
        }  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class FrameContext:
    """One analysed frame of one feed, after tracking, as the rules see it.

    ``history`` already holds this frame's detections. ``t_s`` is the capture time in seconds
    (epoch, float) — the clock every rule measures durations in, so a file replayed faster or a
    stream with gaps still measures real seconds. ``zones`` are this camera's (``vision.zones``).
    """

    feed: str
    frame_index: int
    t_s: float
    t_utc: datetime
    width: int
    height: int
    detections: Detections  # tracked (tracker_id set): people (with keypoints) and vehicles
    history: TrackHistory
    zones: tuple[Any, ...] = ()  # vision.zones.Zone
    crowd: Detections | None = None  # people of a tiled pass on this frame (vision.crowd), untracked; None: none ran


class Rule(Protocol):
    """A behaviour rule: stateful per feed (one instance per feed), fed every analysed frame in order."""

    kind: str

    def update(self, ctx: FrameContext) -> list[Event]:
        """Events this frame completes (usually none). Must be quick: a few ms per frame."""
        ...
