"""Several desks, one picture: the alert store and outbox on a real PostgreSQL server on 127.0.0.1.

The server is started by the test (``tests/dispatch/pg_server.py``: Debian's ``postgresql``, in a
temporary directory, a free port); every test gets its own database. Skipped, with the reason,
where no server can start.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dispatch.backends import alerts_target, open_alert_store, open_desk
from dispatch.config import DispatchConfig, SinkConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.errors import StoreError
from dispatch.migrations import LATEST, migrate
from dispatch.roles import Actor
from dispatch.store import AlertStore
from dispatch.types import AlertInput, AlertState
from tests.dispatch.pg_server import PgServer, why_not
from tests.dispatch.webhook_receiver import Receiver, wait_for

SECRET = "whsec_" + base64.b64encode(b"several desks, one picture......").decode()
KEY = base64.b64decode(SECRET[6:])
ADMIN = Actor.local_admin()
CHILD = Path(__file__).with_name("pg_child.py")
UNITS = {"car1": UnitConfig(callsign="CAR 1", kind="car", lat_deg=52.1, lon_deg=4.3),
         "car2": UnitConfig(callsign="CAR 2", kind="car", lat_deg=52.2, lon_deg=4.4)}  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[PgServer]:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    try:
        srv = PgServer().start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"PostgreSQL server could not start: {exc}")
    yield srv
    srv.stop()


@pytest.fixture
def url(server: PgServer) -> str:
    return server.create_database()


def _sink(receiver_url: str) -> SinkConfig:
    return SinkConfig(type="webhook", url=receiver_url, secret=SECRET, timeout_s=1.0, backoff_base_s=0.05,
                      backoff_max_s=0.4, max_attempts=1000)  # fmt: skip


def _desk_and_store(url: str, data: Path, sinks: dict[str, SinkConfig] | None = None,
                    ) -> tuple[DispatchDesk, AlertStore]:  # fmt: skip
    desk = open_desk(url, DispatchConfig(sinks=sinks or {}), UNITS, {}, data_dir=data)
    return desk, open_alert_store(url, data_dir=data, on_change=desk.on_change)


def _produce(store: AlertStore, inputs: Callable[..., AlertInput], n: int, *, close: bool = True) -> None:
    for i in range(n):
        a = store.ingest(inputs(f"ev{i}", feed=f"cam{i}", tracks=(i,), severity="high"))
        store.confirm(a.id, ADMIN)
        if close:
            store.close(a.id, ADMIN)


def _check_in_order(receiver: Receiver, n_alerts: int, per_alert: list[int]) -> None:
    by_alert: dict[int, list[int]] = {}
    for mid in receiver.order:
        body = receiver.accepted[mid]
        by_alert.setdefault(body["after"]["id"], []).append(body["seq"])
    assert len(by_alert) == n_alerts and all(seqs == per_alert for seqs in by_alert.values())


def test_schema_migrations_run_on_postgres_older_upgraded_newer_refused(
    url: str, tmp_path: Path, server: PgServer
) -> None:
    from dispatch import db

    conn = db.connect(url)
    assert migrate(conn, url, upto=1) == 1
    conn.execute(
        "INSERT INTO alerts (kind, severity, feed, t_start_utc, t_end_utc, track_ids, lat_deg, lon_deg, accuracy_m,"
        " zone, summary, details, state, notes, history, evidence, event_ids, count, created_utc, updated_utc,"
        " version, track_path, node, cooldown_s) VALUES ('loitering', 'low', 'gate',"
        " '2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:05.000000+00:00', '[4]', 52.0, 4.0, 5.0, 'yard',"
        " 'old one', '{}', 'new', '[]', '[]', ?, '[\"e1\", \"e0\"]', 2, '2026-01-01T00:00:06.000000+00:00',"
        " '2026-01-01T00:00:06.000000+00:00', 1, '[]', '', 60.0)",
        (json.dumps([{"kind": "snapshot", "path": "evidence/d/e1/s.jpg", "sha256": "a" * 64, "size_bytes": 1234,
                      "mime": "image/jpeg", "removed": False}]),),
    )
    conn.close()
    with open_alert_store(url, data_dir=tmp_path) as store:  # upgraded in place, the alert kept
        assert store.find_by_event("e0") is not None and store.find_by_event("e1").id == 1  # type: ignore[union-attr]
        assert store.evidence_total_bytes() == 1234 and store.get(1).summary == "old one"
    conn = db.connect(url)
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == LATEST
    conn.execute("INSERT INTO schema_migrations (version, applied_utc) VALUES (?, 'later')", (LATEST + 1,))
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {LATEST + 1} is newer than this Lookout supports"):
        open_alert_store(url, data_dir=tmp_path)
    with pytest.raises(StoreError, match="cannot connect to the alert database"):
        open_alert_store(server.url("no_such_db"), data_dir=tmp_path)
    foreign = server.create_database()  # another program's database: refused, nothing written
    conn = db.connect(foreign)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(StoreError, match="give Lookout an empty database of its own"):
        open_alert_store(foreign, data_dir=tmp_path)
    assert db.table_names(conn) == {"invoices"}
    conn.close()


def test_a_confirm_on_one_desk_is_seen_by_the_other_through_notify(
    url: str, tmp_path: Path, inputs: Callable[..., AlertInput]
) -> None:
    op_desk, operator = _desk_and_store(url, tmp_path / "op")
    disp_desk, dispatcher = _desk_and_store(url, tmp_path / "disp")
    try:
        a = operator.ingest(inputs("e1", severity="high"))
        assert dispatcher.get(a.id).state == AlertState.NEW
        since = dispatcher.latest_version()
        seen: list[AlertState] = []
        ready = threading.Event()

        def watch() -> None:  # the dispatch console's watcher: wakes on the operator desk's NOTIFY
            v = since
            ready.set()
            while not seen and dispatcher.wait_for_change(10.0):
                v, changed = dispatcher.changes_since(v)
                seen.extend(c.state for c in changed if c.id == a.id)

        t = threading.Thread(target=watch, daemon=True)
        t.start()
        assert ready.wait(5)
        operator.confirm(a.id, ADMIN, note="seen on camera")
        t.join(10)
        assert seen == [AlertState.CONFIRMED]
        # one unit board: the dispatch desk assigns, the operator desk sees it assigned and not offered again
        disp_desk.dispatch(a.id, "car1")
        assert {u.name: u.status for u in op_desk.units()}["car1"] == "assigned"
        assert [c.unit.name for c in op_desk.recommend(a).ranked] == ["car2"]
        assert op_desk.record(a.id).unit == "car1"  # type: ignore[union-attr]
        assert dispatcher.wait_for_change(5.0)  # the dispatch is a change too: notified
        assert not dispatcher.wait_for_change(0.2)  # and nothing more happened
    finally:
        for x in (operator, dispatcher, op_desk, disp_desk):
            x.close()


def test_three_senders_on_one_database_deliver_every_row_exactly_once(
    url: str, tmp_path: Path, inputs: Callable[..., AlertInput]
) -> None:
    receiver = Receiver(KEY).start()
    desks = [open_desk(url, DispatchConfig(sinks={"desk": _sink(receiver.url)}), UNITS, {}, data_dir=tmp_path)
             for _ in range(3)]  # fmt: skip
    try:
        producer, store = _desk_and_store(url, tmp_path, {"desk": _sink(receiver.url)})
        store.close_db()
        producer.close()
        for d in desks:
            d.start_sender()  # three consoles, each with its delivery thread, racing for the same rows
        _, store = _desk_and_store(url, tmp_path, {"desk": _sink(receiver.url)})
        _produce(store, inputs, 30)
        assert wait_for(lambda: receiver.count() >= 60 and not desks[0].outbox.messages(state="pending", limit=1),
                        timeout_s=60)  # fmt: skip
        rows = desks[0].outbox.messages()
        assert len(rows) == 60 and all(m.state == "delivered" and m.attempts == 1 for m in rows)
        assert set(receiver.accepted) == {m.msg_id for m in rows}
        assert receiver.duplicates == 0  # no row was sent twice
        _check_in_order(receiver, 30, [1, 2])
        store.close_db()
    finally:
        for d in desks:
            d.close()
        receiver.stop()


def test_a_desk_killed_mid_delivery_loses_nothing(url: str, tmp_path: Path, inputs: Callable[..., AlertInput]) -> None:
    receiver = Receiver(KEY, delay_s=0.05).start()  # slow: the kill lands while a request is in flight
    desk, store = _desk_and_store(url, tmp_path, {"desk": _sink(receiver.url)})
    _produce(store, inputs, 20)
    store.close_db()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, str(CHILD), url, str(tmp_path), receiver.url, SECRET],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    other: DispatchDesk | None = None
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "sending"
        assert wait_for(lambda: receiver.count() >= 8, timeout_s=60)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        got_before = receiver.count()
        other = open_desk(url, DispatchConfig(sinks={"desk": _sink(receiver.url)}), {}, {}, data_dir=tmp_path)
        other.start_sender()  # the other desk carries on
        assert wait_for(lambda: not desk.outbox.messages(state="pending", limit=1), timeout_s=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if other is not None:
            other.close()
        receiver.stop()
    rows = desk.outbox.messages()
    desk.close()
    assert len(rows) == 40 and all(m.state == "delivered" for m in rows)
    assert set(receiver.accepted) == {m.msg_id for m in rows}  # every message arrived (re-sends de-duplicated)
    assert got_before < len(rows)  # the kill really was mid-run
    _check_in_order(receiver, 20, [1, 2])


def test_open_for_config_wires_desk_and_store_on_the_configured_database(url: str, tmp_path: Path) -> None:
    from dispatch.backends import open_for_config
    from lookout.config import LookoutConfig

    cfg = LookoutConfig.model_validate({"storage": {"alerts_url": url}, "units": {"car1": {"callsign": "CAR 1"}}})
    desk, store = open_for_config(cfg, tmp_path)
    try:
        assert store.is_postgres and store.data_dir == tmp_path and [u.name for u in desk.units()] == ["car1"]
    finally:
        store.close()
        desk.close()
    desk, store = open_for_config(LookoutConfig(), tmp_path)  # no alerts_url: the data dir's SQLite file
    try:
        assert not store.is_postgres and store.path == tmp_path / "alerts.sqlite"
    finally:
        store.close()
        desk.close()


def test_desks_carry_on_after_the_database_server_restarts(
    url: str, tmp_path: Path, server: PgServer, inputs: Callable[..., AlertInput]
) -> None:
    receiver = Receiver(KEY).start()
    desk, store = _desk_and_store(url, tmp_path / "a", {"desk": _sink(receiver.url)})
    _, other = _desk_and_store(url, tmp_path / "b")
    try:
        desk.start_sender()
        a = store.ingest(inputs("e1", severity="high"))
        assert other.wait_for_change(0)  # starts watching
        server.restart()  # every connection of both desks is cut
        store.confirm(a.id, ADMIN)  # the store opens a new connection and writes
        assert other.wait_for_change(10.0)
        assert wait_for(lambda: other.changes_since(0)[1][-1].state == AlertState.CONFIRMED, timeout_s=10)
        assert wait_for(lambda: receiver.count() == 1, timeout_s=30)  # the sender reconnected and delivered
    finally:
        for x in (store, other, desk):
            x.close()
        receiver.stop()


def test_lookout_alerts_cli_on_postgres(
    url: str, tmp_path: Path, inputs: Callable[..., AlertInput], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from lookout.cli import main

    for var in ("LOOKOUT_PASSWORD", "LOOKOUT_USER", "LOOKOUT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DESK_DB_URL", url)
    receiver = Receiver(KEY).start()
    cfg = tmp_path / "lookout.toml"
    cfg.write_text(f'[storage]\nalerts_url = "env:DESK_DB_URL"\n\n[dispatch.sinks.desk]\ntype = "webhook"\n'
                   f'url = "{receiver.url}"\nsecret = "{SECRET}"\ntimeout_s = 1.0\n\n'
                   '[units.car1]\ncallsign = "CAR 1"\nkind = "car"\nlat_deg = 52.1\nlon_deg = 4.3\n')  # fmt: skip
    data = tmp_path / "data"
    assert alerts_target("env:DESK_DB_URL", data) == url
    with open_alert_store(url, data_dir=data) as store:  # an alert raised by a node writing to the same database
        a = store.ingest(inputs("e1", severity="high"))
    args = ["--config", str(cfg), "--data-dir", str(data), "alerts"]
    try:
        assert main([*args, "list"]) == 0
        assert f"{a.id}" in capsys.readouterr().out
        assert main([*args, "confirm", str(a.id)]) == 0
        assert main([*args, "dispatch", str(a.id), "--unit", "car1"]) == 0
        assert main([*args, "sinks", "--drain", "10"]) == 0
        capsys.readouterr()
        assert main([*args, "show", str(a.id), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["state"] == "confirmed"
        assert receiver.count() == 2  # new + update (dispatched), from the outbox on PostgreSQL
        assert not (data / "alerts.sqlite").exists()  # nothing went to the default SQLite file
        assert main([*args, "sinks"]) == 0
        assert "desk" in capsys.readouterr().out
    finally:
        receiver.stop()
    monkeypatch.setenv("DESK_DB_URL", "mysql://nope")
    assert main([*args, "list"]) != 0
    assert "is not a postgresql:// URL" in capsys.readouterr().err
