"""The durable outbox: forwarded alert messages, written in the alert's own transaction, delivered later.

``Outbox.on_change(conn, after, before)`` is the ``AlertStore`` hook: inside the store's transaction
it decides, per configured sink, whether this change is forwarded (``forward = "confirmed"``: from
the confirmation on; ``"raised"``: from the first event at ``min_severity`` or above) and writes one
row per sink. The row carries the whole message (``type`` new/update/end, ``before``/``after``), a
stable message id (the idempotency key: ``webhook-id``, CAP identifier), and its number in the
alert's stream. The store's COMMIT makes the alert change and its messages durable together;
``dispatch.sender.OutboxSender`` delivers them (see there).

Tables (``dispatch.migrations`` step 3): ``outbox`` (messages), ``sink_health`` (last success, last
error, back-off of a sink that is down), ``dispatch_meta`` (this database's random instance id,
part of every message id so two databases never reuse one).

Messages of one stream (one alert, or one unit's status) go to a sink strictly in order: a message
waits while an earlier one of its stream is pending, and becomes a dead letter with it. Dead
letters are listed (``dead_letters``) and retried (``retry``), never dropped.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch import db
from dispatch.config import SinkConfig
from dispatch.errors import OutboxError

log = logging.getLogger(__name__)

SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}
FORWARDED_LATER = ("update", "end")  # what later changes of a forwarded alert become

# dispatch.migrations step 3 (kept here too so the outbox can describe itself; the migration is the source)
ResponseSection = Callable[[sqlite3.Connection, int], "dict[str, Any] | None"]


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    sink: str
    stream: str  # "alert:12" | "unit:alpha1" | "test:…"
    alert_id: int | None
    seq: int  # 1, 2, … within (sink, stream)
    type: str  # new | update | end | test | unit
    msg_id: str  # idempotency key
    payload: dict[str, Any]
    created_t: float  # unix seconds
    state: str  # pending | delivered | dead
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class SinkHealth:
    sink: str
    configured: bool
    last_success_utc: datetime | None
    last_error_utc: datetime | None
    last_error: str | None
    queue_depth: int
    dead_letters: int
    delivered: int
    paused_until_utc: datetime | None


def connect(path: Path | str, *, busy_timeout_s: float = 10.0, listen: bool = False) -> Any:
    """An autocommit connection to ``alerts.sqlite`` as the store opens it (WAL, synchronous=FULL), or to the
    ``postgresql://`` URL (``dispatch.db.PgConnection``; ``listen`` for the change notifications)."""
    return db.connect(path, busy_timeout_s=busy_timeout_s, listen=listen)


def _utc(t: float | None) -> datetime | None:
    return None if t is None else datetime.fromtimestamp(t, UTC)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


def _dumps(d: Any) -> str:
    return json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


class Outbox:
    """Writes and reads outbox rows. ``on_change`` is the store hook; the other methods are for desks and CLI."""

    def __init__(
        self,
        path: Path | str,
        sinks: Mapping[str, SinkConfig],
        *,
        node: str = "lookout",
        response_section: ResponseSection | None = None,
        on_written: Callable[[], None] | None = None,
    ) -> None:
        self.path = db.target_of(path)  # an SQLite file, or a postgresql:// URL
        self.sinks = dict(sinks)
        self.node = node
        self.response_section = response_section
        self.on_written = on_written  # e.g. OutboxSender.wake: called after writing rows (before COMMIT)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._instance: str | None = None

    # ---- writing (inside a caller's transaction) -----------------------------------------------
    def on_change(self, conn: sqlite3.Connection, after: Any, before: Any | None) -> None:
        """The ``AlertStore`` hook: write this change's messages in the store's transaction."""
        after_json = after.to_json()
        if self.response_section is not None:
            after_json["response"] = self.response_section(conn, after.id)
        wrote = False
        for name, sink in self.sinks.items():
            if not sink.enabled:
                continue
            stream = f"alert:{after.id}"
            last = self._last_payload(conn, name, stream)
            if last is None:
                if not self._starts_forwarding(sink, after, before):
                    continue
                kind = "new"
            else:
                kind = "end" if str(after.state) in ("closed", "dismissed") else "update"
            self._insert(conn, name, stream, after.id, kind, None if last is None else last["after"], after_json)
            wrote = True
        if wrote and self.on_written is not None:
            self.on_written()

    def enqueue_update(self, conn: sqlite3.Connection, alert_id: int, patch: Mapping[str, Any]) -> int:
        """An update of an already forwarded alert with ``patch`` merged into its JSON (e.g. ``response``).

        For changes that are not alert-store writes (dispatched, on scene); call inside the caller's
        transaction. Sinks that never forwarded the alert get nothing. Returns the rows written.
        """
        n = 0
        stream = f"alert:{alert_id}"
        for name, sink in self.sinks.items():
            if not sink.enabled:
                continue
            last = self._last_payload(conn, name, stream)
            if last is None:
                continue
            after = {**last["after"], **patch}
            kind = "end" if after.get("state") in ("closed", "dismissed") else "update"
            self._insert(conn, name, stream, alert_id, kind, last["after"], after)
            n += 1
        if n and self.on_written is not None:
            self.on_written()
        return n

    def enqueue_unit_status(self, conn: sqlite3.Connection, unit: str, status: Mapping[str, Any]) -> int:
        """A unit's status for MQTT sinks (retained ``<units_topic>/<unit>/status``)."""
        n = 0
        for name, sink in self.sinks.items():
            if sink.enabled and sink.type == "mqtt":
                self._insert(conn, name, f"unit:{unit}", None, "unit", None, {"unit": unit, **status})
                n += 1
        if n and self.on_written is not None:
            self.on_written()
        return n

    def enqueue_test(self, conn: sqlite3.Connection, sink_names: list[str], after: Mapping[str, Any]) -> list[str]:
        """A Test-status message (``lookout alerts send-test``) to each named sink; returns the message ids."""
        ids = []
        stamp = f"test:{int(time.time() * 1000)}"
        for name in sink_names:
            if name not in self.sinks:
                raise OutboxError(f"no sink {name!r}; configured: {', '.join(self.sinks) or 'none'}")
            ids.append(self._insert(conn, name, stamp, None, "test", None, dict(after)))
        if ids and self.on_written is not None:
            self.on_written()
        return ids

    @staticmethod
    def _starts_forwarding(sink: SinkConfig, after: Any, before: Any | None) -> bool:
        state = str(after.state)
        if sink.forward == "confirmed":
            return state == "confirmed"
        open_state = state not in ("dismissed", "closed")  # an alert that ended unforwarded is not news
        return open_state and SEVERITY_RANK.get(after.severity, 0) >= SEVERITY_RANK[sink.min_severity]

    @staticmethod
    def _last_payload(conn: sqlite3.Connection, sink: str, stream: str) -> dict[str, Any] | None:
        row = conn.execute(
            "SELECT payload FROM outbox WHERE sink = ? AND stream = ? ORDER BY id DESC LIMIT 1", (sink, stream)
        ).fetchone()
        return None if row is None else json.loads(row[0])

    def _instance_id(self, conn: sqlite3.Connection) -> str:
        if self._instance is None:
            row = conn.execute("SELECT value FROM dispatch_meta WHERE key = 'instance'").fetchone()
            self._instance = str(row[0])
        return self._instance

    def _insert(
        self,
        conn: sqlite3.Connection,
        sink: str,
        stream: str,
        alert_id: int | None,
        kind: str,
        before: dict[str, Any] | None,
        after: dict[str, Any],
    ) -> str:
        seq_row = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox WHERE sink = ? AND stream = ?", (sink, stream))
        seq = int(seq_row.fetchone()[0]) + 1
        refs = [
            {"msg_id": r[0], "created_utc": _iso(r[1])}
            for r in conn.execute(
                "SELECT msg_id, created_t FROM outbox WHERE sink = ? AND stream = ? ORDER BY id", (sink, stream)
            )
        ]
        now = time.time()
        msg_id = f"msg_{self._instance_id(conn)}_{stream.replace(':', '-')}_{seq}_{sink}"
        payload = {
            "type": kind, "id": msg_id, "seq": seq, "sent_by": self.node, "created_utc": _iso(now),
            "before": before, "after": after, "references": refs,
        }  # fmt: skip
        conn.execute(
            "INSERT INTO outbox (sink, stream, alert_id, seq, type, msg_id, payload, created_t, next_t) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sink, stream, alert_id, seq, kind, msg_id, _dumps(payload), now, now),
        )
        return msg_id

    # ---- reading and repair (own connection) ----------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def health(self) -> list[SinkHealth]:
        """Per sink (configured or with rows left): last success/error, queue depth, dead letters."""
        with self._lock:
            db = self._db()
            counts: dict[str, dict[str, int]] = {}
            for sink, state, n in db.execute("SELECT sink, state, COUNT(*) FROM outbox GROUP BY sink, state"):
                counts.setdefault(sink, {})[state] = n
            health = {r[0]: r for r in db.execute("SELECT sink, last_success_t, last_error_t, last_error, "
                                                  "paused_until_t FROM sink_health")}  # fmt: skip
        out = []
        for name in sorted(set(self.sinks) | set(counts)):
            c = counts.get(name, {})
            h = health.get(name)
            paused = None if h is None or h[4] <= time.time() else _utc(h[4])
            out.append(SinkHealth(
                sink=name, configured=name in self.sinks,
                last_success_utc=None if h is None else _utc(h[1]), last_error_utc=None if h is None else _utc(h[2]),
                last_error=None if h is None else h[3], queue_depth=c.get("pending", 0),
                dead_letters=c.get("dead", 0), delivered=c.get("delivered", 0), paused_until_utc=paused,
            ))  # fmt: skip
        return out

    def messages(
        self, *, alert_id: int | None = None, state: str | None = None, sink: str | None = None, limit: int = 1000
    ) -> list[OutboxMessage]:
        """Outbox rows oldest first, filtered."""
        where, params = [], []
        for col, val in (("alert_id", alert_id), ("state", state), ("sink", sink)):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        sql = (
            "SELECT id, sink, stream, alert_id, seq, type, msg_id, payload, created_t, state, attempts, last_error "
            f"FROM outbox {'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id LIMIT ?"
        )
        with self._lock:
            rows = self._db().execute(sql, (*params, limit)).fetchall()
        return [OutboxMessage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8], r[9], r[10], r[11])
                for r in rows]  # fmt: skip

    def pending_count(self, *, sinks: list[str] | None = None, msg_ids: set[str] | None = None) -> int:
        """How many messages still wait for delivery (cheap; no payloads read)."""
        with self._lock:
            rows = self._db().execute("SELECT sink, msg_id FROM outbox WHERE state = 'pending'").fetchall()
        return sum(1 for sink, mid in rows
                   if (sinks is None or sink in sinks) and (msg_ids is None or mid in msg_ids))  # fmt: skip

    def dead_letters(self, sink: str | None = None) -> list[OutboxMessage]:
        return self.messages(state="dead", sink=sink)

    def delivery_state(self, alert_id: int) -> dict[str, str]:
        """Per sink, the state of the alert's newest message: pending | delivered | dead (for the dispatch panel)."""
        with self._lock:
            rows = self._db().execute(
                "SELECT sink, state, id FROM outbox WHERE id IN "
                "(SELECT MAX(id) FROM outbox WHERE alert_id = ? GROUP BY sink)", (alert_id,)
            ).fetchall()
            worst = {r[0]: r[1] for r in self._db().execute(
                "SELECT sink, state FROM outbox WHERE alert_id = ? AND state != 'delivered'", (alert_id,))}  # fmt: skip
        return {sink: worst.get(sink, state) for sink, state, _ in rows}

    def prune_delivered(self, older_than_s: float) -> int:
        """Delete delivered messages older than that, keeping each stream's newest (before/seq); returns how many.

        Pending messages and dead letters are never deleted.
        """
        cutoff = time.time() - older_than_s
        with self._lock:
            db = self._db()
            cur = db.execute(
                "DELETE FROM outbox WHERE state = 'delivered' AND delivered_t < ? "
                "AND id NOT IN (SELECT MAX(id) FROM outbox GROUP BY sink, stream)",
                (cutoff,),
            )
        return cur.rowcount

    def retry(self, message_id: int | None = None, *, sink: str | None = None) -> int:
        """Put dead letters back in the queue (one by outbox id, or all, or all of a sink); returns how many.

        A dead message's later messages in its stream were parked with it; they go back too, in order.
        """
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                if message_id is not None:
                    row = db.execute("SELECT sink, stream, state FROM outbox WHERE id = ?", (message_id,)).fetchone()
                    if row is None or row[2] != "dead":
                        raise OutboxError(f"outbox message {message_id} is not a dead letter; "
                                          "`lookout alerts sinks --dead` lists them")  # fmt: skip
                    cur = db.execute(
                        "UPDATE outbox SET state = 'pending', attempts = 0, next_t = ?, lease_t = 0 "
                        "WHERE sink = ? AND stream = ? AND state = 'dead' AND id >= ?",
                        (time.time(), row[0], row[1], message_id),
                    )
                else:
                    cur = db.execute(
                        "UPDATE outbox SET state = 'pending', attempts = 0, next_t = ?, lease_t = 0 "
                        "WHERE state = 'dead' AND (? IS NULL OR sink = ?)",
                        (time.time(), sink, sink),
                    )
                db.execute("UPDATE sink_health SET paused_until_t = 0 WHERE ? IS NULL OR sink = ?", (sink, sink))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        if cur.rowcount and self.on_written is not None:
            self.on_written()
        return cur.rowcount
