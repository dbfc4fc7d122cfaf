"""dispatch.migrations: an older alert database is upgraded in place, a newer one refused untouched."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dispatch.errors import StoreError
from dispatch.migrations import LATEST, MIGRATIONS, current_version, migrate
from dispatch.store import AlertStore
from dispatch.types import AlertState


def test_steps_are_numbered_one_two_three() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1)) and len(MIGRATIONS) == LATEST


def _v1_database(path: Path) -> None:
    """An alert database as Lookout schema version 1 wrote it, with one alert holding a snapshot."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    assert migrate(conn, path, upto=1) == 1
    ev = [{"kind": "snapshot", "path": "evidence/d/e1/snapshot.jpg", "sha256": "a" * 64, "size_bytes": 1234,
           "mime": "image/jpeg", "removed": False}]  # fmt: skip
    conn.execute(
        "INSERT INTO alerts (kind, severity, feed, t_start_utc, t_end_utc, track_ids, lat_deg, lon_deg, accuracy_m,"
        " zone, summary, details, state, notes, history, evidence, event_ids, count, created_utc, updated_utc,"
        " version, track_path, node, cooldown_s) VALUES ('loitering', 'low', 'gate',"
        " '2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:05.000000+00:00',"
        " '[4]', 52.0, 4.0, 5.0, 'yard', 'old one', '{}', 'new', '[]', '[]', ?,"
        " '[\"e1\", \"e0\"]', 2, '2026-01-01T00:00:06.000000+00:00', '2026-01-01T00:00:06.000000+00:00', 1, '[]', '',"
        " 60.0)",
        (json.dumps(ev),),
    )
    conn.close()


def test_an_older_database_is_upgraded_in_place_keeping_its_alerts(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    _v1_database(path)
    with AlertStore(path) as store:
        [a] = store.list()
        assert (a.summary, a.state, a.count, a.event_ids) == ("old one", AlertState.NEW, 2, ("e1", "e0"))
        assert store.find_by_event("e0") == a  # v2's event index was filled from the old rows
        assert store.evidence_total_bytes() == 1234  # and the evidence byte total
        assert store._read("SELECT version FROM schema_migrations ORDER BY version") == [
            (v,) for v in range(1, LATEST + 1)
        ]
    conn = sqlite3.connect(str(path))
    assert current_version(conn) == LATEST
    conn.close()


def test_a_newer_database_is_refused_naming_both_versions_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    AlertStore(path).close_db()
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("INSERT INTO schema_migrations VALUES (?, 'future')", (LATEST + 3,))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as err:
        AlertStore(path)
    assert str(err.value) == (
        f"{path}: alert database schema version {LATEST + 3} is newer than this Lookout supports (version {LATEST}); "
        "upgrade Lookout, or use another data directory (--data-dir)"
    )
    assert path.read_bytes() == before


def test_a_failing_step_leaves_the_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dispatch import migrations

    path = tmp_path / "alerts.sqlite"
    _v1_database(path)
    broken = [*MIGRATIONS, migrations.Migration(LATEST + 1, "CREATE TABLE x (a); INSERT INTO nope VALUES (1);")]
    monkeypatch.setattr(migrations, "MIGRATIONS", broken)
    monkeypatch.setattr(migrations, "LATEST", LATEST + 1)
    with pytest.raises(StoreError, match=f"upgrading the alert database to schema version {LATEST + 1} failed"):
        AlertStore(path)
    monkeypatch.undo()
    conn = sqlite3.connect(str(path))
    assert current_version(conn) == LATEST  # the good steps stayed, the broken one left no trace
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'x'").fetchall() == []
    conn.close()
