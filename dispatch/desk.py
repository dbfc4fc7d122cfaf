"""``DispatchDesk``: the outbox, the response clock and the unit board over one ``alerts.sqlite``.

Wiring (the composition root does this once per process)::

    desk = DispatchDesk(data_dir / "alerts.sqlite", cfg.dispatch, cfg.units, cfg.response_areas, data_dir=data_dir)
    store = AlertStore(data_dir / "alerts.sqlite", audit=audit.append, on_change=desk.on_change)
    desk.start_sender()            # delivery threads (one per sink); desk.close() stops them

``on_change`` runs in the store's transaction: the response clock starts (confirm) or stops (close,
dismiss: the unit is freed), then the outbox writes this change's messages. ``dispatch``,
``on_scene`` and ``set_position`` are the desk's own transactions; each writes its outbox update
(and, for MQTT sinks, the unit's retained status) in the same transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch import db
from dispatch.clock import ClockStatus, ResponseRecord, clock_status, load_record, load_records, record_change
from dispatch.config import DispatchConfig, ResponseAreaConfig, UnitConfig
from dispatch.errors import ResponseError, UnitError
from dispatch.outbox import Outbox, connect
from dispatch.response import Recommendation, ResponseAreas, ResponseClass, distance_m, recommend
from dispatch.units import Unit, check_position, get_unit, load_units, store_unit

log = logging.getLogger(__name__)

AuditFn = Callable[..., Any]


class DispatchDesk:
    def __init__(
        self,
        db_path: Path | str,
        cfg: DispatchConfig,
        units: Mapping[str, UnitConfig],
        areas: Mapping[str, ResponseAreaConfig],
        *,
        data_dir: Path | None = None,
        audit: AuditFn | None = None,
    ) -> None:
        self.path = db.target_of(db_path)  # alerts.sqlite, or a postgresql:// URL (then data_dir is required)
        self.cfg = cfg
        self.unit_cfg = dict(units)
        self.areas = ResponseAreas(areas)
        if data_dir is None and not isinstance(self.path, Path):
            raise ValueError("DispatchDesk on PostgreSQL needs data_dir (evidence files live there)")
        self.data_dir = Path(data_dir) if data_dir is not None else Path(self.path).parent
        self._audit = audit
        self.outbox = Outbox(self.path, cfg.all_sinks(), node=cfg.node, response_section=self._response_section)
        self.sender: Any = None
        self._lock = threading.RLock()
        self._conn: Any = None

    # ---- the store hook ------------------------------------------------------------------------
    def on_change(self, conn: sqlite3.Connection, after: Any, before: Any | None) -> None:
        freed = record_change(conn, after, before, self.areas)
        if freed is not None and freed in self.unit_cfg:
            u = get_unit(conn, self.unit_cfg, freed)
            if u.alert_id == after.id:
                u = replace(u, status="available", alert_id=None)
                self._save_unit(conn, u)
        self.outbox.on_change(conn, after, before)

    def _save_unit(self, conn: sqlite3.Connection, u: Unit) -> None:
        """Store ``u`` and queue its status for the sinks, in the caller's transaction."""
        store_unit(conn, u)
        self.outbox.enqueue_unit_status(conn, u.name, u.status_json())

    def _response_changed(self, conn: sqlite3.Connection, alert_id: int) -> ResponseRecord | None:
        """Forward the alert's response section as an update; its record as it is now."""
        self.outbox.enqueue_update(conn, alert_id, {"response": self._response_section(conn, alert_id)})
        return load_record(conn, alert_id)

    def _response_section(self, conn: sqlite3.Connection, alert_id: int) -> dict[str, Any] | None:
        rec = load_record(conn, alert_id)
        if rec is None:
            return None
        out = rec.to_json()
        if rec.unit and rec.unit in self.unit_cfg:
            out["callsign"] = self.unit_cfg[rec.unit].callsign
        return out

    # ---- sender --------------------------------------------------------------------------------
    def start_sender(self, **kw: Any) -> Any:
        """Start delivery threads for every enabled sink (``SinkConfigError`` for a bad secret: one line)."""
        from dispatch.sender import OutboxSender
        from dispatch.sinks import build_sinks

        sinks = build_sinks(self.outbox.sinks, self.data_dir, sender=self.cfg.node,
                            zone_polygons=self.areas.polygons())  # fmt: skip
        self.sender = OutboxSender(self.path, sinks, self.outbox.sinks, **kw).start()
        self.outbox.on_written = self.sender.wake
        return self.sender

    def close(self) -> None:
        if self.sender is not None:
            self.sender.stop()
            self.sender = None
        self.outbox.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> DispatchDesk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- own transactions ----------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                self._conn = connect(self.path)
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _read(self) -> sqlite3.Connection:
        with self._lock:
            if self._conn is None:
                self._conn = connect(self.path)
            return self._conn

    # ---- queries -------------------------------------------------------------------------------
    def units(self) -> list[Unit]:
        with self._lock:
            return list(load_units(self._read(), self.unit_cfg).values())

    def record(self, alert_id: int) -> ResponseRecord | None:
        with self._lock:
            return load_record(self._read(), alert_id)

    def records(self, since: datetime | None = None) -> list[ResponseRecord]:
        with self._lock:
            return load_records(self._read(), 0.0 if since is None else since.timestamp())

    def clock(self, alert_id: int, now: datetime | None = None) -> ClockStatus | None:
        rec = self.record(alert_id)
        return None if rec is None else clock_status(rec, now, amber_at=self.cfg.amber_at)

    def classify(self, alert: Any) -> ResponseClass:
        p = alert.position
        return self.areas.classify(None if p is None else p.lat_deg, None if p is None else p.lon_deg)

    def recommend(self, alert: Any, now: datetime | None = None) -> Recommendation:
        """Available units ranked by ETA to the alert, against its deadline. ``ResponseError`` without position."""
        if alert.position is None:
            raise ResponseError(f"alert {alert.id} has no position; pick a unit by hand (--unit NAME)")
        rec = self.record(alert.id)
        if rec is not None:
            remaining = clock_status(rec, now, amber_at=self.cfg.amber_at).remaining_s
        else:
            remaining = self.classify(alert).target_s
        return recommend(self.units(), alert.position.lat_deg, alert.position.lon_deg, remaining, self.cfg)

    # ---- actions -------------------------------------------------------------------------------
    def dispatch(self, alert_id: int, unit_name: str, actor: str = "lookout") -> ResponseRecord:
        """Assign an available unit to a confirmed alert; forwarded as an update of the alert."""
        with self._write() as conn:
            rec = load_record(conn, alert_id)
            if rec is None:
                raise ResponseError(f"alert {alert_id} is not confirmed (or unknown); confirm it before dispatching")
            if rec.closed_utc is not None:
                raise ResponseError(f"alert {alert_id} is {rec.end_state}; nothing to dispatch to")
            u = get_unit(conn, self.unit_cfg, unit_name)
            if u.status != "available":
                where = f" to alert {u.alert_id}" if u.alert_id is not None else ""
                raise UnitError(f"unit {unit_name} is {u.status.replace('_', ' ')}{where}; pick another unit")
            if rec.unit is not None and rec.unit != unit_name:
                prev = get_unit(conn, self.unit_cfg, rec.unit)  # re-dispatch: the first unit is freed
                if prev.alert_id == alert_id:
                    prev = replace(prev, status="available", alert_id=None)
                    self._save_unit(conn, prev)
            conn.execute("UPDATE responses SET unit = ?, dispatched_t = COALESCE(dispatched_t, ?) WHERE alert_id = ?",
                         (unit_name, time.time(), alert_id))  # fmt: skip
            u = replace(u, status="assigned", alert_id=alert_id)
            self._save_unit(conn, u)
            out = self._response_changed(conn, alert_id)
        self._audit_call(actor, "alerts.dispatch", f"alert {alert_id}", unit=unit_name)
        return out  # type: ignore[return-value]

    def on_scene(self, alert_id: int, actor: str = "lookout", *, auto: bool = False) -> ResponseRecord:
        """Stamp on scene (by the dispatcher, or ``auto`` from the unit's position); forwarded as an update."""
        with self._write() as conn:
            rec = load_record(conn, alert_id)
            if rec is None or rec.unit is None:
                raise ResponseError(f"alert {alert_id} has no unit dispatched; dispatch one first")
            if rec.on_scene_utc is not None:
                return rec
            by = f"auto:{rec.unit}" if auto else actor
            conn.execute("UPDATE responses SET on_scene_t = ?, on_scene_by = ? WHERE alert_id = ?",
                         (time.time(), by, alert_id))  # fmt: skip
            u = get_unit(conn, self.unit_cfg, rec.unit)
            if u.alert_id == alert_id:
                u = replace(u, status="on_scene")
                self._save_unit(conn, u)
            out = self._response_changed(conn, alert_id)
        self._audit_call(actor, "alerts.on_scene", f"alert {alert_id}", by=by)
        return out  # type: ignore[return-value]

    def set_position(self, unit_name: str, lat_deg: float, lon_deg: float, *, source: str = "manual",
                     t_utc: datetime | None = None) -> Unit:  # fmt: skip
        """A unit's new position; an assigned unit within ``on_scene_radius_m`` of its alert goes on scene."""
        check_position(unit_name, lat_deg, lon_deg)
        arrived: int | None = None
        with self._write() as conn:
            u = get_unit(conn, self.unit_cfg, unit_name)
            u = replace(u, lat_deg=lat_deg, lon_deg=lon_deg, position_t_utc=t_utc or datetime.now(UTC),
                        position_source=source)  # fmt: skip
            store_unit(conn, u)
            if u.status == "assigned" and u.alert_id is not None:
                rec = load_record(conn, u.alert_id)
                near = (
                    rec is not None and rec.lat_deg is not None and rec.lon_deg is not None
                    and rec.on_scene_utc is None
                    and distance_m(lat_deg, lon_deg, rec.lat_deg, rec.lon_deg) <= self.cfg.on_scene_radius_m
                )  # fmt: skip
                if near:
                    arrived = u.alert_id
        if arrived is not None:
            self.on_scene(arrived, auto=True)
            u = replace(u, status="on_scene")
        return u

    def sync_drones(self, snapshots: Iterable[Any], *, min_move_m: float = 5.0, max_age_s: float = 10.0) -> int:
        """Drone units' positions from fleet snapshots (anything with ``sysid``, ``lat_deg``, ``lon_deg``).

        A ``[units.NAME]`` with ``sysid`` takes its vehicle's position; written only when it moved
        ``min_move_m`` or the stored one is older than ``max_age_s`` (so a 10 Hz fleet poll does not
        write 10 times a second). Returns the units updated.
        """
        by_sysid = {c.sysid: name for name, c in self.unit_cfg.items() if c.sysid is not None}
        if not by_sysid:
            return 0
        units = {u.name: u for u in self.units()}
        now = datetime.now(UTC)
        n = 0
        for snap in snapshots:
            name = by_sysid.get(getattr(snap, "sysid", None))
            lat, lon = getattr(snap, "lat_deg", None), getattr(snap, "lon_deg", None)
            if name is None or lat is None or lon is None:
                continue
            u = units[name]
            fresh = u.position_t_utc is not None and (now - u.position_t_utc).total_seconds() < max_age_s
            if u.lat_deg is not None and u.lon_deg is not None and fresh \
                    and distance_m(u.lat_deg, u.lon_deg, lat, lon) < min_move_m:  # fmt: skip
                continue
            self.set_position(name, lat, lon, source="mavlink", t_utc=now)
            n += 1
        return n

    def set_status(self, unit_name: str, status: str, actor: str = "lookout") -> Unit:
        """Set a unit available or off duty by hand (assigned/on scene come from dispatch)."""
        if status not in ("available", "off_duty"):
            raise UnitError(f"unit {unit_name}: status {status!r} is set by dispatching; use available or off_duty")
        with self._write() as conn:
            u = get_unit(conn, self.unit_cfg, unit_name)
            u = replace(u, status=status, alert_id=None)
            self._save_unit(conn, u)
        self._audit_call(actor, "units.status", f"unit {unit_name}", status=status)
        return u

    def _audit_call(self, actor: str, action: str, subject: str, **detail: Any) -> None:
        if self._audit is not None:
            self._audit(actor, action, subject, **detail)
