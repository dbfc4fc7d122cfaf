"""lookout.alerting: events and evidence from the bus become stored alerts with verified evidence files;
``lookout detect --alerts`` on a real clip leaves alerts an operator can confirm (the issue's Done-when)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from dispatch.store import AlertStore
from lookout.alerting import AlertIngest
from lookout.audit import AuditLog
from vision.behaviours import Event
from vision.bus import InProcessBus
from vision.evidence import EvidenceRecorder
from vision.messages import EventMessage, EvidenceMessage, Topics
from vision.types import CameraPose

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
POSE = CameraPose(52.1, 4.3, 60.0, 40.0, 0.0, -45.0, 90.0, 70.0)
FOOTAGE = Path(__file__).resolve().parents[2].parent / "shared" / "footage"
CLIP = FOOTAGE / "nofight" / "dev_nofi026_night_group_walking.mp4"


def _event(k: int = 0, track: int = 3, zone: str = "door") -> Event:
    return Event(kind="zone_entry", severity="medium", feed="gate", t_start_utc=T0 + timedelta(seconds=k),
                 t_end_utc=T0 + timedelta(seconds=k), frame_index=k, track_ids=(track,), xy_px=(120.0, 200.0),
                 box_xyxy=(100.0, 100.0, 140.0, 200.0), score=0.9, zone=zone,
                 summary=f"person {track} entered restricted zone {zone!r}")  # fmt: skip


def _evidence(node_dir: Path, event: Event) -> tuple:
    """A real snapshot and clip of ``event`` written by vision.evidence under ``node_dir``."""
    clips = []
    rec = EvidenceRecorder("gate", node_dir / "evidence", pre_s=0.5, post_s=0.5, on_ready=clips.append)
    img = np.full((120, 160, 3), 80, np.uint8)
    for i in range(12):
        rec.push(img, event.t_end_utc + timedelta(seconds=(i - 6) / 10))
    snap = rec.snapshot(event.id, img, event.t_end_utc)
    rec.request_clip(event.id, event.t_end_utc)
    rec.close()
    return snap, clips[0]


@pytest.fixture
def ingest(tmp_path: Path):
    data = tmp_path / "data"
    audit = AuditLog(tmp_path / "data" / "audit.sqlite")
    store = AlertStore(data / "alerts.sqlite", audit=audit.append)
    bus = InProcessBus()
    ing = AlertIngest(store, data, cooldown_s=30.0).attach(bus)
    yield ing, bus, audit
    bus.close()
    ing.close()
    store.close_db()
    audit.close()


def test_an_event_and_its_clip_on_this_machine_make_one_alert_with_both_files(ingest, tmp_path: Path) -> None:
    ing, bus, audit = ingest
    ev = _event()
    snap, clip = _evidence(tmp_path / "data", ev)  # the same data dir: files are referenced where they are
    bus.publish(Topics().events, EventMessage(ev, POSE, None, snap, None, "node-1", ((52.1, 4.3), (52.2, 4.4))))
    bus.publish(Topics().evidence, EvidenceMessage(clip, None, "node-1"))
    assert bus.flush()
    [alert] = ing.store.list()
    assert (alert.kind, alert.feed, alert.zone, alert.event_ids, alert.node) == ("zone_entry", "gate", "door",
                                                                                  (ev.id,), "node-1")  # fmt: skip
    assert alert.details["pose"]["pitch_deg"] == -45.0 and alert.details["xy_px"] == [120.0, 200.0]
    assert alert.track_path == ((52.1, 4.3), (52.2, 4.4))
    kinds = {r.kind: r for r in alert.evidence}
    assert set(kinds) == {"snapshot", "clip"}
    for ref, f in ((kinds["snapshot"], snap), (kinds["clip"], clip)):
        assert (tmp_path / "data" / ref.path).resolve() == f.path.resolve() and ref.sha256 == f.sha256
    assert ing.stats.evidence_copied == 0 and ing.stats.alerts_new == 1
    actions = [e.action for e in audit.entries()]
    assert "alerts.create" in actions and "alerts.evidence" in actions


def test_remote_evidence_bytes_are_verified_and_written_into_this_data_dir(ingest, tmp_path: Path) -> None:
    ing, bus, _ = ingest
    ev = _event()
    snap, clip = _evidence(tmp_path / "node", ev)  # another machine's disk
    bus.publish(Topics().evidence, EvidenceMessage(clip, clip.path.read_bytes(), "node-1"))  # before its event
    bus.publish(Topics().events, EventMessage(ev, None, None, snap, snap.path.read_bytes(), "node-1"))
    assert bus.flush()
    [alert] = ing.store.list()
    assert {r.kind for r in alert.evidence} == {"snapshot", "clip"}
    for ref in alert.evidence:
        local = tmp_path / "data" / ref.path
        assert ref.path.startswith("evidence/") and local.is_file()
        assert hashlib.sha256(local.read_bytes()).hexdigest() == ref.sha256
    assert ing.stats.evidence_copied == 2
    assert not list((tmp_path / "data").rglob("*.partial"))


def test_bytes_that_do_not_match_their_hash_are_refused(ingest, tmp_path: Path, caplog) -> None:
    ing, bus, _ = ingest
    ev = _event()
    snap, clip = _evidence(tmp_path / "node", ev)
    bad = bytearray(clip.path.read_bytes())
    bad[100] ^= 0xFF
    bus.publish(Topics().events, EventMessage(ev, None, None, snap, None, "node-1"))  # not here, no bytes
    bus.publish(Topics().evidence, EvidenceMessage(clip, bytes(bad), "node-1"))
    assert bus.flush()
    [alert] = ing.store.list()
    assert alert.evidence == () and ing.stats.evidence_refused == 2
    assert "bytes do not match" in caplog.text and "carries no bytes" in caplog.text
    assert not (tmp_path / "data" / "evidence").exists()


def test_a_redelivered_event_changes_nothing_and_a_continued_track_updates_its_alert(ingest) -> None:
    ing, bus, _ = ingest
    first = _event(0)
    for msg in (EventMessage(first), EventMessage(first), EventMessage(_event(5))):  # QoS 1: at least once
        bus.publish(Topics().events, msg)
    bus.publish(Topics().events, EventMessage(_event(6, track=9, zone="pier")))  # another person elsewhere
    assert bus.flush()
    alerts = ing.store.list()
    assert sorted(a.count for a in alerts) == [1, 2]
    assert (ing.stats.events, ing.stats.alerts_new, ing.stats.alerts_updated) == (4, 2, 1)


def _run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lookout", *args], capture_output=True, text=True, env=env,
                          timeout=600)  # fmt: skip


@pytest.mark.slow
def test_done_when_a_real_clip_through_detect_alerts_leaves_confirmable_alerts_with_playable_clips(
    tmp_path: Path,
) -> None:
    if not CLIP.exists():
        pytest.skip(f"shared footage absent ({CLIP}); it is optional data")
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed (scripts/setup installs ffmpeg)")
    data = tmp_path / "data"
    cfg = tmp_path / "lookout.toml"
    cfg.write_text('[zones.street]\ncamera = "*"\nkind = "restricted"\nnormalized = true\n'
                   "polygon = [[0, 0], [1, 0], [1, 1], [0, 1]]\n")  # fmt: skip
    env = {**os.environ, "LOOKOUT_DATA": str(data), "LOOKOUT_CONFIG": str(cfg)}
    env.pop("LOOKOUT_USER", None)
    # the suite's ONNX export cache, so the model is not exported again
    models = Path(os.environ["LOOKOUT_DATA"]) / "models"
    if models.is_dir():
        shutil.copytree(models, data / "models")
    r = _run("detect", str(CLIP), "--json", "--alerts", "--feed", "street", env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    events = [x for x in lines if x["type"] == "event"]
    assert events and {e["kind"] for e in events} == {"zone_entry"}
    assert "new alert(s)" in r.stderr
    r = _run("alerts", "list", "--json", env=env)
    assert r.returncode == 0, r.stderr
    alerts = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert alerts and sum(len(a["event_ids"]) for a in alerts) == len(events)
    for a in alerts:
        kinds = sorted(e["kind"] for e in a["evidence"])
        assert kinds.count("clip") == kinds.count("snapshot") == len(a["event_ids"]), a  # each event's own
        for e in a["evidence"]:
            path = data / e["path"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == e["sha256"]
            assert path.stat().st_size == e["size_bytes"]
            if e["kind"] == "clip":
                probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
                                        "-show_entries", "stream=codec_name,nb_read_frames", "-of", "json", str(path)],
                                       capture_output=True, text=True, timeout=60)  # fmt: skip
                assert probe.returncode == 0, probe.stderr
                assert int(json.loads(probe.stdout)["streams"][0]["nb_read_frames"]) > 10
    first = alerts[-1]["id"]
    r = _run("alerts", "confirm", str(first), "--note", "seen on the clip", env=env)
    assert r.returncode == 0, r.stderr
    r = _run("alerts", "show", str(first), "--json", env=env)
    assert json.loads(r.stdout)["state"] == "confirmed"
    with AuditLog(data / "audit.sqlite") as audit:
        actions = [(e.action, e.subject) for e in audit.entries()]
    assert ("alerts.create", f"alert {first}") in actions
    assert any(a.startswith("alerts.confirm") and s == f"alert {first}" for a, s in actions), actions
    r = _run("audit", "verify", env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_detect_alerts_needs_tracked_video_one_line(capsys) -> None:
    import importlib.util

    from lookout.cli import main

    assets = Path(next(iter(importlib.util.find_spec("ultralytics").submodule_search_locations))) / "assets"
    assert main(["detect", str(assets / "bus.jpg"), "--alerts"]) == 1
    err = capsys.readouterr().err
    assert "--alerts needs tracked video" in err and len(err.strip().splitlines()) == 1


def test_detect_alerts_with_a_corrupt_store_is_one_line_before_any_model_loads(tmp_path: Path, monkeypatch,
                                                                               capsys) -> None:  # fmt: skip
    import cv2

    from lookout.cli import main

    clip = tmp_path / "still.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (64, 48))
    for _ in range(3):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    data = tmp_path / "data"
    data.mkdir()
    (data / "alerts.sqlite").write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("LOOKOUT_DATA", str(data))
    monkeypatch.setattr("lookout.commands.detect.build_detector", lambda *a, **k: pytest.fail("a model was loaded"))
    assert main(["detect", str(clip), "--alerts", "--json"]) == 1
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1
    assert "alerts.sqlite is not a Lookout alert database" in out.err
    assert (data / "alerts.sqlite").read_bytes() == b"this is not a database" * 100  # untouched


def test_opening_the_alert_ingest_sweeps_what_a_killed_writer_left(tmp_path: Path) -> None:
    from lookout.config import LookoutConfig

    stale = tmp_path / "evidence" / "2026-06-01" / "ev1" / ".clip.mp4.partial"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a clip")
    os.utime(stale, (stale.stat().st_atime - 3600, stale.stat().st_mtime - 3600))
    kept = stale.with_name("snapshot.jpg")
    kept.write_bytes(b"jpeg")
    ingest = AlertIngest.open(tmp_path, LookoutConfig())
    try:
        assert not stale.exists() and kept.exists()
    finally:
        ingest.close()
