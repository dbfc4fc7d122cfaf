"""Evidence retention: keep the evidence files under ``[storage] evidence_max_gb``.

When the stored evidence sizes add up to more than the cap, evidence files are deleted in this
order until the total fits:

1. dismissed alerts, oldest first;
2. closed alerts that were never confirmed (closed after a dismissal), oldest first;
3. new or acknowledged alerts, oldest first (only when 1 and 2 are exhausted; logged as a warning).

A confirmed alert's evidence (confirmed now, or closed after a confirmation) is never deleted: if
only that is left the cap stays exceeded and a warning says so. Within an alert, clips go before
snapshots (the small snapshot keeps the alert readable). Each removal is first recorded in the alert
(its ``EvidenceRef.removed``) and audited by ``AlertStore.mark_evidence_removed``, then the file is
deleted; a crash in between leaves an orphan file, never an alert pointing at a deleted file.
``AlertStore`` runs this after attaching evidence when it was given ``evidence_max_bytes``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dispatch.types import Alert, AlertState, EvidenceRef

if TYPE_CHECKING:
    from dispatch.store import AlertStore

log = logging.getLogger(__name__)

TIERS = ("dismissed", "closed-unconfirmed", "open")


@dataclass(frozen=True, slots=True)
class RemovedEvidence:
    alert_id: int
    path: str
    size_bytes: int
    tier: str


@dataclass(frozen=True, slots=True)
class RetentionReport:
    max_bytes: int
    total_before: int
    total_after: int
    removed: tuple[RemovedEvidence, ...]

    @property
    def over_cap(self) -> bool:
        return self.total_after > self.max_bytes


def ever_confirmed(alert: Alert) -> bool:
    return alert.state == AlertState.CONFIRMED or any(t.to_state == AlertState.CONFIRMED for t in alert.history)


def tier_of(alert: Alert) -> str | None:
    """Which retention tier ``alert`` is in; None = its evidence is kept (confirmed)."""
    if ever_confirmed(alert):
        return None
    if alert.state == AlertState.DISMISSED:
        return "dismissed"
    if alert.state == AlertState.CLOSED:
        return "closed-unconfirmed"
    return "open"


def retention_order(alerts: Iterable[Alert]) -> list[tuple[Alert, EvidenceRef, str]]:
    """Every deletable evidence ref, in the order retention deletes them."""
    rows: list[tuple[tuple[int, str, int, int], Alert, EvidenceRef, str]] = []
    for a in alerts:
        tier = tier_of(a)
        if tier is None:
            continue
        for i, ref in enumerate(a.evidence):
            if not ref.removed:
                key = (TIERS.index(tier), a.t_end_utc.isoformat(), a.id, (0 if ref.kind == "clip" else 1) * 1000 + i)
                rows.append((key, a, ref, tier))
    rows.sort(key=lambda r: r[0])
    return [(a, ref, tier) for _, a, ref, tier in rows]


def enforce_retention(store: AlertStore, data_dir: Path, max_bytes: int) -> RetentionReport:
    """Delete evidence in retention order until the stored total is at most ``max_bytes``."""
    total = before = store.evidence_total_bytes()
    removed: list[RemovedEvidence] = []
    if total > max_bytes:
        for alert, ref, tier in retention_order(store.evidence_holders()):
            if total <= max_bytes:
                break
            if tier == "open" and not any(r.tier == "open" for r in removed):
                log.warning("evidence over %d bytes with dismissed/closed alerts' evidence gone: deleting evidence "
                            "of open alerts, oldest first (raise [storage] evidence_max_gb?)", max_bytes)  # fmt: skip
            store.mark_evidence_removed(alert.id, ref.path, f"retention: evidence over {max_bytes} bytes ({tier})")
            _delete(data_dir, ref.path)
            total -= ref.size_bytes
            removed.append(RemovedEvidence(alert.id, ref.path, ref.size_bytes, tier))
        total = store.evidence_total_bytes()
        if total > max_bytes:
            log.warning("evidence still %d bytes over the %d byte cap: what is left belongs to confirmed alerts, "
                        "which are never pruned; raise [storage] evidence_max_gb or archive them",
                        total - max_bytes, max_bytes)  # fmt: skip
    return RetentionReport(max_bytes, before, total, tuple(removed))


def _delete(data_dir: Path, rel: str) -> None:
    path = data_dir / rel
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("retention: could not delete %s (%s); it is marked removed, delete it by hand", path, exc)
        return
    parent, stops = path.parent, {data_dir.resolve(), (data_dir / "evidence").resolve()}
    while parent.resolve() not in stops and parent.is_relative_to(data_dir):
        try:
            parent.rmdir()  # only when empty
        except OSError:
            break
        parent = parent.parent
