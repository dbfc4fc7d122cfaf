"""``AlertStore``: alerts in ``<data>/alerts.sqlite`` (WAL, ``synchronous=FULL``, schema migrations).

Every write is one ``BEGIN IMMEDIATE`` transaction: the alert row, its event-id index, the
``on_change(conn, after, before)`` hook (the outbox writes its rows here) and the audit call all
happen before ``COMMIT``; if any of them raises, nothing is written. A process killed at any point
leaves the database at the last commit: no committed alert lost, no half-written one.

Several processes may share one file (the node's alerting subscriber, the console, ``lookout
alerts``): writers wait up to ``busy_timeout_s`` for each other. Within a process one connection is
shared under a lock, so the store may be called from any thread.

With a ``postgresql://`` URL instead of a path (``[storage] alerts_url``; ``dispatch.backends``)
the same logic runs on PostgreSQL through ``dispatch.db``: writers of every desk are serialized by
an advisory lock (as SQLite's ``BEGIN IMMEDIATE`` serializes them), each commit notifies the
other desks (``LISTEN/NOTIFY``), and ``wait_for_change`` wakes on that.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dispatch import alerts as rules
from dispatch import db
from dispatch.alert_rows import COLUMNS, INSERT_SQL, SET_SQL, alert_values, iso_utc, row_to_alert
from dispatch.errors import AlertError, StoreError
from dispatch.migrations import migrate
from dispatch.roles import Actor, require
from dispatch.types import Alert, AlertInput, AlertState, EvidenceRef

log = logging.getLogger(__name__)

AuditFn = Callable[..., Any]
OnChange = Callable[[Any, Alert, "Alert | None"], None]  # (connection in the write transaction, after, before)

SYSTEM_ACTOR = "lookout"


class AlertStore:
    """The alert database. Use as a context manager or call ``close``."""

    def __init__(
        self,
        path: Path | str,
        *,
        audit: AuditFn | None = None,
        on_change: OnChange | None = None,
        evidence_max_bytes: int | None = None,
        busy_timeout_s: float = 10.0,
        data_dir: Path | None = None,
    ) -> None:
        self._audit = audit
        self._on_change = on_change
        self.evidence_max_bytes = evidence_max_bytes
        self._lock = threading.RLock()
        self._watch: Any = None  # the wait_for_change connection, opened on first use
        self._watch_version = 0
        self._target = db.target_of(path)
        self._timeout_s = busy_timeout_s
        if db.is_url(path):
            if data_dir is None:
                raise StoreError(f"{db.redact(str(path))}: a PostgreSQL alert store needs the data directory "
                                 "(evidence paths are relative to it)")  # fmt: skip
            self.path: Path | str = db.redact(str(path))  # for messages: never the password
            self.data_dir = Path(data_dir)
            self._db: Any = db.connect(str(path), busy_timeout_s=busy_timeout_s)
            try:
                migrate(self._db, self.path)
            except db.DB_ERRORS as exc:
                self._db.close()
                raise StoreError(f"{self.path}: cannot open the alert database ({exc})") from None
            except BaseException:
                self._db.close()
                raise
            return
        self.path = Path(path)
        # evidence paths are relative to this
        self.data_dir = Path(data_dir) if data_dir is not None else self.path.parent
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path.parent}: cannot create the data directory ({exc})") from None
        deadline = time.monotonic() + busy_timeout_s
        while not self._open_sqlite(busy_timeout_s):  # locked by another process: wait for it, then retry
            if time.monotonic() >= deadline:
                raise StoreError(f"{self.path}: the alert database stays locked by another process after "
                                 f"{busy_timeout_s:g} s; close the other Lookout process or try again")  # fmt: skip
            time.sleep(0.05)

    def _open_sqlite(self, busy_timeout_s: float) -> bool:
        """Open and prepare the SQLite file; False when another process kept it locked past the busy
        timeout (a lock is not damage: the caller retries, and never calls the file foreign)."""
        try:
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(
                f"{self.path}: cannot open the alert database ({exc}); check the path and permissions"
            ) from None
        try:
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            # reads the header first: a corrupt or foreign file fails here, before anything is written
            self._db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            migrate(self._db, self.path)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            if isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc)):
                return False
            raise StoreError(
                f"{self.path} is not a Lookout alert database ({exc}); move it aside and Lookout starts a new one"
            ) from None
        except BaseException:
            self._db.close()
            raise
        return True

    # ---- plumbing ------------------------------------------------------------------------------
    def __enter__(self) -> AlertStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close_db()

    def close_db(self) -> None:
        """Close the database connection (``close()`` with no arguments does the same)."""
        with self._lock:
            self._db.close()
            if self._watch is not None:
                self._watch.close()
                self._watch = None

    @property
    def is_postgres(self) -> bool:
        return db.is_pg(self._db)

    def wait_for_change(self, timeout_s: float) -> bool:
        """Block until a change is committed by any desk (this one included) since the previous call,
        or ``timeout_s`` passes; True when one was. The first call starts watching and returns True
        at once (a change just before it would be missed: look now).

        PostgreSQL: a ``LISTEN`` connection woken by the writers' ``NOTIFY``; SQLite: ``PRAGMA
        data_version`` polled every 50 ms. Call ``changes_since`` after it returns True. Meant for
        one watcher thread per store.
        """
        import time

        if self._watch is None:
            self._watch = db.connect(self._target, busy_timeout_s=self._timeout_s, listen=True)
            self._watch_version = self._watch.execute("PRAGMA data_version").fetchone()[0]
            return True
        w = self._watch
        if db.is_pg(w):
            try:
                return bool(w.wait_notification(timeout_s))
            except db.DB_ERRORS as exc:  # the server is down: say "look", and changes_since reports it
                log.warning("%s: waiting for changes failed (%s)", self.path, exc)
                time.sleep(min(1.0, timeout_s))
                return True
        deadline = time.monotonic() + timeout_s
        while True:
            now = w.execute("PRAGMA data_version").fetchone()[0]
            if now != self._watch_version:
                self._watch_version = now
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))  # SQLite has no push: a 50 ms poll

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except db.DB_ERRORS as exc:
                raise StoreError(f"{self.path}: cannot write the alert database ({exc}); nothing was changed") from None
            try:
                yield self._db
                self._db.execute("COMMIT")
            except db.DB_ERRORS as exc:
                self._rollback()
                raise StoreError(f"{self.path}: alert database write failed ({exc}); nothing was changed") from None
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def _read(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except db.DB_ERRORS as exc:
                raise StoreError(f"{self.path}: cannot read the alert database ({exc})") from None

    @staticmethod
    def _next_version(conn: Any) -> int:
        return int(conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM alerts").fetchone()[0])

    def _load(self, conn: Any, alert_id: int) -> Alert:
        row = conn.execute(f"SELECT {COLUMNS} FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        if row is None:
            raise AlertError(f"no alert {alert_id} in {self.path}; `lookout alerts list` shows the ids")
        return row_to_alert(row)

    def _save(self, conn: Any, after: Alert, before: Alert | None) -> Alert:
        if before is None:
            after = replace(after, id=db.insert_id(conn, INSERT_SQL, alert_values(after)))
        else:
            conn.execute(f"UPDATE alerts SET {SET_SQL} WHERE id = ?", (*alert_values(after), after.id))
        known = set() if before is None else set(before.event_ids)
        for eid in after.event_ids:
            if eid not in known:
                conn.execute("INSERT OR IGNORE INTO alert_events (event_id, alert_id) VALUES (?, ?)", (eid, after.id))
        if self._on_change is not None:
            self._on_change(conn, after, before)
        return after

    def _audit_call(self, actor: str, action: str, subject: str, **detail: Any) -> None:
        if self._audit is not None:
            self._audit(actor, action, subject, **detail)

    # ---- events in -----------------------------------------------------------------------------
    def ingest(self, inp: AlertInput) -> Alert:
        """Store one event: a new alert, or an update of the open alert it continues (see dispatch.alerts).

        The same event id delivered twice (MQTT QoS 1 may redeliver) returns the alert unchanged.
        """
        rules.check_input(inp)
        now = datetime.now(UTC)
        start = inp.t_start_utc
        lower = iso_utc(start) if inp.cooldown_s <= 0 else iso_utc(start - timedelta(seconds=inp.cooldown_s))
        with self._write() as conn:
            seen = conn.execute("SELECT alert_id FROM alert_events WHERE event_id = ?", (inp.event_id,)).fetchone()
            if seen is not None:
                return self._load(conn, seen[0])
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM alerts WHERE kind = ? AND feed = ? AND state != 'closed' "
                "AND t_end_utc >= ? ORDER BY id DESC LIMIT 50",
                (inp.kind, inp.feed, lower),
            ).fetchall()
            version = self._next_version(conn)
            actor = f"node:{inp.node}" if inp.node else SYSTEM_ACTOR
            ranked = [(rules.match_rank(a, inp), a) for a in map(row_to_alert, rows)]
            rank, before = max(ranked, key=lambda ra: ra[0], default=(0, None))  # the same person first, newest
            if rank > 0 and before is not None:
                after = self._save(conn, rules.merge(before, inp, now, version), before)
                self._audit_call(actor, "alerts.merge", f"alert {after.id}", event_id=inp.event_id,
                                 count=after.count, **_ref_detail(inp.snapshot))  # fmt: skip
            else:
                after = self._save(conn, rules.new_alert(inp, now, version), None)
                self._audit_call(actor, "alerts.create", f"alert {after.id}", event_id=inp.event_id, kind=inp.kind,
                                 severity=inp.severity, feed=inp.feed, **_ref_detail(inp.snapshot))  # fmt: skip
        if inp.snapshot is not None:
            self._check_retention()
        return after

    def attach_evidence(self, event_id: str, ref: EvidenceRef) -> Alert | None:
        """Add ``ref`` (a snapshot or clip of event ``event_id``) to its alert; None if no alert has that event."""
        rules.check_evidence(ref, f"event {event_id!r}")
        with self._write() as conn:
            seen = conn.execute("SELECT alert_id FROM alert_events WHERE event_id = ?", (event_id,)).fetchone()
            if seen is None:
                log.warning("evidence %s for unknown event %s: no alert holds it; not attached", ref.path, event_id)
                return None
            before = self._load(conn, seen[0])
            if ref in before.evidence:
                return before
            kept = tuple(e for e in before.evidence if e.path != ref.path)  # a re-written file replaces its ref
            after = replace(before, evidence=(*kept, ref), updated_utc=datetime.now(UTC),
                            version=self._next_version(conn))  # fmt: skip
            after = self._save(conn, after, before)
            actor = f"node:{before.node}" if before.node else SYSTEM_ACTOR
            self._audit_call(actor, "alerts.evidence", f"alert {after.id}", event_id=event_id, **_ref_detail(ref))
        self._check_retention()
        return after

    def _check_retention(self) -> None:
        if self.evidence_max_bytes is not None and self.evidence_total_bytes() > self.evidence_max_bytes:
            from dispatch.retention import enforce_retention  # retention builds on the store

            enforce_retention(self, self.data_dir, self.evidence_max_bytes)

    # ---- lifecycle -----------------------------------------------------------------------------
    def acknowledge(self, alert_id: int, actor: Actor, note: str = "") -> Alert:
        return self._transition(alert_id, actor, "acknowledge", note)

    def confirm(self, alert_id: int, actor: Actor, note: str = "") -> Alert:
        return self._transition(alert_id, actor, "confirm", note)

    def dismiss(self, alert_id: int, actor: Actor, reason: str) -> Alert:
        return self._transition(alert_id, actor, "dismiss", reason)

    def close(self, alert_id: int | None = None, actor: Actor | None = None, note: str = "") -> Alert | None:  # type: ignore[override]
        """``close(alert_id, actor)`` closes an alert; ``close()`` without arguments closes the database."""
        if alert_id is None:
            self.close_db()
            return None
        if actor is None:
            raise AlertError(f"alert {alert_id}: closing needs the acting user")
        return self._transition(alert_id, actor, "close", note)

    def _transition(self, alert_id: int, actor: Actor, verb: str, note: str) -> Alert:
        action = rules.LIFECYCLE[verb][0]
        require(actor, action, self._audit, f"alert {alert_id}")
        with self._write() as conn:
            before = self._load(conn, alert_id)
            target = rules.check_transition(before, verb, note)
            now = datetime.now(UTC)
            after = self._save(conn, rules.apply_transition(before, target, actor.name, note, now,
                                                            self._next_version(conn)), before)  # fmt: skip
            self._audit_call(actor.name, action, f"alert {alert_id}", role=str(actor.role),
                             from_state=str(before.state), to_state=str(target), note=note.strip())  # fmt: skip
        return after

    # ---- retention support -----------------------------------------------------------------------
    def evidence_total_bytes(self) -> int:
        """Bytes of evidence still on disk over all alerts (from the stored sizes; cheap)."""
        return int(self._read("SELECT COALESCE(SUM(evidence_bytes), 0) FROM alerts")[0][0])

    def evidence_holders(self) -> list[Alert]:
        """Alerts that still hold evidence on disk, oldest first."""
        rows = self._read(f"SELECT {COLUMNS} FROM alerts WHERE evidence_bytes > 0 ORDER BY id")
        return [row_to_alert(r) for r in rows]

    def mark_evidence_removed(self, alert_id: int, path: str, reason: str, actor: str = SYSTEM_ACTOR) -> Alert:
        """Record that evidence ``path`` of an alert is gone (the caller deletes the file after this commits).

        Refused for an alert that was ever confirmed: its evidence is never removed.
        """
        with self._write() as conn:
            before = self._load(conn, alert_id)
            if any(t.to_state == AlertState.CONFIRMED for t in before.history):
                raise AlertError(f"alert {alert_id} was confirmed; its evidence is never removed")
            refs = [replace(e, removed=True) if e.path == path and not e.removed else e for e in before.evidence]
            if tuple(refs) == before.evidence:
                return before
            after = replace(before, evidence=tuple(refs), updated_utc=datetime.now(UTC),
                            version=self._next_version(conn))  # fmt: skip
            after = self._save(conn, after, before)
            gone = next(e for e in before.evidence if e.path == path)
            self._audit_call(actor, "alerts.evidence_removed", f"alert {alert_id}", reason=reason, **_ref_detail(gone))
        return after

    # ---- reading -------------------------------------------------------------------------------
    def get(self, alert_id: int) -> Alert:
        with self._lock:
            try:
                return self._load(self._db, alert_id)
            except db.DB_ERRORS as exc:
                raise StoreError(f"{self.path}: cannot read the alert database ({exc})") from None

    def list(self, state: AlertState | None = None, limit: int = 200) -> list[Alert]:
        """Alerts newest first, optionally only those in ``state``."""
        if state is None:
            rows = self._read(f"SELECT {COLUMNS} FROM alerts ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._read(
                f"SELECT {COLUMNS} FROM alerts WHERE state = ? ORDER BY id DESC LIMIT ?", (str(state), limit)
            )
        return [row_to_alert(r) for r in rows]

    def changes_since(self, version: int, limit: int = 1000) -> tuple[int, list[Alert]]:
        """Alerts written after ``version`` (oldest change first) and the version to ask from next time.

        One indexed range query; with no change it returns ``(version, [])``. Pass the returned version
        back; more than ``limit`` changes arrive over several calls.
        """
        rows = self._read(f"SELECT {COLUMNS} FROM alerts WHERE version > ? ORDER BY version LIMIT ?", (version, limit))
        alerts = [row_to_alert(r) for r in rows]
        return (alerts[-1].version if alerts else version), alerts

    def latest_version(self) -> int:
        return int(self._read("SELECT COALESCE(MAX(version), 0) FROM alerts")[0][0])

    def find_by_event(self, event_id: str) -> Alert | None:
        rows = self._read("SELECT alert_id FROM alert_events WHERE event_id = ?", (event_id,))
        return self.get(rows[0][0]) if rows else None

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` ("ok" when the file is sound)."""
        return str(self._read("PRAGMA integrity_check")[0][0])


def _ref_detail(ref: EvidenceRef | None) -> dict[str, Any]:
    if ref is None:
        return {}
    return {"evidence_kind": ref.kind, "path": ref.path, "sha256": ref.sha256, "size_bytes": ref.size_bytes}
