"""dispatch.store: lifecycle, permissions, dedup, evidence, change feed, corrupt files — on real SQLite files."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatch.errors import AlertError, PermissionDenied, StoreError
from dispatch.roles import Actor, Role, may
from dispatch.store import AlertStore
from dispatch.types import Alert, AlertInput, AlertState, EvidenceRef
from lookout.audit import AuditLog, verify

ADMIN = Actor("ana", Role.ADMIN)
OPERATOR = Actor("olaf", Role.OPERATOR)
PILOT = Actor("pia", Role.PILOT)
DISPATCHER = Actor("dirk", Role.DISPATCHER)

Inputs = Callable[..., AlertInput]


def test_lifecycle_new_ack_confirm_close_is_timestamped_with_users_and_audited(
    store: AlertStore, audit: AuditLog, inputs: Inputs
) -> None:
    a = store.ingest(inputs("e1"))
    assert (a.id, a.state, a.count, a.event_ids) == (1, AlertState.NEW, 1, ("e1",))
    store.acknowledge(a.id, OPERATOR, "on it")
    store.confirm(a.id, OPERATOR, "person climbing the fence")
    done = store.close(a.id, DISPATCHER, "unit 12 handled it")
    assert done is not None and done.state == AlertState.CLOSED
    hist = [(t.user, t.from_state, t.to_state, t.note) for t in done.history]
    assert hist == [
        ("olaf", AlertState.NEW, AlertState.ACKNOWLEDGED, "on it"),
        ("olaf", AlertState.ACKNOWLEDGED, AlertState.CONFIRMED, "person climbing the fence"),
        ("dirk", AlertState.CONFIRMED, AlertState.CLOSED, "unit 12 handled it"),
    ]
    assert all(t.t_utc.tzinfo is not None for t in done.history)
    assert done.history[0].t_utc <= done.history[1].t_utc <= done.history[2].t_utc
    assert len(done.notes) == 3 and "unit 12 handled it" in done.notes[2]
    rows = [(e.actor, e.action, e.subject, e.detail.get("to_state")) for e in audit.entries()]
    assert rows[0][:3] == ("lookout", "alerts.create", "alert 1")
    assert rows[1:] == [
        ("olaf", "alerts.ack", "alert 1", "acknowledged"),
        ("olaf", "alerts.confirm", "alert 1", "confirmed"),
        ("dirk", "alerts.close", "alert 1", "closed"),
    ]
    assert verify(audit.path).ok
    assert store.get(a.id) == done  # what was returned is what is stored


@pytest.mark.parametrize("verb", ["confirm", "dismiss"])
def test_confirm_or_dismiss_straight_from_new(store: AlertStore, inputs: Inputs, verb: str) -> None:
    a = store.ingest(inputs("e1"))
    after = getattr(store, verb)(a.id, OPERATOR, "seen on the camera")
    assert after.state == (AlertState.CONFIRMED if verb == "confirm" else AlertState.DISMISSED)
    assert store.close(a.id, OPERATOR).state == AlertState.CLOSED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("setup", "verb", "message"),
    [
        ([], "close", "alert 1 is new; it cannot be closed (only from confirmed or dismissed)"),
        (["acknowledge"], "acknowledge", "alert 1 is acknowledged; it cannot be acknowledged (only from new)"),
        (["confirm"], "dismiss", "alert 1 is confirmed; it cannot be dismissed"),
        (["dismiss"], "confirm", "alert 1 is dismissed; it cannot be confirmed"),
        (["dismiss", "close"], "close", "alert 1 is closed; it cannot be closed"),
    ],
)
def test_a_transition_the_state_does_not_allow_is_refused_and_changes_nothing(
    store: AlertStore, inputs: Inputs, setup: list[str], verb: str, message: str
) -> None:
    store.ingest(inputs("e1"))
    for step in setup:
        getattr(store, step)(1, ADMIN, "reason")
    before = store.get(1)
    with pytest.raises(AlertError, match=re.escape(message)):
        getattr(store, verb)(1, ADMIN, "reason")
    assert store.get(1) == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_dismiss_needs_a_reason(store: AlertStore, inputs: Inputs, reason: str) -> None:
    store.ingest(inputs("e1"))
    with pytest.raises(AlertError, match="a dismissal needs a reason"):
        store.dismiss(1, OPERATOR, reason)
    assert store.get(1).state == AlertState.NEW


def test_unknown_alert_is_one_clear_line(store: AlertStore) -> None:
    with pytest.raises(AlertError, match=r"no alert 42 in .*alerts.sqlite; `lookout alerts list` shows the ids"):
        store.acknowledge(42, ADMIN)


@pytest.mark.parametrize(
    ("actor", "verb", "allowed"),
    [
        (PILOT, "acknowledge", True), (PILOT, "confirm", False), (PILOT, "dismiss", False), (PILOT, "close", False),
        (OPERATOR, "acknowledge", True), (OPERATOR, "confirm", True), (OPERATOR, "dismiss", True),
        (DISPATCHER, "confirm", True), (DISPATCHER, "dismiss", True), (ADMIN, "confirm", True),
    ],
)  # fmt: skip
def test_store_refuses_what_the_role_may_not_do_and_audits_the_refusal(
    store: AlertStore, audit: AuditLog, inputs: Inputs, actor: Actor, verb: str, allowed: bool
) -> None:
    store.ingest(inputs("e1"))
    if verb == "close":
        store.dismiss(1, ADMIN, "wind")
    before = store.get(1)
    if allowed:
        assert getattr(store, verb)(1, actor, "why").state != before.state
        return
    with pytest.raises(PermissionDenied, match=rf"{actor.name} \({actor.role}\) may not alerts\.{verb}"):
        getattr(store, verb)(1, actor, "why")
    assert store.get(1) == before
    last = audit.entries()[-1]
    assert (last.actor, last.action, last.subject, last.detail["requested"]) == (
        actor.name, "denied", "alert 1", f"alerts.{verb}"
    )  # fmt: skip
    assert verify(audit.path).ok


def test_role_table() -> None:
    assert may(Role.PILOT, "flight.arm") and not may(Role.OPERATOR, "flight.arm")
    assert not may(Role.DISPATCHER, "flight.takeoff") and may(Role.DISPATCHER, "alerts.dispatch")
    assert not may(Role.OPERATOR, "alerts.dispatch") and not may(Role.DISPATCHER, "users.manage")
    assert may(Role.ADMIN, "users.manage") and may(Role.ADMIN, "flight.run")
    assert not may(Role.ADMIN, "no.such.action")  # deny by default
    assert Actor.local_admin().role == Role.ADMIN and Actor.local_admin().name.startswith("local:")


# ---- de-duplication (Frigate's review item) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("second", "merged"),
    [
        ({"at_s": 30.0}, True),  # same kind, feed, track, within the 60 s cooldown
        ({"at_s": 30.0, "tracks": (3, 7)}, True),  # overlapping track ids
        ({"at_s": 61.0}, True),  # 61 s after start = 59 s after the first event ended (2 s long)
        ({"at_s": 63.0}, False),  # past the cooldown
        ({"at_s": 30.0, "tracks": (8,)}, True),  # another person in the same zone, nobody has decided yet
        ({"at_s": 30.0, "tracks": (8,), "zone": "pier"}, False),  # another person elsewhere
        ({"at_s": 30.0, "tracks": (8,), "zone": None}, False),  # another person, no zone
        ({"at_s": 30.0, "kind": "zone_entry"}, False),
        ({"at_s": 30.0, "feed": "pier"}, False),
        ({"at_s": 30.0, "tracks": (), "zone": "yard"}, True),  # no track, same zone, undecided
        ({"at_s": 30.0, "tracks": (), "zone": "pier"}, False),  # first has tracks, this one none elsewhere
    ],
)
def test_same_kind_feed_and_track_within_cooldown_updates_one_alert(
    store: AlertStore, inputs: Inputs, second: dict[str, Any], merged: bool
) -> None:
    first = store.ingest(inputs("e1"))
    again = store.ingest(inputs("e2", severity="high", **second))
    if merged:
        assert again.id == first.id and again.count == 2 and again.event_ids == ("e1", "e2")
        assert again.t_end_utc > first.t_end_utc and again.severity == "high"
        assert len(store.list()) == 1
    else:
        assert again.id != first.id and again.count == 1 and len(store.list()) == 2


def test_another_person_in_the_zone_after_a_decision_raises_a_new_alert(store: AlertStore, inputs: Inputs) -> None:
    first = store.ingest(inputs("e1"))
    store.confirm(first.id, OPERATOR)
    again = store.ingest(inputs("e2", at_s=30.0, tracks=(8,)))
    assert again.id != first.id and again.state == AlertState.NEW
    assert store.ingest(inputs("e3", at_s=31.0, tracks=(7,))).id == first.id  # the confirmed person continues


def test_twenty_events_of_one_person_make_one_alert(store: AlertStore, inputs: Inputs) -> None:
    for i in range(20):
        store.ingest(inputs(f"e{i}", at_s=10.0 * i))
    [alert] = store.list()
    assert alert.count == 20 and len(alert.event_ids) == 20


def test_a_closed_alert_is_not_reopened_by_a_new_event(store: AlertStore, inputs: Inputs) -> None:
    store.ingest(inputs("e1"))
    store.dismiss(1, OPERATOR, "cleaner")
    assert store.ingest(inputs("e2", at_s=5)).id == 1  # dismissed: stays one (dismissed) alert
    store.close(1, OPERATOR)
    assert store.ingest(inputs("e3", at_s=10)).id == 2


def test_the_same_event_delivered_twice_is_stored_once(store: AlertStore, audit: AuditLog, inputs: Inputs) -> None:
    a = store.ingest(inputs("e1"))
    n = len(audit.entries())
    assert store.ingest(inputs("e1")) == a
    assert len(audit.entries()) == n


def test_groups_without_tracks_merge_by_zone(store: AlertStore, inputs: Inputs) -> None:
    a = store.ingest(inputs("c1", kind="crowd", tracks=()))
    assert store.ingest(inputs("c2", kind="crowd", tracks=(), at_s=20)).id == a.id
    assert store.ingest(inputs("c3", kind="crowd", tracks=(), at_s=20, zone="pier")).id != a.id


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": "urgent"}, "severity 'urgent' is not one of low, medium, high"),
        ({"event_id": ""}, "empty event_id"),
        ({"cooldown_s": -1.0}, "cooldown_s must be >= 0"),
        ({"t_start_utc": "naive"}, "must be a timezone-aware datetime"),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(
    store: AlertStore, inputs: Inputs, change: dict[str, Any], message: str
) -> None:
    from dataclasses import replace

    inp = inputs("e1")
    if change.get("t_start_utc") == "naive":
        change = {"t_start_utc": inp.t_start_utc.replace(tzinfo=None)}
    with pytest.raises(AlertError, match=message):
        store.ingest(replace(inp, **change))
    assert store.list() == [] and store.latest_version() == 0


# ---- evidence ---------------------------------------------------------------------------------------------
def test_evidence_refs_with_sha256_are_stored_and_audited(
    tmp_path: Path, store: AlertStore, audit: AuditLog, inputs: Inputs, evidence: Any
) -> None:
    data = tmp_path / "data"
    snap = evidence(data, "evidence/2026-06-01/e1/snapshot.jpg", b"\xff\xd8jpeg")
    a = store.ingest(inputs("e1", snapshot=snap))
    assert a.snapshot == snap
    clip = evidence(data, "evidence/2026-06-01/e1/clip.mp4", b"mp4" * 100, kind="clip")
    after = store.attach_evidence("e1", clip)
    assert after is not None and after.evidence == (snap, clip) and after.clip == clip
    assert store.attach_evidence("e1", clip) == after  # idempotent
    assert store.attach_evidence("no-such-event", clip) is None
    assert store.evidence_total_bytes() == snap.size_bytes + clip.size_bytes
    ev = [e for e in audit.entries() if e.action == "alerts.evidence"]
    assert [(e.detail["sha256"], e.detail["path"]) for e in ev] == [(clip.sha256, clip.path)]
    created = next(e for e in audit.entries() if e.action == "alerts.create")
    assert created.detail["sha256"] == snap.sha256


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (EvidenceRef("clip", "evidence/a.mp4", "abc", 3, "video/mp4"), "sha256 must be 64 lowercase hex"),
        (EvidenceRef("clip", "/etc/passwd", "0" * 64, 3, "video/mp4"), "must be relative to the data directory"),
        (EvidenceRef("clip", "../x.mp4", "0" * 64, 3, "video/mp4"), "must be relative to the data directory"),
    ],
)
def test_bad_evidence_ref_is_refused(store: AlertStore, inputs: Inputs, ref: EvidenceRef, message: str) -> None:
    store.ingest(inputs("e1"))
    with pytest.raises(AlertError, match=message):
        store.attach_evidence("e1", ref)
    assert store.get(1).evidence == ()


# ---- change feed and the on_change hook -------------------------------------------------------------------
def test_changes_since_returns_each_write_once_in_order(store: AlertStore, inputs: Inputs) -> None:
    v0, first = store.changes_since(0)
    assert (v0, first) == (0, [])
    store.ingest(inputs("e1"))
    store.ingest(inputs("e2", tracks=(9,), zone="pier"))
    v, changed = store.changes_since(0)
    assert [a.id for a in changed] == [1, 2]
    store.acknowledge(1, OPERATOR)
    v2, changed = store.changes_since(v)
    assert [(a.id, a.state) for a in changed] == [(1, AlertState.ACKNOWLEDGED)] and v2 > v
    assert store.changes_since(v2) == (v2, [])
    v3, page = store.changes_since(0, limit=1)  # alert 2 was written before alert 1's acknowledgement
    assert ([a.id for a in page], v3) == ([2], page[0].version)
    assert [a.id for a in store.changes_since(v3)[1]] == [1]
    plan = store._read("EXPLAIN QUERY PLAN SELECT id FROM alerts WHERE version > 5 ORDER BY version")
    assert "alerts_by_version" in " ".join(str(r) for r in plan)  # an index range scan, not a table scan


def test_on_change_runs_inside_the_transaction(tmp_path: Path, inputs: Inputs) -> None:
    seen: list[tuple[int, AlertState, AlertState | None, int]] = []

    def hook(conn: sqlite3.Connection, after: Alert, before: Alert | None) -> None:
        assert conn.in_transaction
        rows = conn.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]  # sees its own uncommitted row
        seen.append((after.id, after.state, before.state if before else None, rows))

    with AlertStore(tmp_path / "alerts.sqlite", on_change=hook) as s:
        s.ingest(inputs("e1"))
        s.acknowledge(1, ADMIN)
    assert seen == [(1, AlertState.NEW, None, 1), (1, AlertState.ACKNOWLEDGED, AlertState.NEW, 1)]


def test_a_failing_on_change_or_audit_leaves_nothing_written(tmp_path: Path, inputs: Inputs) -> None:
    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("outbox full")

    with AlertStore(tmp_path / "alerts.sqlite", on_change=boom) as s, pytest.raises(RuntimeError):
        s.ingest(inputs("e1"))
    with AlertStore(tmp_path / "alerts.sqlite", audit=boom) as s:
        with pytest.raises(RuntimeError):
            s.ingest(inputs("e1"))
        assert s.list() == [] and s.find_by_event("e1") is None


def test_alerts_survive_a_restart(tmp_path: Path, inputs: Inputs) -> None:
    with AlertStore(tmp_path / "alerts.sqlite") as s:
        a = s.ingest(inputs("e1"))
        a = s.confirm(a.id, ADMIN, "real")
    with AlertStore(tmp_path / "alerts.sqlite") as s:
        assert s.get(a.id) == a and s.find_by_event("e1") == a
        assert s._read("PRAGMA journal_mode")[0][0] == "wal"
        assert s._read("PRAGMA synchronous")[0][0] == 2  # FULL


def test_alert_json_round_trip(store: AlertStore, inputs: Inputs) -> None:
    a = store.acknowledge(store.ingest(inputs("e1")).id, OPERATOR, "x")
    assert Alert.from_json(a.to_json()) == a


# ---- bad files ---------------------------------------------------------------------------------------------
def test_a_corrupt_database_file_is_one_clear_line_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    junk = b"this is not sqlite at all\x00" * 200
    path.write_bytes(junk)
    with pytest.raises(StoreError) as err:
        AlertStore(path)
    msg = str(err.value)
    assert msg == (
        f"{path} is not a Lookout alert database (file is not a database); move it aside and Lookout starts a new one"
    )
    assert path.read_bytes() == junk and sorted(p.name for p in tmp_path.iterdir()) == ["alerts.sqlite"]


def test_a_database_locked_by_another_process_is_waited_for_never_called_foreign(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    AlertStore(path).close_db()
    other = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)  # another process ...
    other.execute("PRAGMA journal_mode=DELETE")  # ... switching the file's journal mode ...
    other.execute("BEGIN EXCLUSIVE")  # ... and holding it: readers are locked out
    with pytest.raises(StoreError) as err:
        AlertStore(path, busy_timeout_s=0.3)
    assert str(err.value) == (f"{path}: the alert database stays locked by another process after 0.3 s; "
                              "close the other Lookout process or try again")  # fmt: skip
    threading.Timer(0.5, other.execute, ("COMMIT",)).start()  # the lock goes away while the store waits
    with AlertStore(path, busy_timeout_s=2.0) as store:
        assert store.list() == []
    other.close()


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite") as log:
        log.append("x", "y", "z")
    with pytest.raises(StoreError, match=r"is not a Lookout alert database .*no schema_migrations table"):
        AlertStore(tmp_path / "audit.sqlite")
