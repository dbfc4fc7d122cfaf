"""The response clock of each confirmed alert: confirmed -> dispatched -> on scene -> closed.

One ``responses`` row per alert, started when the alert is confirmed (class and deadline from its
position at that moment) and stamped at each step. ``record_change`` runs inside the alert store's
transaction (through ``DispatchDesk.on_change``); dispatch and on-scene steps are written by
``DispatchDesk`` in its own transaction together with the outbox update they cause.

``clock_status(record, now)`` gives the running clock for the console: elapsed, remaining,
and ``green`` / ``amber`` (past ``amber_at`` of the target) / ``red`` (deadline passed) until the
unit is on scene, then frozen at the on-scene time.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.response import ResponseAreas, ResponseClass

_COLS = "alert_id, area, target_min, lat_deg, lon_deg, confirmed_t, unit, dispatched_t, on_scene_t, on_scene_by, " \
        "closed_t, end_state"  # fmt: skip


def _dt(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    alert_id: int
    area: str
    target_min: int
    lat_deg: float | None
    lon_deg: float | None
    confirmed_utc: datetime
    unit: str | None
    dispatched_utc: datetime | None
    on_scene_utc: datetime | None
    on_scene_by: str | None
    closed_utc: datetime | None
    end_state: str | None

    @property
    def deadline_utc(self) -> datetime:
        return self.confirmed_utc + timedelta(minutes=self.target_min)

    @property
    def time_to_scene_s(self) -> float | None:
        return None if self.on_scene_utc is None else (self.on_scene_utc - self.confirmed_utc).total_seconds()

    def to_json(self) -> dict[str, Any]:
        iso = lambda d: None if d is None else d.isoformat()  # noqa: E731
        return {
            "area": self.area, "target_min": self.target_min, "confirmed_utc": iso(self.confirmed_utc),
            "deadline_utc": iso(self.deadline_utc), "unit": self.unit, "dispatched_utc": iso(self.dispatched_utc),
            "on_scene_utc": iso(self.on_scene_utc), "on_scene_by": self.on_scene_by,
            "closed_utc": iso(self.closed_utc), "time_to_scene_s": self.time_to_scene_s,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClockStatus:
    phase: str  # confirmed | dispatched | on_scene | closed
    elapsed_s: float
    remaining_s: float  # negative once late
    color: str  # green | amber | red


def _row(r: tuple[Any, ...]) -> ResponseRecord:
    return ResponseRecord(r[0], r[1], r[2], r[3], r[4], datetime.fromtimestamp(r[5], UTC), r[6], _dt(r[7]),
                          _dt(r[8]), r[9], _dt(r[10]), r[11])  # fmt: skip


def load_record(conn: sqlite3.Connection, alert_id: int) -> ResponseRecord | None:
    r = conn.execute(f"SELECT {_COLS} FROM responses WHERE alert_id = ?", (alert_id,)).fetchone()
    return None if r is None else _row(r)


def load_records(conn: sqlite3.Connection, since_t: float = 0.0) -> list[ResponseRecord]:
    rows = conn.execute(f"SELECT {_COLS} FROM responses WHERE confirmed_t >= ? ORDER BY alert_id", (since_t,))
    return [_row(r) for r in rows]


def record_change(conn: sqlite3.Connection, after: Any, before: Any | None, areas: ResponseAreas) -> str | None:
    """Start or end the clock for a store change (in the store's transaction). Returns the freed unit, if any."""
    state = str(after.state)
    if state == "confirmed" and (before is None or str(before.state) != "confirmed"):
        pos = after.position
        cls: ResponseClass = areas.classify(None if pos is None else pos.lat_deg, None if pos is None else pos.lon_deg)
        conn.execute(
            "INSERT OR IGNORE INTO responses (alert_id, area, target_min, lat_deg, lon_deg, confirmed_t) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (after.id, cls.area, cls.target_min, None if pos is None else pos.lat_deg,
             None if pos is None else pos.lon_deg, time.time()),
        )  # fmt: skip
        return None
    if state in ("closed", "dismissed") and (before is None or str(before.state) != state):
        rec = load_record(conn, after.id)
        if rec is None or rec.closed_utc is not None:
            return None
        conn.execute("UPDATE responses SET closed_t = ?, end_state = ? WHERE alert_id = ?",
                     (time.time(), state, after.id))  # fmt: skip
        return rec.unit
    if pos := after.position:  # a newer position of a confirmed alert moves the target (not the class)
        conn.execute("UPDATE responses SET lat_deg = ?, lon_deg = ? WHERE alert_id = ? AND closed_t IS NULL",
                     (pos.lat_deg, pos.lon_deg, after.id))  # fmt: skip
    return None


def clock_status(rec: ResponseRecord, now: datetime | None = None, *, amber_at: float = 0.7) -> ClockStatus:
    now = now or datetime.now(UTC)
    if rec.closed_utc is not None and rec.on_scene_utc is None:
        end, phase = rec.closed_utc, "closed"
    elif rec.on_scene_utc is not None:
        end, phase = rec.on_scene_utc, "on_scene" if rec.closed_utc is None else "closed"
    else:
        end, phase = now, "dispatched" if rec.dispatched_utc is not None else "confirmed"
    elapsed = (end - rec.confirmed_utc).total_seconds()
    target = rec.target_min * 60.0
    color = "red" if elapsed > target else ("amber" if elapsed >= amber_at * target else "green")
    return ClockStatus(phase, elapsed, target - elapsed, color)
