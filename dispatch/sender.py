"""``OutboxSender``: one thread per sink delivering outbox rows, with back-off, jitter and order per alert.

Each thread loops: find the oldest pending row of its sink that is due and has no undelivered
earlier row in its stream (order per alert), claim it with a lease (a conditional UPDATE, so two
senders on one database never send the same row at the same time), deliver it, record the result.

- Success: ``delivered``; the sink's health gets ``last_success``.
- Failure: the row is retried after ``backoff_base_s * 2**(attempts-1)`` (capped at
  ``backoff_max_s``) times a random 0.5..1 (jitter). A sink that is unreachable (connection
  refused, timeout) is also paused as a whole for that long, so a down receiver costs one attempt
  per back-off, not one per queued message.
- A permanent refusal (HTTP 4xx such as a wrong signature secret) or ``max_attempts`` failures:
  the row becomes a dead letter; later rows of its stream wait behind it until it is retried.

Killed at any point (even ``kill -9``), nothing is lost: an unfinished attempt's lease runs out
(``timeout_s + 2`` s) and the row is sent again with the same message id, which the receiver
de-duplicates (Standard Webhooks' ``webhook-id``; CAP identifier; the MQTT payload's ``id``).

Wake-up: ``wake()`` (the outbox calls it when it writes rows, before the writer's COMMIT) makes a
thread wait for that COMMIT (``BEGIN IMMEDIATE``) and look at once; rows written by another process
are noticed within ``poll_s`` through SQLite's ``data_version``.

On PostgreSQL (``dispatch.db``) the claim is ``SELECT ... FOR UPDATE SKIP LOCKED`` then the lease,
in one short transaction: senders on several desks each take a different row, and a row is sent by
one of them at a time; other desks' writes arrive as ``NOTIFY`` (``data_version`` counts them).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from dispatch import db
from dispatch.config import SinkConfig
from dispatch.errors import DeliveryError
from dispatch.outbox import OutboxMessage, connect

log = logging.getLogger(__name__)

_NEXT = (
    "SELECT id, sink, stream, alert_id, seq, type, msg_id, payload, created_t, state, attempts, last_error "
    "FROM outbox o WHERE sink = ? AND state = 'pending' AND next_t <= ? AND lease_t <= ? "
    "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.sink = o.sink AND p.stream = o.stream AND p.id < o.id "
    "AND p.state != 'delivered') ORDER BY id LIMIT 1"
)


class Deliverer(Protocol):
    def deliver(self, msg: OutboxMessage) -> None: ...

    def close(self) -> None: ...


class OutboxSender:
    """Delivers the outbox of ``path`` to ``sinks`` (name -> deliverer) with each sink's ``policies``."""

    def __init__(
        self,
        path: Path | str,
        sinks: Mapping[str, Deliverer],
        policies: Mapping[str, SinkConfig],
        *,
        poll_s: float = 0.05,
        lease_extra_s: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        self.path = db.target_of(path)
        self.sinks = dict(sinks)
        self.policies = dict(policies)
        self.poll_s = poll_s
        self.lease_extra_s = lease_extra_s
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._wakes = {name: threading.Event() for name in self.sinks}
        self._threads: list[threading.Thread] = []

    def start(self) -> OutboxSender:
        for name in self.sinks:
            t = threading.Thread(target=self._run, args=(name,), name=f"outbox-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def wake(self) -> None:
        for ev in self._wakes.values():
            ev.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the attempts in flight (each bounded by its sink's timeout); close the sinks."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        for sink in self.sinks.values():
            try:
                sink.close()
            except Exception:  # closing must not hide the stop
                log.exception("closing a sink failed")
        self._threads.clear()

    def __enter__(self) -> OutboxSender:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the loop ------------------------------------------------------------------------------
    def _run(self, name: str) -> None:
        conn = connect(self.path, listen=True)
        wake = self._wakes[name]
        sink = self.sinks[name]
        policy = self.policies[name]
        seen_version = -1
        next_due = 0.0
        db_errors = 0
        try:
            while not self._stop.is_set():
                try:
                    woken = wake.is_set()
                    wake.clear()
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                    if not woken and version == seen_version and time.time() < next_due:
                        self._idle(conn, wake)
                        continue
                    if woken:  # the writer may not have committed yet: wait for its COMMIT
                        conn.execute("BEGIN IMMEDIATE")
                        conn.execute("COMMIT")
                    seen_version = version
                    msg = self._claim(conn, name, policy)
                    if msg is None:
                        next_due = self._next_due(conn, name)
                        self._idle(conn, wake)
                        continue
                    next_due = 0.0
                    self._attempt(conn, name, sink, policy, msg)
                    db_errors = 0
                except db.DB_ERRORS as exc:  # busy beyond the timeout, disk full, server gone: wait, go on
                    db_errors += 1
                    if db_errors == 1:
                        log.warning("outbox sender %s: alert database error (%s); retrying every second", name, exc)
                    conn = self._recover(conn)
                    self._stop.wait(1.0)
        except Exception:
            log.exception("outbox sender for sink %s stopped on an unexpected error; restart Lookout", name)
        finally:
            conn.close()

    def _idle(self, conn: Any, wake: threading.Event) -> None:
        """Wait up to ``poll_s`` for a wake-up; on PostgreSQL on the socket, so another desk's NOTIFY ends it."""
        if db.is_pg(conn):
            if not wake.is_set():
                conn.wait_notification(self.poll_s)
        else:
            wake.wait(self.poll_s)

    def _recover(self, conn: Any) -> Any:
        """After a database error: roll back; a PostgreSQL connection that broke is opened again."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return conn
        except db.DB_ERRORS:
            if not db.is_pg(conn):
                raise
        try:
            conn.close()
            return connect(self.path, listen=True)
        except db.DB_ERRORS:
            return conn  # still down: the next loop fails again and comes back here

    def _next_due(self, conn: Any, name: str) -> float:
        row = conn.execute(
            "SELECT MIN(CASE WHEN next_t > lease_t THEN next_t ELSE lease_t END) FROM outbox "
            "WHERE sink = ? AND state = 'pending'", (name,)
        ).fetchone()
        paused = conn.execute("SELECT paused_until_t FROM sink_health WHERE sink = ?", (name,)).fetchone()
        due = row[0] if row and row[0] is not None else time.time() + 3600
        return max(due, paused[0] if paused else 0.0)

    def _claim(self, conn: Any, name: str, policy: SinkConfig) -> OutboxMessage | None:
        now = time.time()
        paused = conn.execute("SELECT paused_until_t FROM sink_health WHERE sink = ?", (name,)).fetchone()
        if paused and paused[0] > now:
            return None
        if db.is_pg(conn):
            return self._claim_locked(conn, policy, name, now)
        r = conn.execute(_NEXT, (name, now, now)).fetchone()
        if r is None:
            return None
        lease = now + policy.timeout_s + self.lease_extra_s
        cur = conn.execute(
            "UPDATE outbox SET lease_t = ?, attempts = attempts + 1, first_attempt_t = COALESCE(first_attempt_t, ?) "
            "WHERE id = ? AND state = 'pending' AND lease_t <= ?",
            (lease, now, r[0], now),
        )
        if cur.rowcount != 1:
            return None  # another sender took it
        return OutboxMessage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8], r[9], r[10] + 1, r[11])

    def _claim_locked(self, conn: Any, policy: SinkConfig, name: str, now: float) -> OutboxMessage | None:
        """PostgreSQL: lock the next row (skipping rows other desks hold), lease it, commit."""
        conn.execute("BEGIN")
        try:
            r = conn.execute(_NEXT + " FOR UPDATE OF o SKIP LOCKED", (name, now, now)).fetchone()
            if r is not None:
                conn.execute(
                    "UPDATE outbox SET lease_t = ?, attempts = attempts + 1, "
                    "first_attempt_t = COALESCE(first_attempt_t, ?) WHERE id = ?",
                    (now + policy.timeout_s + self.lease_extra_s, now, r[0]),
                )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if r is None:
            return None
        return OutboxMessage(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]), r[8], r[9], r[10] + 1, r[11])

    def _attempt(
        self, conn: Any, name: str, sink: Deliverer, policy: SinkConfig, msg: OutboxMessage
    ) -> None:
        try:
            sink.deliver(msg)
        except DeliveryError as exc:
            self._failed(conn, name, policy, msg, str(exc), permanent=exc.permanent, sink_down=exc.sink_down)
            return
        except Exception as exc:  # a bug in a sink must not stop delivery of the others
            log.exception("sink %s: unexpected error delivering %s", name, msg.msg_id)
            self._failed(conn, name, policy, msg, f"{type(exc).__name__}: {exc}", permanent=False, sink_down=False)
            return
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE outbox SET state = 'delivered', delivered_t = ?, lease_t = 0 WHERE id = ?", (now, msg.id))
        conn.execute(
            "INSERT INTO sink_health (sink, last_success_t, failures, paused_until_t) VALUES (?, ?, 0, 0) "
            "ON CONFLICT(sink) DO UPDATE SET last_success_t = excluded.last_success_t, failures = 0, "
            "paused_until_t = 0",
            (name, now),
        )
        conn.execute("COMMIT")

    def _backoff(self, policy: SinkConfig, n: int) -> float:
        delay = min(policy.backoff_max_s, policy.backoff_base_s * (2 ** max(0, n - 1)))
        return delay * self._rng.uniform(0.5, 1.0)

    def _failed(
        self,
        conn: Any,
        name: str,
        policy: SinkConfig,
        msg: OutboxMessage,
        error: str,
        *,
        permanent: bool,
        sink_down: bool,
    ) -> None:
        now = time.time()
        dead = permanent or msg.attempts >= policy.max_attempts
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("SELECT failures FROM sink_health WHERE sink = ?", (name,)).fetchone()
        failures = (row[0] if row else 0) + 1
        paused = now + self._backoff(policy, failures) if sink_down else 0.0
        conn.execute(
            "UPDATE outbox SET state = ?, next_t = ?, lease_t = 0, last_error = ? WHERE id = ?",
            ("dead" if dead else "pending", now + self._backoff(policy, msg.attempts), error, msg.id),
        )
        conn.execute(
            "INSERT INTO sink_health (sink, last_error_t, last_error, failures, paused_until_t) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(sink) DO UPDATE SET last_error_t = excluded.last_error_t, last_error = excluded.last_error, "
            "failures = excluded.failures, paused_until_t = excluded.paused_until_t",
            (name, now, error, failures, paused),
        )
        conn.execute("COMMIT")
        if dead:
            why = "refused for good" if permanent else f"failed {msg.attempts} times"
            log.error("message %s %s, now a dead letter (retry: lookout alerts sinks --retry %d): %s",
                      msg.msg_id, why, msg.id, error)  # fmt: skip
        elif failures == 1:
            log.warning("delivery failed, retrying with back-off: %s", error)
