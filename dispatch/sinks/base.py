"""The sink interface and the factory that turns ``[dispatch.sinks.NAME]`` tables into deliverers.

A sink formats one ``OutboxMessage`` (its ``payload``: ``type``, ``id``, ``seq``, ``before``,
``after``, ``references``) and delivers it once; it raises ``DeliveryError`` (``permanent`` when
retrying cannot help, ``sink_down`` when the receiver is unreachable). Retrying, ordering and
dead letters are the sender's job (``dispatch.sender``), not the sink's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from dispatch.config import SinkConfig
from dispatch.outbox import OutboxMessage

log = logging.getLogger(__name__)


class Sink(Protocol):
    name: str

    def deliver(self, msg: OutboxMessage) -> None: ...

    def close(self) -> None: ...


def build_sinks(sinks: Mapping[str, SinkConfig], data_dir: Path, **kw: Any) -> dict[str, Sink]:
    """One deliverer per enabled sink. Raises ``SinkConfigError`` (one line naming the key) for a bad secret."""
    from dispatch.sinks.cap import CapSink
    from dispatch.sinks.mqtt import MqttSink
    from dispatch.sinks.webhook import WebhookSink

    out: dict[str, Sink] = {}
    for name, cfg in sinks.items():
        if not cfg.enabled:
            continue
        if cfg.type == "webhook":
            out[name] = WebhookSink(name, cfg, data_dir)
        elif cfg.type == "cap":
            out[name] = CapSink(name, cfg, data_dir, **kw)
        else:
            out[name] = MqttSink(name, cfg)
    return out


def evidence_file(data_dir: Path, ref: Mapping[str, Any]) -> Path | None:
    """The file of an evidence entry of an alert's JSON, if it is still on disk inside the data dir."""
    if ref.get("removed"):
        return None
    path = (data_dir / str(ref.get("path", ""))).resolve()
    try:
        path.relative_to(data_dir.resolve())
    except ValueError:
        return None
    return path if path.is_file() else None
