"""``DeskReceiver``: the demo's dispatch desk gets the outbox's signed messages once each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatch.config import DispatchConfig, SinkConfig
from dispatch.desk import DispatchDesk
from dispatch.errors import DeliveryError
from dispatch.outbox import OutboxMessage
from dispatch.receiver import DeskReceiver
from dispatch.roles import Actor
from dispatch.sinks.webhook import WebhookSink
from dispatch.store import AlertStore
from tests.dispatch.webhook_receiver import wait_for

SECRET = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="


def test_desk_receives_each_message_once_and_refuses_bad_signatures(tmp_path: Path,
                                                                   inputs: Callable[..., Any]) -> None:  # fmt: skip
    with DeskReceiver(SECRET) as rx:
        sink = SinkConfig(type="webhook", url=rx.url, secret=SECRET, backoff_base_s=0.05, backoff_max_s=0.2)
        desk = DispatchDesk(tmp_path / "alerts.sqlite", DispatchConfig(sinks={"desk": sink}), {}, {})
        with desk, AlertStore(tmp_path / "alerts.sqlite", on_change=desk.on_change) as store:
            desk.start_sender()
            a = store.ingest(inputs("e1"))
            store.confirm(a.id, Actor.local_admin())
            assert wait_for(lambda: len(rx.received()) == 1)
        got = rx.received()[0]
        assert (got.type, got.alert_id, got.seq) == ("new", a.id, 1)
        assert got.line() == f"desk got new of alert {a.id} (loitering, confirmed)"
        bad = WebhookSink("x", SinkConfig(type="webhook", url=rx.url, secret="whsec_d3Jvbmc="), tmp_path)
        payload = {"type": "new", "id": "m9", "seq": 1, "after": {"id": 9}}
        with pytest.raises(DeliveryError, match="HTTP 401"):
            bad.deliver(OutboxMessage(1, "x", "s", 9, 1, "new", "m9", payload, 0.0, "pending", 1, None))
        bad.close()
        assert rx.rejected == 1 and len(rx.received()) == 1
