"""Append-only, hash-chained audit log in SQLite.

Every row stores ``hash = sha256(prev_hash || canonical JSON of the row)``; the first row chains to
64 zeros. Triggers refuse UPDATE and DELETE, the database runs in WAL mode with
``synchronous=FULL`` so an acknowledged append survives a crash, and ``verify`` recomputes the whole
chain: any changed byte in a row, a removed row or a reordered row breaks it.

Other packages never import this module: the composition root hands them a plain callable
(``AuditLog.append``) where they need to record who did what.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lookout.errors import AuditError

GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq       INTEGER PRIMARY KEY,
    t_utc     TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    t_utc: str
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    rows: int
    first_bad_seq: int | None = None
    reason: str = ""


def _row_hash(prev_hash: str, seq: int, t_utc: str, actor: str, action: str, subject: str, detail: str) -> str:
    body = json.dumps([seq, t_utc, actor, action, subject, detail], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


class AuditLog:
    """Thread-safe appender over one SQLite file. Use as a context manager or call ``close``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise AuditError(f"audit log {path}: cannot open ({exc}); move the file aside to start a new log") from None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def append(self, actor: str, action: str, subject: str = "", **detail: Any) -> AuditEntry:
        """Append one row (atomically, chained to the last one) and return it."""
        t_utc = datetime.now(UTC).isoformat(timespec="microseconds")
        detail_json = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                h = _row_hash(prev, seq, t_utc, actor, action, subject, detail_json)
                self._db.execute(
                    "INSERT INTO audit VALUES (?,?,?,?,?,?,?,?)",
                    (seq, t_utc, actor, action, subject, detail_json, prev, h),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return AuditEntry(seq, t_utc, actor, action, subject, detail, prev, h)

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        sql = "SELECT * FROM audit ORDER BY seq" + (f" DESC LIMIT {int(limit)}" if limit else "")
        rows = self._db.execute(sql).fetchall()
        if limit:
            rows.reverse()
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]), r[6], r[7]) for r in rows]


def verify(path: Path) -> VerifyResult:
    """Recompute the chain of the log at ``path``. Never modifies the file."""
    if not path.is_file():
        raise AuditError(f"audit log {path}: no such file; nothing has been audited in this data directory yet")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute(
                "SELECT seq, t_utc, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq"
            ).fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return VerifyResult(False, 0, None, f"database unreadable ({exc}): the file was altered or corrupted")
    prev, expected_seq = GENESIS, 1
    for seq, t_utc, actor, action, subject, detail, prev_hash, h in rows:
        if seq != expected_seq:
            return VerifyResult(False, len(rows), seq, f"row {seq}: expected row {expected_seq} (rows missing)")
        if prev_hash != prev:
            return VerifyResult(False, len(rows), seq, f"row {seq}: prev_hash does not match row {seq - 1}")
        if _row_hash(prev, seq, str(t_utc), str(actor), str(action), str(subject), str(detail)) != h:
            return VerifyResult(False, len(rows), seq, f"row {seq}: contents do not match its hash (row altered)")
        prev, expected_seq = h, expected_seq + 1
    return VerifyResult(True, len(rows))
