"""``lookout node --bus mqtt://HOST:PORT``: one machine of a multi-machine Lookout, on an MQTT broker.

``--role vision`` (default) runs the vision pipeline headless for the configured ``[cameras.*]`` and
publishes on the broker: detections (QoS 0), events with their snapshot JPEG and capture pose, and
finished clips with their bytes (QoS 1). Video stays on this machine. ``--role store`` runs the alert
store's side: it subscribes to events and evidence and stores alerts (with verified evidence copied into
its own data dir) for the consoles that read that data dir. ``--role both`` does both.

It runs until Ctrl-C / SIGTERM (or ``--duration`` seconds), then finishes pending clips, waits for the
broker to acknowledge what was published, says ``offline`` and exits. One line per event published
(vision) or alert stored (store) goes to stdout; ``--json`` makes them JSON lines (an event line is the
``lookout detect --json`` event line).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from lookout.context import Context

ROLES = ("vision", "store", "both")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "node",
        help="run headless on an MQTT bus: the vision pipeline for the configured cameras, and/or the alert store",
        description=(__doc__ or "").replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--bus", metavar="URL", help="mqtt://HOST:PORT or mqtts://HOST:PORT (default: [bus] url)")
    p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="lookout.toml (also before 'node')")
    p.add_argument("--role", choices=ROLES, default="vision", help="vision (default), store, or both")
    p.add_argument("--client-id", metavar="ID", help="stable MQTT client id (default: [bus] client_id or "
                   "lookout-<host>-<role>)")  # fmt: skip
    p.add_argument("--workers", type=int, metavar="N", help="vision worker processes (default: one per core)")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--json", action="store_true", help="JSON lines on stdout")
    p.set_defaults(func=run)


def _bus_config(ctx: Context, args: argparse.Namespace) -> Any:
    from pydantic import ValidationError

    from lookout.errors import ConfigError
    from vision.config import BusConfig

    data = ctx.config.bus.model_dump()
    if args.bus:
        data.update(type="mqtt", url=args.bus)
    if args.client_id:
        data["client_id"] = args.client_id
    try:
        bc = BusConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"bus.{where}: {err['msg']} (got {err.get('input')!r}); "
                          "give --bus mqtt://HOST:PORT") from None  # fmt: skip
    if bc.type != "mqtt":
        raise ConfigError("needs an MQTT broker: give --bus mqtt://HOST:PORT or set [bus] type = "
                          '"mqtt" and url in the config')  # fmt: skip
    return bc


class _Announcing:
    """The bus, printing one line per event this node publishes (after the publish returned)."""

    def __init__(self, bus: Any, as_json: bool) -> None:
        self.bus, self.as_json = bus, as_json
        self.remote = getattr(bus, "remote", False)
        self.events = 0

    def publish(self, topic: str, message: Any, *, qos: int = 1, retain: bool = False) -> None:
        from vision.messages import EventMessage

        self.bus.publish(topic, message, qos=qos, retain=retain)
        if isinstance(message, EventMessage):
            self.events += 1
            ev = message.event
            if self.as_json:
                print(json.dumps({"type": "event", **ev.to_json(), "node": message.node}), flush=True)
            else:
                print(f"{ev.feed} frame {ev.frame_index}: EVENT {ev.kind} ({ev.severity}): {ev.summary} [{ev.id}]",
                      flush=True)  # fmt: skip

    def subscribe(self, pattern: str, handler: Any) -> Any:
        return self.bus.subscribe(pattern, handler)

    def close(self) -> None:
        self.bus.close()


def _print_alert(as_json: bool) -> Any:
    def show(alert: Any) -> None:
        if as_json:
            print(json.dumps({"type": "alert", "id": alert.id, "kind": alert.kind, "feed": alert.feed,
                              "state": str(alert.state), "event_ids": list(alert.event_ids), "node": alert.node,
                              "evidence": [e.kind for e in alert.evidence]}), flush=True)  # fmt: skip
        else:
            print(f"ALERT {alert.id} {alert.kind} on {alert.feed} ({alert.severity}, {alert.count} event(s), "
                  f"evidence: {', '.join(e.kind for e in alert.evidence) or 'none'})", flush=True)  # fmt: skip

    return show


def run(args: argparse.Namespace, ctx: Context) -> int:
    from lookout.alerting import AlertIngest
    from lookout.wiring import VisionWall
    from vision.messages import Topics
    from vision.mqtt_bus import MqttBus

    bc = _bus_config(ctx, args)
    cfg = ctx.config.model_copy(update={"bus": bc})
    vision = args.role in ("vision", "both")
    if vision and not any(c.enabled for c in cfg.cameras.values()):
        print("lookout node: no enabled [cameras.NAME] in the config; add cameras or use --role store",
              file=sys.stderr)  # fmt: skip
        return 1
    data_dir = ctx.data_dir  # offline Ultralytics env before any model loads
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bus = MqttBus.from_config(bc, role=args.role)
    wall: VisionWall | None = None
    ingest: AlertIngest | None = None
    dispatching: Any = None
    announcing = _Announcing(bus, args.json)
    try:
        if args.role in ("store", "both"):
            from lookout.dispatching import Dispatching

            dispatching = Dispatching.open(data_dir, cfg, audit=ctx.audit().append)  # forward = "raised" rows
            ingest = AlertIngest.open(data_dir, cfg, audit=ctx.audit().append, topics=Topics(bc.topic_prefix),
                                      on_change=dispatching.on_change)  # fmt: skip
            dispatching.attach(store=ingest.store).start(unit_feed=False)  # this node delivers what it stores
            ingest.on_alert = _print_alert(args.json)
            ingest.attach(bus)
        if vision:
            wall = VisionWall(cfg, data_dir, workers=args.workers, bus=announcing, node=bus.node, listen=False)
            wall.add_cameras(cfg.cameras)
            wall.start()
        ctx.audit().append("node", "node.start", bus.client_id, role=args.role, bus=bus.where,
                           cameras=sorted(cfg.cameras) if vision else [])  # fmt: skip
        print(f"lookout node: {args.role} on {bus.where} as {bus.client_id} (node {bus.node}); Ctrl-C stops",
              file=sys.stderr, flush=True)  # fmt: skip
        stop.wait(args.duration)
    finally:
        if wall is not None:
            wall.stop()  # pending clips finished and published
        bus.close()  # waits for the broker's acks, then offline
        if ingest is not None:
            ingest.close()
        if dispatching is not None:
            dispatching.close()
    if ingest is not None:
        print(f"lookout node: {ingest.summary()}", file=sys.stderr)
    if wall is not None:
        print(f"lookout node: published {announcing.events} event(s)", file=sys.stderr)
    return 0
