"""Schema migrations of ``<data>/alerts.sqlite``: an ordered list of ``Migration(version, sql)`` steps.

To change the schema, APPEND a step with the next version number (never edit a released step):

    Migration(4, "CREATE TABLE outbox (...);"),

``migrate`` applies every step above the database's version, each in its own transaction together
with its row in ``schema_migrations``; a crash mid-step leaves the previous version intact. A
database whose version is higher than ``LATEST`` was written by a newer Lookout and is refused.

Each step also carries its PostgreSQL form (``postgres``; ``[storage] alerts_url``), run the same way
through ``dispatch.db`` (the step's transaction holds the writers' advisory lock, so two desks
starting at once upgrade once). A new step needs both.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch import db
from dispatch.errors import StoreError


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    sql: str  # SQLite
    postgres: str = ""  # the same step on PostgreSQL


MIGRATIONS: list[Migration] = [
    Migration(1, """
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    feed        TEXT NOT NULL,
    t_start_utc TEXT NOT NULL,
    t_end_utc   TEXT NOT NULL,
    track_ids   TEXT NOT NULL,
    lat_deg     REAL,
    lon_deg     REAL,
    accuracy_m  REAL,
    zone        TEXT,
    summary     TEXT NOT NULL,
    details     TEXT NOT NULL,
    state       TEXT NOT NULL,
    notes       TEXT NOT NULL,
    history     TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    event_ids   TEXT NOT NULL,
    count       INTEGER NOT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    version     INTEGER NOT NULL,
    track_path  TEXT NOT NULL,
    node        TEXT NOT NULL,
    cooldown_s  REAL NOT NULL
);
CREATE UNIQUE INDEX alerts_by_version ON alerts(version);
CREATE INDEX alerts_by_kind_feed_end ON alerts(kind, feed, t_end_utc);
CREATE INDEX alerts_by_state ON alerts(state, id);
""", postgres="""
CREATE TABLE alerts (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL,
    severity    TEXT NOT NULL,
    feed        TEXT NOT NULL,
    t_start_utc TEXT NOT NULL,
    t_end_utc   TEXT NOT NULL,
    track_ids   TEXT NOT NULL,
    lat_deg     DOUBLE PRECISION,
    lon_deg     DOUBLE PRECISION,
    accuracy_m  DOUBLE PRECISION,
    zone        TEXT,
    summary     TEXT NOT NULL,
    details     TEXT NOT NULL,
    state       TEXT NOT NULL,
    notes       TEXT NOT NULL,
    history     TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    event_ids   TEXT NOT NULL,
    count       BIGINT NOT NULL,
    created_utc TEXT NOT NULL,
    updated_utc TEXT NOT NULL,
    version     BIGINT NOT NULL,
    track_path  TEXT NOT NULL,
    node        TEXT NOT NULL,
    cooldown_s  DOUBLE PRECISION NOT NULL
);
CREATE UNIQUE INDEX alerts_by_version ON alerts(version);
CREATE INDEX alerts_by_kind_feed_end ON alerts(kind, feed, t_end_utc);
CREATE INDEX alerts_by_state ON alerts(state, id);
"""),
    # v2: event id -> alert lookup (attach_evidence, idempotent re-delivery of an event) and the
    # evidence byte total per alert (retention's cheap check); both filled from existing rows.
    Migration(2, """
CREATE TABLE alert_events (
    event_id TEXT PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id)
);
INSERT OR IGNORE INTO alert_events (event_id, alert_id)
    SELECT j.value, alerts.id FROM alerts, json_each(alerts.event_ids) AS j;
ALTER TABLE alerts ADD COLUMN evidence_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET evidence_bytes = COALESCE((
    SELECT SUM(json_extract(e.value, '$.size_bytes')) FROM json_each(alerts.evidence) AS e
    WHERE NOT COALESCE(json_extract(e.value, '$.removed'), 0)), 0);
""", postgres="""
CREATE TABLE alert_events (
    event_id TEXT PRIMARY KEY,
    alert_id BIGINT NOT NULL REFERENCES alerts(id)
);
INSERT INTO alert_events (event_id, alert_id)
    SELECT j.value, alerts.id FROM alerts, jsonb_array_elements_text(alerts.event_ids::jsonb) AS j(value)
    ON CONFLICT DO NOTHING;
ALTER TABLE alerts ADD COLUMN evidence_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE alerts SET evidence_bytes = COALESCE((
    SELECT SUM((e.value->>'size_bytes')::bigint) FROM jsonb_array_elements(alerts.evidence::jsonb) AS e(value)
    WHERE NOT COALESCE((e.value->>'removed')::boolean, false)), 0);
"""),
    # v3 (dispatch forwarding, helper H): the durable outbox (one row per message per sink, delivered in
    # id order per stream), sink health, response clock per alert, live unit state, this database's
    # random instance id (part of every message id, so two databases never reuse one).
    Migration(3, """
CREATE TABLE dispatch_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO dispatch_meta (key, value) VALUES ('instance', lower(hex(randomblob(5))));
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    sink            TEXT NOT NULL,
    stream          TEXT NOT NULL,
    alert_id        INTEGER,
    seq             INTEGER NOT NULL,
    type            TEXT NOT NULL,
    msg_id          TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    created_t       REAL NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_t          REAL NOT NULL,
    lease_t         REAL NOT NULL DEFAULT 0,
    first_attempt_t REAL,
    delivered_t     REAL,
    last_error      TEXT
);
CREATE INDEX outbox_queue ON outbox(sink, state, next_t);
CREATE INDEX outbox_stream ON outbox(sink, stream, id);
CREATE INDEX outbox_alert ON outbox(alert_id, sink);
CREATE TABLE sink_health (
    sink           TEXT PRIMARY KEY,
    last_success_t REAL,
    last_error_t   REAL,
    last_error     TEXT,
    failures       INTEGER NOT NULL DEFAULT 0,
    paused_until_t REAL NOT NULL DEFAULT 0
);
CREATE TABLE responses (
    alert_id     INTEGER PRIMARY KEY,
    area         TEXT NOT NULL,
    target_min   INTEGER NOT NULL,
    lat_deg      REAL,
    lon_deg      REAL,
    confirmed_t  REAL NOT NULL,
    unit         TEXT,
    dispatched_t REAL,
    on_scene_t   REAL,
    on_scene_by  TEXT,
    closed_t     REAL,
    end_state    TEXT
);
CREATE TABLE unit_state (
    name       TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    lat_deg    REAL,
    lon_deg    REAL,
    position_t REAL,
    source     TEXT,
    alert_id   INTEGER,
    updated_t  REAL NOT NULL
);
""", postgres="""
CREATE TABLE dispatch_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO dispatch_meta (key, value)
    VALUES ('instance', substr(md5(random()::text || clock_timestamp()::text), 1, 10));
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    sink            TEXT NOT NULL,
    stream          TEXT NOT NULL,
    alert_id        BIGINT,
    seq             BIGINT NOT NULL,
    type            TEXT NOT NULL,
    msg_id          TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    created_t       DOUBLE PRECISION NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_t          DOUBLE PRECISION NOT NULL,
    lease_t         DOUBLE PRECISION NOT NULL DEFAULT 0,
    first_attempt_t DOUBLE PRECISION,
    delivered_t     DOUBLE PRECISION,
    last_error      TEXT
);
CREATE INDEX outbox_queue ON outbox(sink, state, next_t);
CREATE INDEX outbox_stream ON outbox(sink, stream, id);
CREATE INDEX outbox_alert ON outbox(alert_id, sink);
CREATE TABLE sink_health (
    sink           TEXT PRIMARY KEY,
    last_success_t DOUBLE PRECISION,
    last_error_t   DOUBLE PRECISION,
    last_error     TEXT,
    failures       BIGINT NOT NULL DEFAULT 0,
    paused_until_t DOUBLE PRECISION NOT NULL DEFAULT 0
);
CREATE TABLE responses (
    alert_id     BIGINT PRIMARY KEY,
    area         TEXT NOT NULL,
    target_min   BIGINT NOT NULL,
    lat_deg      DOUBLE PRECISION,
    lon_deg      DOUBLE PRECISION,
    confirmed_t  DOUBLE PRECISION NOT NULL,
    unit         TEXT,
    dispatched_t DOUBLE PRECISION,
    on_scene_t   DOUBLE PRECISION,
    on_scene_by  TEXT,
    closed_t     DOUBLE PRECISION,
    end_state    TEXT
);
CREATE TABLE unit_state (
    name       TEXT PRIMARY KEY,
    status     TEXT NOT NULL,
    lat_deg    DOUBLE PRECISION,
    lon_deg    DOUBLE PRECISION,
    position_t DOUBLE PRECISION,
    source     TEXT,
    alert_id   BIGINT,
    updated_t  DOUBLE PRECISION NOT NULL
);
"""),
]  # fmt: skip

LATEST = MIGRATIONS[-1].version

_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_utc TEXT NOT NULL)"


def _check_order(steps: list[Migration]) -> None:
    for i, m in enumerate(steps, start=1):
        if m.version != i:
            raise RuntimeError(f"dispatch.migrations: step {i} has version {m.version}; versions must be 1, 2, 3 ...")


def _statements(sql: str) -> list[str]:
    """``sql`` split into complete statements (so a step runs inside one transaction we control)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def current_version(conn: Any) -> int:
    """The schema version of an open database (0 = empty, no tables yet)."""
    tables = db.table_names(conn)
    if "schema_migrations" not in tables:
        return 0 if not tables else -1
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(conn: Any, path: Path | str, *, upto: int | None = None) -> int:
    """Bring the database to ``upto`` (default ``LATEST``); returns the version reached.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises ``StoreError`` for a
    database of another program or of a newer Lookout.
    """
    _check_order(MIGRATIONS)
    target = LATEST if upto is None else upto
    have = current_version(conn)
    if have < 0:
        raise StoreError(
            f"{path} is not a Lookout alert database (it has tables but no schema_migrations table); "
            + ("give Lookout an empty database of its own (CREATE DATABASE lookout)" if db.is_pg(conn)
               else "move it aside and Lookout starts a new one")
        )  # fmt: skip
    if have > LATEST:
        raise StoreError(
            f"{path}: alert database schema version {have} is newer than this Lookout supports (version {LATEST}); "
            "upgrade Lookout, or use another data directory (--data-dir)"
        )
    for step in MIGRATIONS:
        if not have < step.version <= target:
            continue
        if db.is_pg(conn) and not step.postgres:
            raise RuntimeError(f"dispatch.migrations: step {step.version} has no PostgreSQL form")
        try:
            conn.execute("BEGIN IMMEDIATE")  # another process may be upgrading the same file right now
            try:
                if current_version(conn) < step.version:
                    conn.execute(_VERSION_TABLE)
                    for statement in _statements(step.postgres if db.is_pg(conn) else step.sql):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_migrations (version, applied_utc) VALUES (?, ?)",
                                 (step.version, datetime.now(UTC).isoformat()))  # fmt: skip
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except db.DB_ERRORS as exc:
            raise StoreError(
                f"{path}: upgrading the alert database to schema version {step.version} failed ({exc}); "
                "nothing was changed; keep a copy of the file and report this"
            ) from None
        have = step.version
    return have
