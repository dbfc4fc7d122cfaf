"""``lookout alerts`` end to end on real files: list/show, transitions as users, audit chain, export hash check."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.store import AlertStore
from dispatch.types import AlertInput, EvidenceRef, Position
from lookout.audit import AuditLog
from lookout.cli import main

T0 = datetime(2026, 6, 1, 21, 30, tzinfo=UTC)


def _ref(data: Path, rel: str, payload: bytes, kind: str) -> EvidenceRef:
    (data / rel).parent.mkdir(parents=True, exist_ok=True)
    (data / rel).write_bytes(payload)
    mime = "image/jpeg" if kind == "snapshot" else "video/mp4"
    return EvidenceRef(kind, rel, hashlib.sha256(payload).hexdigest(), len(payload), mime)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding two alerts (as lookout.alerting leaves them), each with a snapshot and a clip."""
    for var in ("LOOKOUT_PASSWORD", "LOOKOUT_NEW_PASSWORD", "LOOKOUT_USER", "LOOKOUT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    d = tmp_path / "data"
    with AuditLog(d / "audit.sqlite") as audit, AlertStore(d / "alerts.sqlite", audit=audit.append) as store:
        for i, (kind, sev) in enumerate([("door_handle_trying", "high"), ("loitering", "low")], start=1):
            eid = f"ev{i}"
            snap = _ref(d, f"evidence/2026-06-01/{eid}/snapshot.jpg", b"\xff\xd8 snapshot %d" % i, "snapshot")
            t = T0 + timedelta(minutes=i)
            store.ingest(AlertInput(eid, kind, sev, "carpark", t, t + timedelta(seconds=9), (i,),
                                    Position(52.37, 4.89, 4.0), "row-b", f"person {i} {kind}", {}, 60.0,
                                    snapshot=snap, node="node-1"))  # fmt: skip
            clip = _ref(d, f"evidence/2026-06-01/{eid}/clip.mp4", b"\x00\x00\x00\x18ftypmp42 clip %d" % i * 50, "clip")
            store.attach_evidence(eid, clip)
    return d


def lookout(data: Path, *argv: str) -> int:
    return main(["--data-dir", str(data), *argv])


def test_list_and_show_without_users_run_as_local_admin(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lookout(data, "alerts", "list") == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "loitering" in out[0] and "door_handle_trying" in out[1]  # newest first
    assert lookout(data, "alerts", "list", "--json", "--state", "new") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [2, 1] and rows[1]["severity"] == "high"
    assert rows[1]["position"] == {"lat_deg": 52.37, "lon_deg": 4.89, "accuracy_m": 4.0}
    assert lookout(data, "alerts", "show", "1") == 0
    text = capsys.readouterr().out
    assert "alert 1: door_handle_trying (high) on carpark zone row-b -- new" in text and "clip.mp4" in text
    assert lookout(data, "alerts", "show", "1", "--json") == 0
    assert json.loads(capsys.readouterr().out)["evidence"][1]["kind"] == "clip"
    assert lookout(data, "alerts", "ack", "1") == 0
    assert "alert 1: acknowledged by local:" in capsys.readouterr().out


def test_transitions_as_users_are_audited_and_the_chain_verifies(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOOKOUT_PASSWORD", "admin-secret")
    assert lookout(data, "users", "add", "ana", "--role", "admin") == 0
    for name, role in (("olaf", "operator"), ("pia", "pilot")):
        monkeypatch.setenv("LOOKOUT_NEW_PASSWORD", f"{name}-secret")
        assert lookout(data, "users", "add", name, "--role", role, "--user", "ana") == 0
    capsys.readouterr()

    assert lookout(data, "alerts", "ack", "1") == 1  # users exist now: nobody is anonymous
    assert "say who you are with --user NAME" in capsys.readouterr().err
    monkeypatch.setenv("LOOKOUT_PASSWORD", "wrong-password")
    assert lookout(data, "alerts", "ack", "1", "--user", "olaf") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"lookout alerts: error: user olaf: unknown user or wrong password ({data / 'users.json'}); "
                   "nothing was done"]  # fmt: skip

    monkeypatch.setenv("LOOKOUT_PASSWORD", "olaf-secret")
    assert lookout(data, "alerts", "ack", "1", "--user", "olaf") == 0
    assert lookout(data, "alerts", "--user", "olaf", "confirm", "1", "--note", "seen trying three doors") == 0
    assert lookout(data, "alerts", "dismiss", "2", "--reason", "a parking attendant", "--user", "olaf") == 0
    assert lookout(data, "alerts", "close", "1", "--user", "olaf") == 0
    out = capsys.readouterr().out
    assert "alert 1: closed by olaf" in out and "alert 2: dismissed by olaf" in out

    monkeypatch.setenv("LOOKOUT_PASSWORD", "pia-secret")
    assert lookout(data, "alerts", "close", "2", "--user", "pia") == 1  # a pilot may not close alerts
    assert "pia (pilot) may not alerts.close on alert 2" in capsys.readouterr().err
    monkeypatch.setenv("LOOKOUT_PASSWORD", "olaf-secret")
    assert lookout(data, "alerts", "close", "1", "--user", "olaf") == 1  # already closed: one clear line
    assert "alert 1 is closed; it cannot be closed" in capsys.readouterr().err

    with AlertStore(data / "alerts.sqlite") as store:
        a1, a2 = store.get(1), store.get(2)
    assert [(t.user, t.to_state) for t in a1.history] == [("olaf", "acknowledged"), ("olaf", "confirmed"),
                                                          ("olaf", "closed")]  # fmt: skip
    assert a2.state == "dismissed" and a2.history[-1].note == "a parking attendant"
    with AuditLog(data / "audit.sqlite") as audit:
        entries = audit.entries()
    actions = [(e.actor, e.action, e.subject) for e in entries]
    assert ("olaf", "alerts.confirm", "alert 1") in actions and ("pia", "denied", "alert 2") in actions
    assert ("olaf", "login.failed", "user olaf") in actions
    assert lookout(data, "audit", "verify") == 0
    assert "chain intact" in capsys.readouterr().out


def test_dismiss_needs_a_reason_on_the_command_line(data: Path) -> None:
    with pytest.raises(SystemExit) as info:
        lookout(data, "alerts", "dismiss", "1")
    assert info.value.code == 2


def test_export_copies_the_alert_and_its_evidence_with_checked_hashes(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "case-1"
    assert lookout(data, "alerts", "export", "1", "-o", str(out)) == 0
    assert "alert 1: exported 4 files" in capsys.readouterr().out
    alert = json.loads((out / "alert.json").read_text())
    assert alert["id"] == 1 and len(alert["evidence"]) == 2
    for ref in alert["evidence"]:
        assert hashlib.sha256((out / ref["path"]).read_bytes()).hexdigest() == ref["sha256"]
    sums = (out / "SHA256SUMS").read_text().splitlines()
    assert sums == [f"{r['sha256']}  {r['path']}" for r in alert["evidence"]]
    assert lookout(data, "alerts", "export", "1", "-o", str(out)) == 1  # never overwrites an export
    assert "already holds an exported alert" in capsys.readouterr().err


def test_export_of_a_tampered_evidence_file_is_an_error_naming_it_and_writes_nothing(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = data / "evidence/2026-06-01/ev2/clip.mp4"
    clip.write_bytes(clip.read_bytes().replace(b"clip", b"CLIP", 1))
    out = tmp_path / "case-2"
    assert lookout(data, "alerts", "export", "2", "-o", str(out)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"evidence file {clip} does not match its stored hash" in err[0]
    assert not out.exists()
    clip.unlink()
    assert lookout(data, "alerts", "export", "2", "-o", str(out)) == 1
    assert f"evidence file {clip} is missing" in capsys.readouterr().err


def test_unknown_alert_and_corrupt_database_are_one_line(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lookout(data, "alerts", "show", "99") == 1
    assert capsys.readouterr().err.strip().endswith("no alert 99 in " + str(data / "alerts.sqlite")
                                                    + "; `lookout alerts list` shows the ids")  # fmt: skip
    db = data / "alerts.sqlite"
    for side in (data / "alerts.sqlite-wal", data / "alerts.sqlite-shm"):
        side.unlink(missing_ok=True)
    db.write_bytes(b"garbage" * 1000)
    assert lookout(data, "alerts", "list") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"lookout alerts: error: {db} is not a Lookout alert database (file is not a database); "
                   "move it aside and Lookout starts a new one"]  # fmt: skip
    assert db.read_bytes() == b"garbage" * 1000


def test_prune_applies_retention_now_admin_only(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert lookout(data, "alerts", "dismiss", "2", "--reason", "staff") == 0
    assert lookout(data, "alerts", "confirm", "1") == 0
    capsys.readouterr()
    stale, fresh = data / "evidence/2026-06-01/ev9/.clip.partial-dead.mp4", data / "evidence/.clip.partial-live.mp4"
    for f in (stale, fresh):  # a writer killed mid-clip an hour ago, and one encoding right now
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"half")
    os.utime(stale, (stale.stat().st_atime - 3600, stale.stat().st_mtime - 3600))
    assert lookout(data, "alerts", "prune", "--max-gb", "0.000000001") == 0  # 1 byte: all but confirmed evidence
    out = capsys.readouterr().out
    assert "2 files deleted, 1 half-written files removed; still over the cap" in out
    assert not stale.exists() and fresh.exists()
    assert not (data / "evidence/2026-06-01/ev2").exists() and (data / "evidence/2026-06-01/ev1/clip.mp4").exists()
    monkeypatch.setenv("LOOKOUT_PASSWORD", "admin-secret")
    assert lookout(data, "users", "add", "ana", "--role", "admin") == 0
    monkeypatch.setenv("LOOKOUT_NEW_PASSWORD", "dirk-secret")
    assert lookout(data, "users", "add", "dirk", "--role", "dispatcher", "--user", "ana") == 0
    monkeypatch.setenv("LOOKOUT_PASSWORD", "dirk-secret")
    assert lookout(data, "alerts", "prune", "--user", "dirk") == 1
    assert "dirk (dispatcher) may not alerts.prune" in capsys.readouterr().err
