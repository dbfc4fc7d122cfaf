"""The database seam of the alert store and outbox: SQLite (a file, the default) or PostgreSQL (a URL).

The store, outbox, sender and desk write one SQL dialect (SQLite's, ``?`` parameters) against a
connection from ``connect(target)``. For a ``postgresql://`` target that connection is a
``PgConnection``: a psycopg 3 connection in autocommit mode that translates the few differences:

- ``?`` parameters -> psycopg's (client-side binding, so ``? IS NULL`` needs no type);
- ``BEGIN IMMEDIATE`` (SQLite: one writer at a time) -> ``BEGIN`` + a transaction-scoped advisory
  lock, so writers on every desk are serialized exactly as SQLite serializes them (``MAX(version)+1``
  and per-stream ``seq`` stay gap-free and in commit order);
- ``COMMIT`` of a transaction that wrote -> ``NOTIFY lookout_alerts`` first (delivered at commit);
- ``PRAGMA data_version`` (SQLite: changes by other connections) -> a counter of notifications
  received on a ``listen=True`` connection; ``PRAGMA integrity_check`` -> ``ok`` (the server's job);
- ``INSERT OR IGNORE`` -> ``INSERT ... ON CONFLICT DO NOTHING``.

``insert_id`` (``lastrowid`` vs ``RETURNING id``), ``is_pg`` (for the outbox claim's ``FOR UPDATE
SKIP LOCKED``) and ``DB_ERRORS`` (what a caller catches) are the rest of the seam.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg is a dependency; SQLite works without it
    psycopg = None  # type: ignore[assignment]

from dispatch.errors import StoreError

CHANNEL = "lookout_alerts"
WRITE_LOCK_KEY = 0x4C4F4F4B  # "LOOK": the advisory lock every writing transaction takes (BEGIN IMMEDIATE)

DB_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error,) if psycopg is None else (sqlite3.Error, psycopg.Error)

_INSERT_OR_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO\s", re.IGNORECASE)


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def target_of(target: str | Path) -> str | Path:
    """A PostgreSQL URL stays a string; anything else is a path to an SQLite file."""
    return target if is_url(target) else Path(target)


def redact(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def label(target: str | Path) -> str:
    return redact(target) if isinstance(target, str) and is_url(target) else str(target)


class _Rows:
    """A tiny cursor for statements answered without the server (``PRAGMA`` translations)."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows
        self.rowcount = len(rows)
        self.lastrowid = None

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def __iter__(self) -> Any:
        return iter(self._rows)


class PgConnection:
    """A psycopg 3 connection that speaks the store's SQLite dialect (see the module docstring)."""

    def __init__(self, url: str, *, listen: bool = False, connect_timeout_s: float = 10.0) -> None:
        if psycopg is None:
            raise StoreError(f"{redact(url)}: PostgreSQL needs psycopg (pip install 'psycopg[binary]')")
        self.url = url
        self._listen = listen
        self._timeout_s = connect_timeout_s
        self._lock = threading.RLock()
        self._in_tx = False
        self._dirty = False
        self._notified = 0
        try:
            self._conn = self._open()
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(f"{redact(self.url)}: cannot connect to the alert database ({first}); "
                             "check [storage] alerts_url and that the server runs") from None  # fmt: skip

    def _open(self) -> Any:
        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=int(max(1, self._timeout_s)),
                               cursor_factory=psycopg.ClientCursor)  # fmt: skip
        if self._listen:  # notifications arriving during other queries wait in psycopg's backlog for notifies()
            conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _ensure(self) -> None:
        """Outside a transaction, a connection the server dropped (restart, failover) is opened again
        (a ``psycopg.Error`` while it is still down: callers catch ``DB_ERRORS``)."""
        if not self._in_tx and self._conn.broken:
            self._conn.close()
            self._conn = self._open()
            self._notified += 1  # a change may have been missed while it was down: look again

    @property
    def in_transaction(self) -> bool:
        return self._in_tx

    def execute(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> Any:
        word = sql.lstrip()[:24].upper()
        with self._lock:
            fresh = not self._in_tx
            try:
                return self._execute(word, sql, params)
            except psycopg.OperationalError:
                # the server dropped an idle connection (restart): a BEGIN or a read outside a transaction
                # is safe to run again on a new one; anything else reports the error
                if not (fresh and self._conn.broken and word.startswith(("BEGIN", "SELECT", "PRAGMA"))):
                    raise
                self._in_tx = False
                return self._execute(word, sql, params)

    def _execute(self, word: str, sql: str, params: tuple[Any, ...] | list[Any]) -> Any:
        if word.startswith("ROLLBACK"):
            self._in_tx = False
            if not self._conn.broken:
                self._conn.execute("ROLLBACK")
            return _Rows([])
        self._ensure()
        if word.startswith("BEGIN"):
            self._conn.execute("BEGIN")
            self._in_tx, self._dirty = True, False
            if "IMMEDIATE" in word:
                self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            return _Rows([])
        if word.startswith("COMMIT"):
            try:
                if self._dirty:
                    self._conn.execute(f"NOTIFY {CHANNEL}")
                self._conn.execute("COMMIT")
            finally:
                self._in_tx = False
            return _Rows([])
        if word.startswith("PRAGMA"):
            return self._pragma(sql)
        if not word.startswith("SELECT"):
            self._dirty = True
        args = tuple(params)
        return self._conn.execute(translate(sql, params=bool(args)), args or None)

    def _pragma(self, sql: str) -> _Rows:
        if "data_version" in sql:
            self.poll_notifications()
            return _Rows([(self._notified,)])
        if "integrity_check" in sql:
            return _Rows([("ok",)])
        return _Rows([])

    def poll_notifications(self) -> int:
        """Take in notifications already received (no wait); returns the running count."""
        with self._lock:
            self._ensure()
            for _ in self._conn.notifies(timeout=0):
                self._notified += 1
        return self._notified

    def wait_notification(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` for one notification on the channel (``listen=True`` connections)."""
        before = self._notified
        with self._lock:
            self._ensure()
            for _ in self._conn.notifies(timeout=timeout_s, stop_after=1):
                self._notified += 1
        return self._notified != before

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def translate(sql: str, *, params: bool = True) -> str:
    """SQLite-dialect ``sql`` with parameters as psycopg wants it (``?`` -> ``%s``, ``INSERT OR IGNORE``)."""
    ignore = bool(_INSERT_OR_IGNORE.match(sql))
    if ignore:
        sql = _INSERT_OR_IGNORE.sub("INSERT INTO ", sql, count=1)
    if params:
        sql = sql.replace("%", "%%").replace("?", "%s")
    return sql + " ON CONFLICT DO NOTHING" if ignore else sql


Connection = sqlite3.Connection | PgConnection


def is_pg(conn: Any) -> bool:
    return isinstance(conn, PgConnection)


def connect(target: str | Path, *, busy_timeout_s: float = 10.0, listen: bool = False) -> Any:
    """An autocommit connection: ``PgConnection`` for a ``postgresql://`` URL, else SQLite as the store opens it."""
    if is_url(target):
        return PgConnection(str(target), listen=listen, connect_timeout_s=busy_timeout_s)
    conn = sqlite3.connect(str(target), check_same_thread=False, isolation_level=None, timeout=busy_timeout_s)
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def insert_id(conn: Any, sql: str, params: tuple[Any, ...]) -> int:
    """Run an ``INSERT`` and return the new row's ``id`` (``lastrowid``, or ``RETURNING id`` on PostgreSQL)."""
    if is_pg(conn):
        return int(conn.execute(sql + " RETURNING id", params).fetchone()[0])
    return int(conn.execute(sql, params).lastrowid or 0)


def table_names(conn: Any) -> set[str]:
    if is_pg(conn):
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    else:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    return {r[0] for r in rows}
