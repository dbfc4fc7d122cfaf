from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lookout.audit import AuditLog, verify
from lookout.cli import main


def _filled(path: Path, n: int = 5) -> None:
    with AuditLog(path) as log:
        for i in range(n):
            log.append("operator:anna", "alert.confirm", f"alert-{i}", note="door handles, Main St", i=i)


def test_chain_is_intact_after_appends(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    _filled(db)
    res = verify(db)
    assert res.ok and res.rows == 5


def test_rows_cannot_be_updated_or_deleted_through_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    _filled(db)
    con = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("UPDATE audit SET actor='x' WHERE seq=2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("DELETE FROM audit WHERE seq=2")
    con.close()


def _flip_one_byte(db: Path, needle: bytes) -> None:
    # Checkpoint the WAL into the main file so the row lives there, then change one byte on disk.
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    raw = bytearray(db.read_bytes())
    at = raw.find(needle)
    assert at >= 0
    raw[at] ^= 0x01
    db.write_bytes(bytes(raw))


@pytest.mark.parametrize("needle", [b"alert-3", b"Main St", b"operator:anna"])
def test_one_changed_byte_is_detected_by_cli(tmp_path: Path, needle: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "audit.sqlite"
    _filled(db)
    assert main(["audit", "verify", "--file", str(db)]) == 0
    _flip_one_byte(db, needle)
    assert main(["audit", "verify", "--file", str(db)]) == 1
    assert "TAMPERED" in capsys.readouterr().err


def test_row_removed_behind_the_triggers_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    _filled(db)
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER audit_no_delete")
    con.execute("DELETE FROM audit WHERE seq=3")
    con.commit()
    con.close()
    res = verify(db)
    assert not res.ok and res.first_bad_seq == 4


def test_appends_survive_reopen(tmp_path: Path) -> None:
    db = tmp_path / "audit.sqlite"
    _filled(db, 2)
    _filled(db, 3)
    with AuditLog(db) as log:
        assert [e.seq for e in log.entries()] == [1, 2, 3, 4, 5]
    assert verify(db).ok
