"""The durable outbox over a real store, a real sender and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dispatch.config import DispatchConfig, SinkConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.errors import OutboxError
from dispatch.roles import Actor
from dispatch.store import AlertStore
from tests.dispatch.webhook_receiver import Receiver, free_port, wait_for

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ADMIN = Actor.local_admin()
CHILD = Path(__file__).with_name("outbox_child.py")


def _key() -> bytes:
    import base64

    return base64.b64decode(SECRET[6:])


def _sink(url: str, **kw: Any) -> SinkConfig:
    base = {"type": "webhook", "url": url, "secret": SECRET, "timeout_s": 1.0, "backoff_base_s": 0.02,
            "backoff_max_s": 0.2}  # fmt: skip
    return SinkConfig(**{**base, **kw})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(_key()).start()
    yield r
    r.stop()


def _desk(tmp_path: Path, sinks: dict[str, SinkConfig], **kw: Any) -> tuple[DispatchDesk, AlertStore]:
    units = {"car1": UnitConfig(callsign="CAR 1", kind="car", lat_deg=52.1, lon_deg=4.3)}
    desk = DispatchDesk(tmp_path / "data" / "alerts.sqlite", DispatchConfig(sinks=sinks, **kw), units, {})
    store = AlertStore(tmp_path / "data" / "alerts.sqlite", on_change=desk.on_change)
    return desk, store


def test_confirm_writes_outbox_rows_in_the_same_transaction(tmp_path: Path, inputs: Callable[..., Any]) -> None:
    desk, store = _desk(tmp_path, {"desk": _sink("http://127.0.0.1:9/none")})
    with desk, store:
        a = store.ingest(inputs("e1"))
        assert desk.outbox.messages() == []  # forward = "confirmed": nothing before the confirmation
        store.confirm(a.id, ADMIN)
        (msg,) = desk.outbox.messages()
        assert (msg.type, msg.alert_id, msg.seq, msg.payload["after"]["state"]) == ("new", a.id, 1, "confirmed")
        assert msg.payload["after"]["response"]["target_min"] == 5

    # a hook failing after the outbox wrote its row rolls the whole change back: no alert state, no row
    def boom(*args: Any, **kw: Any) -> None:
        raise RuntimeError("audit log unwritable")

    desk2 = DispatchDesk(tmp_path / "data" / "alerts.sqlite", DispatchConfig(sinks={"desk": _sink("http://x:9/")}),
                         {}, {})  # fmt: skip
    with AlertStore(tmp_path / "data" / "alerts.sqlite", on_change=desk2.on_change) as store3:
        b = store3.ingest(inputs("e2", feed="other"))
    with AlertStore(tmp_path / "data" / "alerts.sqlite", on_change=desk2.on_change, audit=boom) as store4:
        with pytest.raises(RuntimeError):
            store4.confirm(b.id, ADMIN)  # the audit call comes after the outbox row, inside the transaction
        assert str(store4.get(b.id).state) == "new"
    assert [m.alert_id for m in desk2.outbox.messages()] == [a.id]
    desk2.close()


def test_raised_rule_forwards_at_severity_and_updates_follow(tmp_path: Path, inputs: Callable[..., Any],
                                                            receiver: Receiver) -> None:  # fmt: skip
    sinks = {"desk": _sink(receiver.url, forward="raised", min_severity="high")}
    desk, store = _desk(tmp_path, sinks)
    with desk, store:
        desk.start_sender()
        low = store.ingest(inputs("e1", severity="medium", feed="a"))
        high = store.ingest(inputs("e2", severity="high", feed="b"))
        store.dismiss(high.id, ADMIN, "a shadow")
        store.dismiss(low.id, ADMIN, "a cat")
        assert wait_for(lambda: receiver.count() == 2)
        types = [(m["after"]["id"], m["type"]) for m in (receiver.accepted[i] for i in receiver.order)]
        assert types == [(high.id, "new"), (high.id, "end")]  # the medium one was never forwarded


def test_delivery_in_order_per_alert_with_retries_and_dispatch_updates(
    tmp_path: Path, inputs: Callable[..., Any], receiver: Receiver
) -> None:
    receiver.fail_rate = 0.4
    desk, store = _desk(tmp_path, {"desk": _sink(receiver.url)})
    with desk, store:
        desk.start_sender()
        ids = []
        for i in range(6):
            a = store.ingest(inputs(f"e{i}", feed=f"cam{i}"))
            store.confirm(a.id, ADMIN)
            ids.append(a.id)
        desk.dispatch(ids[0], "car1")
        desk.on_scene(ids[0], "desk-officer")
        for i in ids:
            store.close(i, ADMIN)
        expected = {m.msg_id for m in desk.outbox.messages()}
        assert wait_for(lambda: set(receiver.accepted) == expected, timeout_s=30)
        assert receiver.failed_on_purpose > 0 and receiver.bad_signatures == 0
        for alert_id in ids:
            got = [receiver.accepted[m] for m in receiver.order]
            seqs = [b["seq"] for b in got if b["after"]["id"] == alert_id]
            assert seqs == sorted(seqs) == list(range(1, len(seqs) + 1))
        first = [receiver.accepted[m] for m in receiver.order if receiver.accepted[m]["after"]["id"] == ids[0]]
        assert [m["type"] for m in first] == ["new", "update", "update", "end"]
        assert first[1]["after"]["response"]["unit"] == "car1" and first[1]["before"]["response"]["unit"] is None
        assert first[2]["after"]["response"]["on_scene_by"] == "desk-officer"
        # the receiver records a message before the sender has marked it delivered: wait for the mark
        assert wait_for(lambda: {x.sink: x for x in desk.outbox.health()}["desk"].queue_depth == 0, timeout_s=10)
        h = {x.sink: x for x in desk.outbox.health()}["desk"]
        assert h.last_success_utc is not None and h.dead_letters == 0
        # pruning keeps each alert's newest message (a later change follows on from it: seq, before)
        assert desk.outbox.prune_delivered(0) == len(expected) - len(ids)
        assert sorted((m.alert_id, m.type) for m in desk.outbox.messages()) == [(i, "end") for i in ids]


def test_wrong_secret_makes_dead_letters_that_retry_after_the_fix(
    tmp_path: Path, inputs: Callable[..., Any], receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    desk, store = _desk(tmp_path, {"desk": _sink(receiver.url, secret="whsec_" + "QUJD" * 8)})
    with desk, store, caplog.at_level(logging.ERROR, logger="dispatch.sender"):
        desk.start_sender()
        a = store.ingest(inputs("e1"))
        store.confirm(a.id, ADMIN)
        store.close(a.id, ADMIN)
        assert wait_for(lambda: len(desk.outbox.dead_letters()) == 1)
        dead = desk.outbox.dead_letters()[0]
        assert "HTTP 401" in (dead.last_error or "") and "dispatch.sinks.desk.secret" in (dead.last_error or "")
        assert receiver.bad_signatures >= 1 and receiver.count() == 0
        assert len(desk.outbox.messages(state="pending")) == 1  # the update waits behind it: nothing lost
        assert any("dead letter" in r.getMessage() for r in caplog.records)
    # fixed secret: retrying the dead letter delivers both, in order
    desk, store = _desk(tmp_path, {"desk": _sink(receiver.url)})
    with desk, store:
        desk.start_sender()
        assert desk.outbox.retry() == 1
        assert wait_for(lambda: receiver.count() == 2)
        assert [receiver.accepted[m]["type"] for m in receiver.order] == ["new", "end"]
        with pytest.raises(OutboxError, match="not a dead letter"):
            desk.outbox.retry(999)


def test_unreachable_url_keeps_messages_and_reports_health(tmp_path: Path, inputs: Callable[..., Any]) -> None:
    port = free_port()
    desk, store = _desk(tmp_path, {"desk": _sink(f"http://127.0.0.1:{port}/hook")})
    with desk, store:
        desk.start_sender()
        a = store.ingest(inputs("e1"))
        store.confirm(a.id, ADMIN)
        assert wait_for(lambda: desk.outbox.health()[0].last_error is not None)
        h = desk.outbox.health()[0]
        assert "cannot reach" in (h.last_error or "") and "is the receiver running?" in (h.last_error or "")
        assert h.queue_depth == 1 and h.dead_letters == 0
        r = Receiver(_key(), port=port).start()  # the receiver comes up: the queued message goes out
        try:
            assert wait_for(lambda: r.count() == 1, timeout_s=20)
        finally:
            r.stop()


def test_sigkill_mid_delivery_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    """Done-when: receiver down first, then 500 at random; the sender killed with SIGKILL and restarted."""
    data = tmp_path / "data"
    data.mkdir()
    receiver = Receiver(_key(), fail_rate=0.3, seed=7, delay_s=0.02)  # not started yet: down
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    args = [sys.executable, str(CHILD), str(data), receiver.url, SECRET]
    child = subprocess.Popen([*args, "produce", "25"], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "produced"
        receiver.start()
        assert wait_for(lambda: receiver.count() >= 20, timeout_s=60)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        got_before_restart = receiver.count()
        resumed = subprocess.run([*args, "resume"], capture_output=True, text=True, env=env, timeout=120)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        receiver.stop()
    desk = DispatchDesk(data / "alerts.sqlite", DispatchConfig(sinks={"desk": _sink(receiver.url)}), {}, {})
    rows = desk.outbox.messages()
    desk.close()
    assert len(rows) == 25 * 3 and all(m.state == "delivered" for m in rows)
    assert set(receiver.accepted) == {m.msg_id for m in rows}  # every alert and update arrived, none twice
    assert got_before_restart < len(rows)  # the kill really was mid-run
    assert receiver.bad_signatures == 0 and receiver.failed_on_purpose > 0
    by_alert: dict[int, list[int]] = {}
    for mid in receiver.order:
        body = receiver.accepted[mid]
        by_alert.setdefault(body["after"]["id"], []).append(body["seq"])
    assert len(by_alert) == 25 and all(seqs == [1, 2, 3] for seqs in by_alert.values())
    types = {receiver.accepted[m]["seq"]: receiver.accepted[m]["type"] for m in receiver.order}
    assert types == {1: "new", 2: "update", 3: "end"}
