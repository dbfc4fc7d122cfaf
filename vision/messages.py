"""Typed messages on the bus (``vision.bus``): what leaves the vision pipeline.

Three kinds, each a frozen dataclass with ``to_json() -> dict`` and a wire form (``encode``/``decode``,
UTF-8 JSON, bytes as base64):

- ``EventMessage`` on ``<prefix>/events`` (QoS 1): a behaviour event with the capture pose of its
  frame, its ground position (``vision.geolocate.GroundFix``) and its snapshot (file + JPEG bytes).
  The JSON follows Frigate's ``frigate/events``: ``{"type": "new", "before": null, "after": {...}}``.
- ``EvidenceMessage`` on ``<prefix>/evidence`` (QoS 1): a finished evidence file (the clip) of an
  event, with its bytes when it must cross machines.
- ``DetectionsMessage`` on ``<prefix>/detections/<feed>`` (QoS 0): one analysed frame's objects, as
  ``lookout detect --json`` prints them.

``decode(topic, payload)`` picks the class by the payload's ``"message"`` field.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vision.behaviours.types import Event
from vision.errors import VisionError
from vision.types import CameraPose

if TYPE_CHECKING:
    from vision.evidence import EvidenceFile
    from vision.geolocate import GroundFix


class MessageError(VisionError):
    """A bus payload that is not a Lookout message (bad JSON, unknown kind, missing field)."""


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic layout under one prefix (``[bus] topic_prefix``, default ``lookout``)."""

    prefix: str = "lookout"

    @property
    def events(self) -> str:
        return f"{self.prefix}/events"

    @property
    def evidence(self) -> str:
        return f"{self.prefix}/evidence"

    def detections(self, feed: str = "+") -> str:
        """One feed's detections topic (``+``: the pattern for every feed)."""
        return f"{self.prefix}/detections/{_topic_safe(feed)}"

    def available(self, node: str = "+") -> str:
        """A node's availability topic: retained ``online``, ``offline`` (also the last will)."""
        return f"{self.prefix}/available/{_topic_safe(node)}"


def _topic_safe(name: str) -> str:
    """A feed or node name as one topic level (no ``/``, ``+``, ``#``; ``+`` itself stays a wildcard)."""
    if name in ("+", "#"):
        return name
    return "".join("_" if c in "/+#\0" else c for c in name) or "_"


# ---- JSON helpers --------------------------------------------------------------------------------
def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text.encode("ascii"), validate=True)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def pose_to_json(pose: CameraPose | None) -> dict[str, float] | None:
    if pose is None:
        return None
    return {f: getattr(pose, f) for f in CameraPose.__dataclass_fields__}


def pose_from_json(data: dict[str, Any] | None) -> CameraPose | None:
    return None if data is None else CameraPose(**{k: float(v) for k, v in data.items()})


def fix_to_json(fix: GroundFix | None) -> dict[str, float] | None:
    if fix is None:
        return None
    return {"lat_deg": fix.lat_deg, "lon_deg": fix.lon_deg, "accuracy_m": fix.accuracy_m}


def fix_from_json(data: dict[str, Any] | None) -> GroundFix | None:
    if data is None:
        return None
    from vision.geolocate import GroundFix

    return GroundFix(float(data["lat_deg"]), float(data["lon_deg"]), float(data["accuracy_m"]))


def evidence_to_json(ev: EvidenceFile | None) -> dict[str, Any] | None:
    if ev is None:
        return None
    return {
        "event_id": ev.event_id, "feed": ev.feed, "kind": ev.kind, "path": str(ev.path), "sha256": ev.sha256,
        "size_bytes": ev.size_bytes, "mime": ev.mime, "t_start_utc": ev.t_start_utc.isoformat(),
        "t_end_utc": ev.t_end_utc.isoformat(),
    }  # fmt: skip


def evidence_from_json(data: dict[str, Any] | None) -> EvidenceFile | None:
    if data is None:
        return None
    from vision.evidence import EvidenceFile

    return EvidenceFile(
        event_id=str(data["event_id"]), feed=str(data["feed"]), kind=data["kind"], path=Path(data["path"]),
        sha256=str(data["sha256"]), size_bytes=int(data["size_bytes"]), mime=str(data["mime"]),
        t_start_utc=_t(data["t_start_utc"]), t_end_utc=_t(data["t_end_utc"]),
    )  # fmt: skip


def event_from_json(data: dict[str, Any]) -> Event:
    """The inverse of ``Event.to_json`` (positions as rounded there)."""
    return Event(
        kind=str(data["kind"]), severity=data["severity"], feed=str(data["feed"]),
        t_start_utc=_t(data["t_start_utc"]), t_end_utc=_t(data["t_end_utc"]), frame_index=int(data["frame"]),
        track_ids=tuple(int(i) for i in data["track_ids"]), xy_px=(float(data["xy_px"][0]), float(data["xy_px"][1])),
        box_xyxy=tuple(float(v) for v in data["box_xyxy"]),  # type: ignore[arg-type]
        score=float(data["score"]), zone=data.get("zone"), summary=str(data.get("summary", "")),
        details=dict(data.get("details") or {}), id=str(data["id"]),
    )  # fmt: skip


# ---- messages ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EventMessage:
    """A behaviour event as it leaves the pipeline (``<prefix>/events``, QoS 1)."""

    event: Event
    pose: CameraPose | None = None  # the capture pose of the frame that fired it (drone feeds)
    position: GroundFix | None = None  # the main track's foot point on the ground
    snapshot: EvidenceFile | None = None  # the annotated snapshot, already on the node's disk
    snapshot_jpeg: bytes | None = field(default=None, repr=False)  # its bytes, when it must cross machines
    node: str = ""  # the vision node that saw it
    track_path: tuple[tuple[float, float], ...] = ()  # the main track's foot points on the ground: (lat, lon)

    KIND = "event"

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.KIND, "type": "new", "before": None, "after": self.event.to_json(),
            "pose": pose_to_json(self.pose), "position": fix_to_json(self.position),
            "snapshot": evidence_to_json(self.snapshot), "snapshot_jpeg": _b64(self.snapshot_jpeg), "node": self.node,
            "track_path": [[round(a, 7), round(b, 7)] for a, b in self.track_path],
        }  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventMessage:
        return cls(event_from_json(data["after"]), pose_from_json(data.get("pose")),
                   fix_from_json(data.get("position")), evidence_from_json(data.get("snapshot")),
                   _unb64(data.get("snapshot_jpeg")), str(data.get("node", "")),
                   tuple((float(a), float(b)) for a, b in data.get("track_path") or ()))  # fmt: skip


@dataclass(frozen=True, slots=True)
class EvidenceMessage:
    """A finished evidence file of an event (``<prefix>/evidence``, QoS 1); ``data`` over MQTT only."""

    evidence: EvidenceFile
    data: bytes | None = field(default=None, repr=False)
    node: str = ""

    KIND = "evidence"

    def to_json(self) -> dict[str, Any]:
        return {"message": self.KIND, "evidence": evidence_to_json(self.evidence), "data": _b64(self.data),
                "node": self.node}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvidenceMessage:
        ev = evidence_from_json(data["evidence"])
        if ev is None:
            raise ValueError("evidence message without 'evidence'")
        return cls(ev, _unb64(data.get("data")), str(data.get("node", "")))


@dataclass(frozen=True, slots=True)
class DetectionsMessage:
    """One analysed frame's objects (``<prefix>/detections/<feed>``, QoS 0).

    ``objects`` are the ``lookout detect --json`` object dicts (class, confidence, xyxy, tracker_id,
    keypoints, zone). ``latency_ms`` is the time the frame took to analyse (detect's human line).
    """

    feed: str
    frame_index: int
    capture_t_utc: datetime
    objects: tuple[dict[str, Any], ...]
    pose: CameraPose | None = None
    node: str = ""
    latency_ms: float = 0.0

    KIND = "detections"

    def to_json(self) -> dict[str, Any]:
        """The wire form; ``detection_line()`` is ``lookout detect --json``'s line."""
        return {**self.detection_line(), "message": self.KIND, "pose": pose_to_json(self.pose), "node": self.node,
                "latency_ms": round(self.latency_ms, 2)}  # fmt: skip

    def detection_line(self) -> dict[str, Any]:
        return {"type": "detection", "feed": self.feed, "frame": self.frame_index,
                "capture_t_utc": self.capture_t_utc.isoformat(), "objects": list(self.objects)}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DetectionsMessage:
        return cls(str(data["feed"]), int(data["frame"]), _t(data["capture_t_utc"]), tuple(data["objects"]),
                   pose_from_json(data.get("pose")), str(data.get("node", "")),
                   float(data.get("latency_ms", 0.0)))  # fmt: skip


Message = EventMessage | EvidenceMessage | DetectionsMessage

_KINDS: dict[str, Any] = {EventMessage.KIND: EventMessage, EvidenceMessage.KIND: EvidenceMessage,
                          DetectionsMessage.KIND: DetectionsMessage}  # fmt: skip


def encode(message: Message) -> bytes:
    """The wire form: UTF-8 JSON of ``message.to_json()``."""
    return json.dumps(message.to_json(), separators=(",", ":")).encode()


def decode(topic: str, payload: bytes) -> Message:
    """A message from its wire form; raises ``MessageError`` (one line naming the topic) if it is not one."""
    try:
        data = json.loads(payload)
        cls = _KINDS.get(data.get("message")) if isinstance(data, dict) else None
        if cls is None:
            kinds = ", ".join(_KINDS)
            raise MessageError(f"bus topic {topic}: not a Lookout message (its 'message' field is not {kinds})")
        return cls.from_json(data)
    except MessageError:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise MessageError(f"bus topic {topic}: malformed message ({type(exc).__name__}: {exc})") from None


__all__ = ["DetectionsMessage", "EventMessage", "EvidenceMessage", "Message", "MessageError", "Topics", "decode",
           "encode", "event_from_json"]  # fmt: skip
