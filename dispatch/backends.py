"""One constructor for the alert store and the dispatch desk, on SQLite (default) or PostgreSQL.

``[storage] alerts_url = "postgresql://user@host/db"`` puts alerts, outbox, response clocks and the
unit board of several desks (an operator console and a dispatch console, maybe on two machines) in
one PostgreSQL database; without it everything stays in ``<data>/alerts.sqlite``. Evidence files
stay in each machine's data directory either way (``EvidenceRef.path`` is relative to it).

    target = alerts_target(cfg.storage.alerts_url, data_dir)     # Path (SQLite) or URL
    desk = open_desk(target, cfg.dispatch, cfg.units, cfg.response_areas, data_dir=data_dir, audit=...)
    store = open_alert_store(target, data_dir=data_dir, audit=..., on_change=desk.on_change)
    store.wait_for_change(1.0)        # True when any desk committed a change (NOTIFY / data_version)

``alerts_url`` may be ``env:VAR`` (the URL, password included, from the environment); libpq's own
variables (``PGPASSWORD``, ``~/.pgpass``) work too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dispatch import db
from dispatch.config import DispatchConfig, ResponseAreaConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.errors import StoreError
from dispatch.store import AlertStore, AuditFn, OnChange

SQLITE_NAME = "alerts.sqlite"


def alerts_target(alerts_url: str | None, data_dir: Path) -> Path | str:
    """Where the alerts live: the ``postgresql://`` URL of ``[storage] alerts_url``, else ``<data>/alerts.sqlite``."""
    if not alerts_url:
        return Path(data_dir) / SQLITE_NAME
    url = alerts_url
    if url.startswith("env:"):
        var = url[4:]
        url = os.environ.get(var, "")
        if not url:
            raise StoreError(f"storage.alerts_url: environment variable {var} is not set; set it to "
                             "postgresql://USER@HOST/DB, or remove alerts_url to use alerts.sqlite")  # fmt: skip
    if not db.is_url(url):
        raise StoreError(f"storage.alerts_url: {db.redact(url)!r} is not a postgresql:// URL; write "
                         "postgresql://USER[:PASSWORD]@HOST[:PORT]/DB, or remove it to use alerts.sqlite")  # fmt: skip
    return url


def open_alert_store(
    target: Path | str,
    *,
    data_dir: Path,
    audit: AuditFn | None = None,
    on_change: OnChange | None = None,
    evidence_max_bytes: int | None = None,
    busy_timeout_s: float = 10.0,
) -> AlertStore:
    """An ``AlertStore`` on ``target`` (from ``alerts_target``), migrated; ``StoreError`` (one line) if it cannot."""
    return AlertStore(target, audit=audit, on_change=on_change, evidence_max_bytes=evidence_max_bytes,
                      busy_timeout_s=busy_timeout_s, data_dir=Path(data_dir))  # fmt: skip


def open_desk(
    target: Path | str,
    cfg: DispatchConfig,
    units: Mapping[str, UnitConfig],
    areas: Mapping[str, ResponseAreaConfig],
    *,
    data_dir: Path,
    audit: AuditFn | None = None,
) -> DispatchDesk:
    """A ``DispatchDesk`` (outbox, clock, unit board) on ``target``; ``start_sender()`` it where delivery runs.

    Any number of desks may run senders on one PostgreSQL database: each outbox row is claimed with
    ``FOR UPDATE SKIP LOCKED`` plus a lease, so it is sent by one of them.
    """
    return DispatchDesk(target, cfg, units, areas, data_dir=Path(data_dir), audit=audit)


def open_for_config(config: Any, data_dir: Path, *, audit: AuditFn | None = None,
                    evidence_max_bytes: int | None = None) -> tuple[DispatchDesk, AlertStore]:  # fmt: skip
    """Desk and store wired together from a ``LookoutConfig`` (``storage``, ``dispatch``, ``units``, areas)."""
    target = alerts_target(getattr(config.storage, "alerts_url", None), data_dir)
    desk = open_desk(target, config.dispatch, config.units, config.response_areas, data_dir=data_dir, audit=audit)
    try:
        store = open_alert_store(target, data_dir=data_dir, audit=audit, on_change=desk.on_change,
                                 evidence_max_bytes=evidence_max_bytes)  # fmt: skip
    except BaseException:
        desk.close()
        raise
    return desk, store
