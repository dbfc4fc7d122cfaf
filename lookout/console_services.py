"""The console's alert and user services over ``dispatch`` (``console.services.AlertSource``/``UserSource``).

``StoreAlerts`` is a thin adapter over ``dispatch.store.AlertStore``: the console reads changes by
version and acts as its logged-in ``Actor``; the store checks the role, audits every transition and
refuses what the role may not do. Evidence paths are relative to the data directory and never leave it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dispatch.errors import AlertError
from dispatch.roles import Actor
from dispatch.store import AlertStore
from dispatch.types import Alert, EvidenceRef


class StoreAlerts:
    """``console.services.AlertSource`` over an ``AlertStore`` (local SQLite: every call is quick)."""

    def __init__(self, store: AlertStore, data_dir: Path | None = None) -> None:
        self.store = store
        self.data_dir = (data_dir or store.data_dir).resolve()

    @classmethod
    def open(cls, data_dir: Path, audit: Callable[..., Any] | None = None,
             on_change: Callable[..., None] | None = None,
             target: Path | str | None = None) -> StoreAlerts:  # fmt: skip
        """The store at ``target`` (``dispatch.backends.alerts_target``: a PostgreSQL URL) or
        ``<data_dir>/alerts.sqlite`` (created when missing), auditing to ``audit``; ``on_change`` is the
        dispatch desk's hook (``lookout.dispatching.Dispatching.on_change``): confirms write their outbox
        rows in the same transaction."""
        where = target if target is not None else data_dir / "alerts.sqlite"
        return cls(AlertStore(where, audit=audit, on_change=on_change, data_dir=data_dir), data_dir)

    def changes_since(self, version: int) -> tuple[int, list[Alert]]:
        return self.store.changes_since(version)

    def get(self, alert_id: int) -> Alert:
        return self.store.get(alert_id)

    def acknowledge(self, alert_id: int, actor: Actor, note: str = "") -> Alert:
        return self.store.acknowledge(alert_id, actor, note)

    def confirm(self, alert_id: int, actor: Actor, note: str = "") -> Alert:
        return self.store.confirm(alert_id, actor, note)

    def dismiss(self, alert_id: int, actor: Actor, reason: str) -> Alert:
        return self.store.dismiss(alert_id, actor, reason)

    def close_alert(self, alert_id: int, actor: Actor, note: str = "") -> Alert:
        return self.store.close(alert_id, actor, note)

    def evidence_path(self, ref: EvidenceRef) -> Path:
        path = (self.data_dir / ref.path).resolve()
        if not path.is_relative_to(self.data_dir):
            raise AlertError(f"evidence path {ref.path!r} points outside the data directory {self.data_dir}")
        return path

    def close(self) -> None:
        self.store.close_db()
