"""The alert model: what goes into the store (``AlertInput``) and what comes out (``Alert``).

Frozen, slotted dataclasses; times are timezone-aware UTC datetimes. ``Alert.to_json`` /
``Alert.from_json`` are the one JSON form (``lookout alerts show --json``, ``export``, the sinks).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

SEVERITIES = ("low", "medium", "high")


class AlertState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Position:
    lat_deg: float
    lon_deg: float
    accuracy_m: float


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """One evidence file: ``path`` is relative to the data directory; ``removed`` once retention deleted it."""

    kind: str  # "snapshot" | "clip"
    path: str
    sha256: str
    size_bytes: int
    mime: str
    removed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "path": self.path, "sha256": self.sha256, "size_bytes": self.size_bytes,
            "mime": self.mime, "removed": self.removed,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EvidenceRef:
        return cls(str(d["kind"]), str(d["path"]), str(d["sha256"]), int(d["size_bytes"]), str(d["mime"]),
                   bool(d.get("removed", False)))  # fmt: skip


@dataclass(frozen=True, slots=True)
class AlertInput:
    """One behaviour event as the store takes it (built by ``lookout.alerting`` from an EventMessage)."""

    event_id: str
    kind: str
    severity: str
    feed: str
    t_start_utc: datetime
    t_end_utc: datetime
    track_ids: tuple[int, ...]
    position: Position | None
    zone: str | None
    summary: str
    details: dict[str, Any]
    cooldown_s: float
    snapshot: EvidenceRef | None = None
    track_path: tuple[tuple[float, float], ...] = ()  # lat_deg, lon_deg
    node: str = ""


@dataclass(frozen=True, slots=True)
class Transition:
    t_utc: datetime
    user: str
    from_state: AlertState
    to_state: AlertState
    note: str

    def to_json(self) -> dict[str, Any]:
        return {"t_utc": self.t_utc.isoformat(), "user": self.user, "from_state": str(self.from_state),
                "to_state": str(self.to_state), "note": self.note}  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Transition:
        return cls(datetime.fromisoformat(d["t_utc"]), str(d["user"]), AlertState(d["from_state"]),
                   AlertState(d["to_state"]), str(d.get("note", "")))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    severity: str
    feed: str
    t_start_utc: datetime
    t_end_utc: datetime
    track_ids: tuple[int, ...]
    position: Position | None
    zone: str | None
    summary: str
    details: dict[str, Any]
    state: AlertState
    notes: tuple[str, ...]
    history: tuple[Transition, ...]
    evidence: tuple[EvidenceRef, ...]
    event_ids: tuple[str, ...]
    count: int
    created_utc: datetime
    updated_utc: datetime
    version: int
    track_path: tuple[tuple[float, float], ...] = ()
    node: str = ""
    cooldown_s: float = field(default=0.0, compare=False)

    @property
    def snapshot(self) -> EvidenceRef | None:
        """The newest snapshot still on disk, if any."""
        return next((e for e in reversed(self.evidence) if e.kind == "snapshot" and not e.removed), None)

    @property
    def clip(self) -> EvidenceRef | None:
        return next((e for e in reversed(self.evidence) if e.kind == "clip" and not e.removed), None)

    def to_json(self) -> dict[str, Any]:
        p = self.position
        return {
            "id": self.id, "kind": self.kind, "severity": self.severity, "feed": self.feed,
            "t_start_utc": self.t_start_utc.isoformat(), "t_end_utc": self.t_end_utc.isoformat(),
            "track_ids": list(self.track_ids),
            "position": None if p is None else {"lat_deg": p.lat_deg, "lon_deg": p.lon_deg, "accuracy_m": p.accuracy_m},
            "zone": self.zone, "summary": self.summary, "details": self.details, "state": str(self.state),
            "notes": list(self.notes), "history": [t.to_json() for t in self.history],
            "evidence": [e.to_json() for e in self.evidence], "event_ids": list(self.event_ids),
            "count": self.count, "created_utc": self.created_utc.isoformat(),
            "updated_utc": self.updated_utc.isoformat(), "version": self.version,
            "track_path": [list(pt) for pt in self.track_path], "node": self.node, "cooldown_s": self.cooldown_s,
        }  # fmt: skip

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Alert:
        p = d.get("position")
        return cls(
            id=int(d["id"]), kind=str(d["kind"]), severity=str(d["severity"]), feed=str(d["feed"]),
            t_start_utc=datetime.fromisoformat(d["t_start_utc"]), t_end_utc=datetime.fromisoformat(d["t_end_utc"]),
            track_ids=tuple(int(t) for t in d.get("track_ids", ())),
            position=None if p is None else Position(float(p["lat_deg"]), float(p["lon_deg"]), float(p["accuracy_m"])),
            zone=d.get("zone"), summary=str(d.get("summary", "")), details=dict(d.get("details") or {}),
            state=AlertState(d["state"]), notes=tuple(str(n) for n in d.get("notes", ())),
            history=tuple(Transition.from_json(t) for t in d.get("history", ())),
            evidence=tuple(EvidenceRef.from_json(e) for e in d.get("evidence", ())),
            event_ids=tuple(str(e) for e in d.get("event_ids", ())), count=int(d.get("count", 1)),
            created_utc=datetime.fromisoformat(d["created_utc"]), updated_utc=datetime.fromisoformat(d["updated_utc"]),
            version=int(d.get("version", 0)),
            track_path=tuple((float(a), float(b)) for a, b in d.get("track_path", ())),
            node=str(d.get("node", "")), cooldown_s=float(d.get("cooldown_s", 0.0)),
        )  # fmt: skip
