"""dispatch.retention: evidence capped by size, dismissed first, never a confirmed alert's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dispatch.retention import enforce_retention
from dispatch.roles import Actor, Role
from dispatch.store import AlertStore
from dispatch.types import AlertInput
from lookout.audit import AuditLog, verify

ADMIN = Actor("ana", Role.ADMIN)
KB = 1000


def _alert(store: AlertStore, data: Path, evidence: Any, inputs: Callable[..., AlertInput], n: int) -> int:
    """Alert n (older for smaller n) with a 1 kB snapshot and a 10 kB clip."""
    eid = f"e{n}"
    snap = evidence(data, f"evidence/2026-06-01/{eid}/snapshot.jpg", bytes([n]) * KB)
    a = store.ingest(inputs(eid, tracks=(n,), at_s=100.0 * n, snapshot=snap))
    store.attach_evidence(eid, evidence(data, f"evidence/2026-06-01/{eid}/clip.mp4", bytes([n]) * 10 * KB, "clip"))
    return a.id


def test_retention_deletes_dismissed_then_closed_unconfirmed_then_open_never_confirmed(
    tmp_path: Path, store: AlertStore, audit: AuditLog, evidence: Any, inputs: Callable[..., AlertInput]
) -> None:
    data = tmp_path / "data"
    ids = {name: _alert(store, data, evidence, inputs, n) for n, name in enumerate(
        ["confirmed_old", "closed_confirmed", "open_old", "dismissed_new", "closed_dismissed", "ack_new"], start=1)}
    store.confirm(ids["confirmed_old"], ADMIN, "real")
    store.confirm(ids["closed_confirmed"], ADMIN, "real")
    store.close(ids["closed_confirmed"], ADMIN)
    store.dismiss(ids["dismissed_new"], ADMIN, "a cat")
    store.dismiss(ids["closed_dismissed"], ADMIN, "wind")
    store.close(ids["closed_dismissed"], ADMIN)
    store.acknowledge(ids["ack_new"], ADMIN)
    assert store.evidence_total_bytes() == 6 * 11 * KB

    # cap 50 kB: 16 kB must go -> the dismissed alert's clip+snapshot (11 kB), then the closed-dismissed clip
    report = enforce_retention(store, data, 50 * KB)
    assert [(r.alert_id, Path(r.path).name, r.tier) for r in report.removed] == [
        (ids["dismissed_new"], "clip.mp4", "dismissed"),
        (ids["dismissed_new"], "snapshot.jpg", "dismissed"),
        (ids["closed_dismissed"], "clip.mp4", "closed-unconfirmed"),
    ]
    assert (report.total_before, report.total_after) == (66 * KB, 45 * KB) and not report.over_cap
    assert not (data / "evidence/2026-06-01/e4").exists()  # the emptied event folder is gone too
    assert not (data / "evidence/2026-06-01/e5/clip.mp4").exists()
    assert (data / "evidence/2026-06-01/e5/snapshot.jpg").exists()
    gone = store.get(ids["dismissed_new"])
    assert [e.removed for e in gone.evidence] == [True, True] and gone.snapshot is None
    removals = [e for e in audit.entries() if e.action == "alerts.evidence_removed"]
    assert [(e.subject, e.detail["path"].rsplit("/", 1)[1]) for e in removals] == [
        (f"alert {ids['dismissed_new']}", "clip.mp4"), (f"alert {ids['dismissed_new']}", "snapshot.jpg"),
        (f"alert {ids['closed_dismissed']}", "clip.mp4"),
    ]  # fmt: skip
    assert all("retention" in e.detail["reason"] for e in removals) and verify(audit.path).ok

    # a tiny cap: everything but confirmed alerts' evidence goes, open alerts oldest first; cap stays exceeded
    report = enforce_retention(store, data, 1)
    assert [r.alert_id for r in report.removed if r.tier == "open"] == [ids["open_old"]] * 2 + [ids["ack_new"]] * 2
    assert report.over_cap and report.total_after == 22 * KB
    for name in ("confirmed_old", "closed_confirmed"):
        a = store.get(ids[name])
        assert not any(e.removed for e in a.evidence)
        assert all((data / e.path).exists() for e in a.evidence)


def test_the_store_enforces_the_cap_after_attaching_evidence(
    tmp_path: Path, audit: AuditLog, evidence: Any, inputs: Callable[..., AlertInput]
) -> None:
    data = tmp_path / "data"
    with AlertStore(data / "alerts.sqlite", audit=audit.append, evidence_max_bytes=25 * KB) as store:
        first = _alert(store, data, evidence, inputs, 1)
        store.dismiss(first, ADMIN, "shadow")
        _alert(store, data, evidence, inputs, 2)
        assert store.evidence_total_bytes() == 22 * KB
        _alert(store, data, evidence, inputs, 3)  # 33 kB > 25 kB: the dismissed alert's clip goes, that is enough
        assert store.evidence_total_bytes() == 23 * KB
        assert [(e.kind, e.removed) for e in store.get(first).evidence] == [("snapshot", False), ("clip", True)]
        assert not (data / "evidence/2026-06-01/e1/clip.mp4").exists()
        assert (data / "evidence/2026-06-01/e1/snapshot.jpg").exists()
