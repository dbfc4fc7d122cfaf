"""CAP 1.2 sink: each message as an OASIS Common Alerting Protocol 1.2 document, POSTed and/or written.

- ``identifier`` is the outbox message id (stable across retries); ``sender`` is ``[dispatch] node``.
- The first message of an alert is ``msgType`` Alert; later ones are Update, and the end (closed,
  dismissed) is Cancel; each later one lists every earlier message of the alert in ``references``
  (``sender,identifier,sent``, space-separated). A ``send-test`` message has ``status`` Test.
- ``info``: category Security, the alert kind as ``event``, severity high/medium/low as
  Severe/Moderate/Minor, certainty Observed once confirmed (else Likely), the response class,
  deadline and unit as ``parameter`` entries, one ``resource`` per evidence file (mime type, size,
  link when ``evidence_base_url`` is set, SHA-1 ``digest`` computed from the file as CAP specifies).
- ``area``: a ``circle`` "lat,lon radius_km" from the position and its accuracy, or the zone's
  ``polygon`` when a geographic one is known, else only ``areaDesc``.
- ``url``: POSTed as ``application/cap+xml`` (signed like the webhook when a secret is set);
  ``dir``: one ``<identifier>.xml`` file per message (temp file + rename, so never half-written).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.config import SinkConfig
from dispatch.errors import DeliveryError
from dispatch.outbox import OutboxMessage
from dispatch.sinks.base import evidence_file

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
_SEVERITY = {"high": "Severe", "medium": "Moderate", "low": "Minor"}
_MSG_TYPE = {"new": "Alert", "update": "Update", "end": "Cancel", "test": "Alert", "unit": "Update"}


def cap_time(iso: str | datetime) -> str:
    """CAP's date-time: seconds, numeric zone, UTC written -00:00 (no 'Z', no fractions)."""
    dt = iso if isinstance(iso, datetime) else datetime.fromisoformat(iso)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def _sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        el.text = str(text)
    return el


def _param(info: ET.Element, name: str, value: Any) -> None:
    if value is None:
        return
    p = _sub(info, "parameter")
    _sub(p, "valueName", name)
    _sub(p, "value", value)


def cap_document(
    payload: Mapping[str, Any],
    *,
    sender: str,
    data_dir: Path | None = None,
    scope: str = "Restricted",
    restriction: str = "police dispatch only",
    evidence_base_url: str | None = None,
    zone_polygons: Mapping[str, Sequence[tuple[float, float]]] | None = None,
) -> bytes:
    """One CAP 1.2 ``<alert>`` (UTF-8 XML bytes) for an outbox message payload."""
    kind = str(payload.get("type", "new"))
    after: dict[str, Any] = dict(payload.get("after") or {})
    ET.register_namespace("", CAP_NS)
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", payload["id"])
    _sub(root, "sender", sender)
    _sub(root, "sent", cap_time(payload["created_utc"]))
    _sub(root, "status", "Test" if kind == "test" else "Actual")
    _sub(root, "msgType", _MSG_TYPE.get(kind, "Update"))
    _sub(root, "source", "Lookout")
    _sub(root, "scope", scope)
    if scope == "Restricted":
        _sub(root, "restriction", restriction)
    state = after.get("state")
    if kind == "test":
        _sub(root, "note", "Test message from Lookout (lookout alerts send-test); no action needed")
    elif state:
        _sub(root, "note", f"alert {after.get('id')} is {state}")
    refs = payload.get("references") or []
    if refs and kind != "test":
        _sub(root, "references", " ".join(f"{sender},{r['msg_id']},{cap_time(r['created_utc'])}" for r in refs))
    if after.get("id") is not None:
        _sub(root, "incidents", f"{sender}-alert-{after['id']}")

    info = _sub(root, "info")
    _sub(info, "language", "en-US")
    _sub(info, "category", "Security")
    _sub(info, "event", after.get("kind") or "test")
    _sub(info, "responseType", "Monitor" if kind == "test" else ("AllClear" if kind == "end" else "Assess"))
    _sub(info, "urgency", "Past" if kind == "end" else "Immediate")
    _sub(info, "severity", _SEVERITY.get(str(after.get("severity")), "Unknown"))
    _sub(info, "certainty", "Observed" if state in ("confirmed", "closed") else "Likely")
    code = _sub(info, "eventCode")
    _sub(code, "valueName", "lookout:kind")
    _sub(code, "value", after.get("kind") or "test")
    if after.get("t_start_utc"):
        _sub(info, "onset", cap_time(after["t_start_utc"]))
    _sub(info, "senderName", f"Lookout ({sender})")
    _sub(info, "headline", (after.get("summary") or f"{after.get('kind', 'alert')} alert")[:160])
    desc = [after.get("summary") or ""]
    if after.get("feed"):
        desc.append(f"feed {after['feed']}" + (f", zone {after['zone']}" if after.get("zone") else ""))
    _sub(info, "description", "; ".join(d for d in desc if d))
    _param(info, "lookout:alert_id", after.get("id"))
    _param(info, "lookout:state", state)
    _param(info, "lookout:count", after.get("count"))
    resp = after.get("response") or {}
    for key in ("area", "target_min", "deadline_utc", "unit", "callsign", "dispatched_utc", "on_scene_utc"):
        _param(info, f"lookout:response_{key}", resp.get(key))
    for ref in after.get("evidence") or ():
        if ref.get("removed"):
            continue
        res = _sub(info, "resource")
        _sub(res, "resourceDesc", f"{ref.get('kind', 'evidence')} {Path(str(ref.get('path', ''))).name}")
        _sub(res, "mimeType", ref.get("mime") or "application/octet-stream")
        _sub(res, "size", int(ref.get("size_bytes", 0)))
        if evidence_base_url:
            _sub(res, "uri", f"{evidence_base_url.rstrip('/')}/{ref['path']}")
        path = evidence_file(data_dir, ref) if data_dir is not None else None
        if path is not None:
            _sub(res, "digest", hashlib.sha1(path.read_bytes()).hexdigest())  # CAP 1.2: SHA-1

    area = _sub(info, "area")
    _sub(area, "areaDesc", after.get("zone") or after.get("feed") or "Lookout test area")
    pos = after.get("position")
    poly = (zone_polygons or {}).get(str(after.get("zone")))
    if poly and len(poly) >= 3:
        ring = [*poly, poly[0]] if tuple(poly[0]) != tuple(poly[-1]) else list(poly)
        _sub(area, "polygon", " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in ring))
    elif pos:
        radius_km = max(math.ceil(float(pos.get("accuracy_m") or 0.0)), 1) / 1000.0  # whole metres, rounded up
        _sub(area, "circle", f"{pos['lat_deg']:.6f},{pos['lon_deg']:.6f} {radius_km:.3f}")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class CapSink:
    """Writes/POSTs CAP 1.2 documents."""

    def __init__(self, name: str, cfg: SinkConfig, data_dir: Path, *, sender: str = "lookout",
                 zone_polygons: Mapping[str, Sequence[tuple[float, float]]] | None = None) -> None:  # fmt: skip
        self.name = name
        self.cfg = cfg
        self.data_dir = Path(data_dir)
        self.sender = sender
        self.zone_polygons = dict(zone_polygons or {})
        self.dir = None if cfg.dir is None else Path(cfg.dir).expanduser()
        self._http = None
        if cfg.url is not None:
            from dispatch.sinks.webhook import WebhookSink

            self._http = WebhookSink(name, cfg, data_dir)

    def document(self, msg: OutboxMessage) -> bytes:
        cfg = self.cfg
        scope, restriction = cfg.cap_scope or "Restricted", cfg.cap_restriction or "police dispatch only"
        return cap_document(msg.payload, sender=self.sender, data_dir=self.data_dir, scope=scope,
                            restriction=restriction, evidence_base_url=cfg.evidence_base_url,
                            zone_polygons=self.zone_polygons)  # fmt: skip

    def deliver(self, msg: OutboxMessage) -> None:
        doc = self.document(msg)
        if self.dir is not None:
            self._write(msg.msg_id, doc)
        if self._http is not None:
            self._http.post(msg.msg_id, doc, content_type="application/cap+xml")

    def _write(self, msg_id: str, doc: bytes) -> None:
        if self.dir is None:
            return
        tmp: str | None = None
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".cap-", suffix=".tmp", dir=self.dir)
            with os.fdopen(fd, "wb") as f:
                f.write(doc)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.dir / f"{msg_id}.xml")
        except OSError as exc:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)
            raise DeliveryError(f"sink {self.name}: cannot write CAP file in {self.dir} ({exc.strerror or exc}); "
                                "check the directory and free space", sink_down=True) from None  # fmt: skip

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
