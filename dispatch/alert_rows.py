"""An ``Alert`` and its row in the ``alerts`` table (``dispatch.migrations``): the column list, the
row -> ``Alert`` conversion and the values an INSERT or UPDATE writes (times as ISO 8601 UTC, lists
and mappings as compact JSON, the evidence bytes still on disk as ``evidence_bytes``).

Used by ``dispatch.store.AlertStore`` only.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from dispatch.types import Alert, AlertState, EvidenceRef, Position, Transition

COLUMNS = (
    "id, kind, severity, feed, t_start_utc, t_end_utc, track_ids, lat_deg, lon_deg, accuracy_m, zone, summary, "
    "details, state, notes, history, evidence, event_ids, count, created_utc, updated_utc, version, track_path, "
    "node, cooldown_s"
)


def iso_utc(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def row_to_alert(r: sqlite3.Row | tuple[Any, ...]) -> Alert:
    pos = None if r[7] is None else Position(r[7], r[8], r[9])
    return Alert(
        id=r[0], kind=r[1], severity=r[2], feed=r[3], t_start_utc=datetime.fromisoformat(r[4]),
        t_end_utc=datetime.fromisoformat(r[5]), track_ids=tuple(json.loads(r[6])), position=pos, zone=r[10],
        summary=r[11], details=json.loads(r[12]), state=AlertState(r[13]), notes=tuple(json.loads(r[14])),
        history=tuple(Transition.from_json(t) for t in json.loads(r[15])),
        evidence=tuple(EvidenceRef.from_json(e) for e in json.loads(r[16])), event_ids=tuple(json.loads(r[17])),
        count=r[18], created_utc=datetime.fromisoformat(r[19]), updated_utc=datetime.fromisoformat(r[20]),
        version=r[21], track_path=tuple((a, b) for a, b in json.loads(r[22])), node=r[23], cooldown_s=r[24],
    )  # fmt: skip


def alert_values(a: Alert) -> tuple[Any, ...]:
    p = a.position
    return (
        a.kind, a.severity, a.feed, iso_utc(a.t_start_utc), iso_utc(a.t_end_utc), _j(list(a.track_ids)),
        None if p is None else p.lat_deg, None if p is None else p.lon_deg, None if p is None else p.accuracy_m,
        a.zone, a.summary, _j(a.details), str(a.state), _j(list(a.notes)), _j([t.to_json() for t in a.history]),
        _j([e.to_json() for e in a.evidence]), _j(list(a.event_ids)), a.count, iso_utc(a.created_utc),
        iso_utc(a.updated_utc),
        a.version, _j([list(pt) for pt in a.track_path]), a.node, a.cooldown_s,
        sum(e.size_bytes for e in a.evidence if not e.removed),
    )  # fmt: skip


SET_SQL = ", ".join(f"{c.strip()} = ?" for c in COLUMNS.split(",")[1:]) + ", evidence_bytes = ?"
INSERT_SQL = f"INSERT INTO alerts ({COLUMNS.split(',', 1)[1]}, evidence_bytes) VALUES ({', '.join('?' * 25)})"
