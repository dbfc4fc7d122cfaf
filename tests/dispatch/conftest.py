"""Shared fixtures of the dispatch tests: a real store with a real audit log in tmp_path."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.store import AlertStore
from dispatch.types import AlertInput, EvidenceRef, Position
from lookout.audit import AuditLog

T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def make_input(event_id: str, *, kind: str = "loitering", feed: str = "gate", tracks: tuple[int, ...] = (7,),
               at_s: float = 0.0, dur_s: float = 2.0, cooldown_s: float = 60.0, severity: str = "medium",
               zone: str | None = "yard", snapshot: EvidenceRef | None = None, node: str = "") -> AlertInput:
    start = T0 + timedelta(seconds=at_s)
    return AlertInput(
        event_id=event_id, kind=kind, severity=severity, feed=feed, t_start_utc=start,
        t_end_utc=start + timedelta(seconds=dur_s), track_ids=tracks, position=Position(52.1, 4.3, 6.5), zone=zone,
        summary=f"person {tracks} {kind}", details={"dwell_s": dur_s}, cooldown_s=cooldown_s, snapshot=snapshot,
        track_path=((52.1, 4.3), (52.10001, 4.30001)), node=node,
    )  # fmt: skip


def write_evidence(data_dir: Path, rel: str, payload: bytes, kind: str = "snapshot") -> EvidenceRef:
    path = data_dir / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    mime = "image/jpeg" if kind == "snapshot" else "video/mp4"
    return EvidenceRef(kind, rel, hashlib.sha256(payload).hexdigest(), len(payload), mime)


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    with AuditLog(tmp_path / "data" / "audit.sqlite") as log:
        yield log


@pytest.fixture
def store(tmp_path: Path, audit: AuditLog) -> Iterator[AlertStore]:
    with AlertStore(tmp_path / "data" / "alerts.sqlite", audit=audit.append) as s:
        yield s


@pytest.fixture
def inputs() -> Callable[..., AlertInput]:
    return make_input


@pytest.fixture
def evidence() -> Callable[..., Any]:
    return write_evidence
