"""A writer process killed with SIGKILL at arbitrary points: no committed alert lost, none half-written."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dispatch.store import AlertStore

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    from dispatch.errors import AlertError
    from dispatch.roles import Actor, Role
    from dispatch.store import AlertStore
    from dispatch.types import AlertInput, EvidenceRef, Position

    db, prefix = Path(sys.argv[1]), sys.argv[2]
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    admin = Actor("ana", Role.ADMIN)
    with AlertStore(db) as store:
        for i in range(100000):
            track = i % 5  # five people, so some events merge into open alerts and some raise new ones
            eid = f"{prefix}-{i}"
            t = t0 + timedelta(seconds=i)
            inp = AlertInput(eid, "loitering", "medium", "gate", t, t + timedelta(seconds=1), (track,),
                             Position(52.0, 4.0, 5.0), "yard", "s", {"i": i}, 3.0)
            alert = store.ingest(inp)
            store.attach_evidence(eid, EvidenceRef("clip", f"evidence/{eid}.mp4", "%064x" % i, 100 + i, "video/mp4"))
            if i % 7 == 0 and alert.state == "new":
                try:
                    store.acknowledge(alert.id, admin, "seen")
                except AlertError:  # another writer process acknowledged it first
                    pass
            print(eid, alert.id, flush=True)  # only after ingest returned: this event is acknowledged
    """
)


def _start_writer(script: Path, db: Path, prefix: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, str(script), str(db), prefix], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip


def _read_acks(proc: subprocess.Popen[str], n: int, acknowledged: dict[str, int]) -> None:
    """The writer's next ``n`` acknowledged events (event id -> alert id) into ``acknowledged``."""
    assert proc.stdout is not None
    for _ in range(n):
        line = proc.stdout.readline()
        assert line, f"writer died early: {proc.stderr.read() if proc.stderr else ''}"
        eid, alert_id = line.split()
        acknowledged[eid] = int(alert_id)


def _kill_and_drain(proc: subprocess.Popen[str], acknowledged: dict[str, int]) -> None:
    """SIGKILL the writer wherever it is; the lines it printed before dying were acknowledged too."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.stdout is not None
    for line in proc.stdout:
        eid, alert_id = line.split()
        acknowledged[eid] = int(alert_id)
    proc.stdout.close()
    if proc.stderr:
        proc.stderr.close()


def test_sigkill_while_ingesting_loses_no_committed_alert_and_leaves_no_half_written_one(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    db = tmp_path / "alerts.sqlite"
    rng = random.Random(11)
    acknowledged: dict[str, int] = {}
    for round_no in range(8):
        proc = _start_writer(script, db, f"r{round_no}")
        _read_acks(proc, rng.randint(3, 40), acknowledged)
        _kill_and_drain(proc, acknowledged)  # the writer is somewhere inside its next ingest/attach/ack

        with AlertStore(db) as store:
            assert store.integrity_check() == "ok"
            for eid, alert_id in acknowledged.items():
                found = store.find_by_event(eid)
                assert found is not None and found.id == alert_id, f"round {round_no}: acknowledged {eid} lost"
            alerts = store.list(limit=100000)
            for a in alerts:  # every stored alert is whole: its fields agree with each other
                assert a.count == len(a.event_ids) >= 1
                assert all(store.find_by_event(e) == a for e in a.event_ids)
                assert {h.to_state for h in a.history} <= {"acknowledged"}
            indexed = store._read("SELECT COUNT(*) FROM alert_events")[0][0]
            assert indexed == sum(a.count for a in alerts)
            assert store.evidence_total_bytes() == sum(e.size_bytes for a in alerts for e in a.evidence)
    assert len(acknowledged) >= 8 * 3


def test_two_writer_processes_on_one_file_lose_nothing(tmp_path: Path) -> None:
    """A node's alerting subscriber and `lookout alerts` write the same file: both wait their turn."""
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    db = tmp_path / "alerts.sqlite"
    procs = [_start_writer(script, db, name) for name in ("a", "b")]
    acknowledged: dict[str, int] = {}
    for proc in procs:
        _read_acks(proc, 30, acknowledged)
    for proc in procs:
        _kill_and_drain(proc, acknowledged)
    with AlertStore(db) as store:
        assert store.integrity_check() == "ok"
        assert all(store.find_by_event(e).id == i for e, i in acknowledged.items())  # type: ignore[union-attr]
        alerts = store.list(limit=100000)
        assert len({a.version for a in alerts}) == len(alerts)  # one version counter, no duplicates
        v, changed = store.changes_since(0, limit=100000)
        assert {a.id for a in changed} == {a.id for a in alerts} and v == store.latest_version()
