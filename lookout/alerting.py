"""The alert store's bus subscriber: behaviour events in, stored alerts (with evidence) out.

    ingest = AlertIngest.open(data_dir, cfg, audit=audit.append, bus=bus)   # subscribes to events + evidence
    ...
    ingest.close()                                                          # unsubscribes, closes the store

- ``EventMessage`` -> ``dispatch.types.AlertInput`` -> ``AlertStore.ingest`` (a new alert, or the open alert
  of the same rule and track within the cooldown, updated). Its snapshot becomes the alert's first
  ``EvidenceRef``.
- ``EvidenceMessage`` (a finished clip) -> ``AlertStore.attach_evidence``. Evidence that arrives before its
  event (possible across machines) waits, bounded, until the event is stored.

Evidence files: a file that is already under this data dir with the announced SHA-256 (same machine) is
referenced where it is. Otherwise the message's bytes (an MQTT node sends them) are checked against the
announced SHA-256 and size and written to ``<data>/evidence/<YYYY-MM-DD>/<event_id>/<name>`` (temp file,
fsync, rename). Bytes that do not match are refused (logged, counted) and nothing is attached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch.store import AlertStore
from dispatch.types import Alert, AlertInput, EvidenceRef, Position
from vision.messages import EventMessage, EvidenceMessage, Topics, pose_to_json

log = logging.getLogger(__name__)

_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
PENDING_MAX = 256  # evidence of events not stored yet, kept at most


@dataclass
class IngestStats:
    events: int = 0
    alerts_new: int = 0
    alerts_updated: int = 0
    evidence_attached: int = 0
    evidence_copied: int = 0  # written here from a message's bytes
    evidence_refused: int = 0  # hash or size mismatch, unsafe name, or not here and no bytes
    errors: int = 0  # store failures (the message is logged; the bus counts the handler error too)


def _safe(name: str) -> str:
    return _SAFE.sub("_", name)[:120] or "_"


def _day_of(ev: Any) -> str:
    """The node's ``<YYYY-MM-DD>`` folder of ``ev`` (so a snapshot and its clip share a folder), else the
    date of its end time."""
    day = Path(ev.path).parent.parent.name
    return day if _DAY.fullmatch(day) else ev.t_end_utc.strftime("%Y-%m-%d")


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def alert_input(msg: EventMessage, cooldown_s: float, snapshot: EvidenceRef | None = None) -> AlertInput:
    """The store's input for one event message (``details`` keep the rule's details plus where in the image,
    the score, the frame and the capture pose)."""
    ev = msg.event
    pos = msg.position
    details = {
        **ev.details, "frame": ev.frame_index, "xy_px": [round(ev.xy_px[0], 1), round(ev.xy_px[1], 1)],
        "box_xyxy": [round(v, 1) for v in ev.box_xyxy], "score": round(ev.score, 3), "pose": pose_to_json(msg.pose),
    }  # fmt: skip
    return AlertInput(
        event_id=ev.id, kind=ev.kind, severity=ev.severity, feed=ev.feed, t_start_utc=ev.t_start_utc,
        t_end_utc=ev.t_end_utc, track_ids=tuple(ev.track_ids),
        position=None if pos is None else Position(pos.lat_deg, pos.lon_deg, pos.accuracy_m), zone=ev.zone,
        summary=ev.summary, details=details, cooldown_s=cooldown_s, snapshot=snapshot,
        track_path=tuple(msg.track_path), node=msg.node,
    )  # fmt: skip


class AlertIngest:
    """Subscribes an ``AlertStore`` to the bus (events and evidence topics)."""

    def __init__(self, store: AlertStore, data_dir: Path, *, cooldown_s: float = 30.0,
                 topics: Topics | None = None, on_alert: Callable[[Alert], None] | None = None,
                 own_store: bool = False) -> None:  # fmt: skip
        self.store, self.data_dir = store, Path(data_dir)
        self.cooldown_s = cooldown_s
        self.topics = topics or Topics()
        self.on_alert = on_alert
        self.stats = IngestStats()
        self._own_store = own_store
        self._pending: OrderedDict[str, list[EvidenceRef]] = OrderedDict()  # event id -> refs waiting for it
        self._lock = threading.Lock()
        self._subs: list[Any] = []

    @classmethod
    def open(cls, data_dir: Path, cfg: Any, *, audit: Callable[..., Any] | None = None, bus: Any = None,
             topics: Topics | None = None, on_change: Any = None) -> AlertIngest:  # fmt: skip
        """The data dir's ``alerts.sqlite`` or ``[storage] alerts_url`` (``evidence_max_gb`` caps evidence),
        subscribed to ``bus``. Half-written evidence files older than 10 minutes (a writer killed mid-file)
        are removed first (``vision.evidence.sweep_partials``)."""
        from dispatch.backends import alerts_target
        from vision.evidence import sweep_partials

        sweep_partials(Path(data_dir) / "evidence")  # what a killed writer left half-written
        max_bytes = int(cfg.storage.evidence_max_gb * 1e9)
        target = alerts_target(getattr(cfg.storage, "alerts_url", None), Path(data_dir))
        store = AlertStore(target, audit=audit, on_change=on_change, evidence_max_bytes=max_bytes,
                           data_dir=Path(data_dir))  # fmt: skip
        ingest = cls(store, data_dir, cooldown_s=cfg.rules.cooldown_s, topics=topics or Topics(cfg.bus.topic_prefix),
                     own_store=True)  # fmt: skip
        if bus is not None:
            ingest.attach(bus)
        return ingest

    def attach(self, bus: Any) -> AlertIngest:
        self._subs += [bus.subscribe(self.topics.events, self.on_message),
                       bus.subscribe(self.topics.evidence, self.on_message)]  # fmt: skip
        return self

    def close(self) -> None:
        for sub in self._subs:
            sub.unsubscribe()
        self._subs.clear()
        if self._own_store:
            self.store.close_db()

    def summary(self) -> str:
        s = self.stats
        text = (f"{s.events} event(s) -> {s.alerts_new} new alert(s), {s.alerts_updated} update(s); "
                f"{s.evidence_attached} evidence file(s) attached")  # fmt: skip
        if s.evidence_refused or s.errors:
            text += f"; {s.evidence_refused} evidence file(s) refused, {s.errors} store error(s) (see the log)"
        return text + f"; store {self.store.path}"

    # ---- bus handlers (called on the bus's delivery thread)
    def on_message(self, topic: str, message: Any) -> None:
        if isinstance(message, EventMessage):
            self.on_event(message)
        elif isinstance(message, EvidenceMessage):
            self.on_evidence(message)

    def on_event(self, msg: EventMessage) -> Alert:
        snapshot = None
        if msg.snapshot is not None:
            snapshot = self._ref(msg.snapshot, msg.snapshot_jpeg, msg.node)
        try:
            redelivered = self.store.find_by_event(msg.event.id) is not None  # QoS 1: at least once
            alert = self.store.ingest(alert_input(msg, self.cooldown_s, snapshot))
        except Exception:
            self.stats.errors += 1
            raise
        with self._lock:
            self.stats.events += 1
            if not redelivered:
                if alert.count <= 1:
                    self.stats.alerts_new += 1
                else:
                    self.stats.alerts_updated += 1
            waiting = self._pending.pop(msg.event.id, [])
        if snapshot is not None and snapshot not in alert.evidence:  # merged into an older alert: keep it too
            alert = self.store.attach_evidence(msg.event.id, snapshot) or alert
        if snapshot is not None:
            self.stats.evidence_attached += 1
        for ref in waiting:
            alert = self.store.attach_evidence(msg.event.id, ref) or alert
            self.stats.evidence_attached += 1
        if self.on_alert is not None:
            self.on_alert(alert)
        return alert

    def on_evidence(self, msg: EvidenceMessage) -> Alert | None:
        ref = self._ref(msg.evidence, msg.data, msg.node)
        if ref is None:
            return None
        event_id = msg.evidence.event_id
        try:
            alert = self.store.attach_evidence(event_id, ref)
        except Exception:
            self.stats.errors += 1
            raise
        if alert is None:  # its event is not stored (yet): keep the ref until it is
            with self._lock:
                self._pending.setdefault(event_id, []).append(ref)
                while len(self._pending) > PENDING_MAX:
                    dropped, refs = self._pending.popitem(last=False)
                    log.warning("evidence of event %s never met its event; %d file(s) not attached", dropped,
                                len(refs))  # fmt: skip
            return None
        self.stats.evidence_attached += 1
        if self.on_alert is not None:
            self.on_alert(alert)
        return alert

    # ---- evidence files
    def _ref(self, ev: Any, data: bytes | None, node: str) -> EvidenceRef | None:
        """An ``EvidenceRef`` (path relative to the data dir) for ``ev``, copying ``data`` in when the file
        is not ours; None (logged, counted) when it cannot be had or does not match its hash."""
        own = self._own_file(ev)
        if own is not None:
            return EvidenceRef(ev.kind, own, ev.sha256, ev.size_bytes, ev.mime)
        where = f"evidence {ev.kind} of event {ev.event_id} from node {node or '?'}"
        if data is None:
            self._refuse(f"{where}: {ev.path} is not on this machine and the message carries no bytes "
                         "(use an MQTT bus, whose nodes send them)")  # fmt: skip
            return None
        digest = hashlib.sha256(data).hexdigest()
        if digest != ev.sha256 or len(data) != ev.size_bytes:
            self._refuse(f"{where}: bytes do not match (sha256 {digest[:12]}.. vs {ev.sha256[:12]}.., "
                         f"{len(data)} vs {ev.size_bytes} bytes); not stored")  # fmt: skip
            return None
        rel = Path("evidence") / _day_of(ev) / _safe(ev.event_id) / _safe(ev.path.name)
        target = self.data_dir / rel
        try:
            if not (target.is_file() and _sha256_file(target) == digest):
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.partial")
                with open(tmp, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
                self.stats.evidence_copied += 1
        except OSError as exc:
            target.with_name(f".{target.name}.partial").unlink(missing_ok=True)
            self._refuse(f"{where}: cannot write {target} ({exc}); free disk space or check permissions")
            return None
        return EvidenceRef(ev.kind, rel.as_posix(), digest, len(data), ev.mime)

    def _own_file(self, ev: Any) -> str | None:
        """``ev.path`` relative to the data dir when it is a file there with the announced hash."""
        try:
            path = Path(ev.path).resolve()
            rel = path.relative_to(self.data_dir.resolve())
        except (ValueError, OSError):
            return None
        try:
            if path.is_file() and path.stat().st_size == ev.size_bytes and _sha256_file(path) == ev.sha256:
                return rel.as_posix()
        except OSError:
            return None
        return None

    def _refuse(self, line: str) -> None:
        self.stats.evidence_refused += 1
        log.error("%s", line)


__all__ = ["AlertIngest", "IngestStats", "alert_input"]
