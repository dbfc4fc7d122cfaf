"""``lookout console``: the console over the configured MAVLink links, cameras and alert store.

The console asks who is working when users exist (``lookout users``; none: the local admin) and
shows only what that role may do; flight commands are checked and audited as that user. Alerts:
the console's cameras (and, with an MQTT ``[bus]``, the vision nodes on other machines) publish
events on the bus; ``lookout.alerting`` stores them in ``<data>/alerts.sqlite`` and the alert queue
reads the store. Dispatch (``lookout.dispatching``): the store's writes go through the desk's hook (confirms
and, per ``forward = "raised"``, new alerts write outbox rows), the outbox sender runs while the console
is open, and the dispatch panel, units and response areas are shown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.services import ConsoleServices
from lookout.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "console",
        help="open the console on the configured links ([links.*]), cameras ([cameras.*]) and alerts",
        description="Open the console: vehicles from every [links.NAME] (pymavlink URL), video from every "
        "enabled [cameras.NAME] through the detection pipeline, the alert queue from the data dir's alert "
        "store (fed by the cameras and, with an MQTT [bus], by `lookout node` on other machines). "
        "Once users exist (`lookout users add`), it asks who is working. See `lookout config show`.",
    )
    p.add_argument("--quit-after", type=float, metavar="S", help="close the console after S seconds")
    p.add_argument("--screenshot", metavar="PNG", help="with --quit-after: save the window to PNG first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from console.app import check_display
    from console.app import run as run_console
    from dispatch.users import UserDirectory
    from flight import Fleet
    from lookout.access import users_path
    from lookout.console_services import StoreAlerts
    from lookout.wiring import FleetActions, FleetView, VisionWall, map_cameras, open_bus

    cfg = ctx.config
    remote = cfg.bus.type == "mqtt"
    if not cfg.links and not cfg.cameras and not remote:
        print(
            'lookout console: nothing configured: add [links.NAME] url = "udp:0.0.0.0:14550" and/or '
            '[cameras.NAME] url = "rtsp://..." (or a [bus] type = "mqtt" that vision nodes publish on) to your '
            "lookout.toml (or try `lookout demo`)",
            file=sys.stderr,
        )
        return 1
    check_display(args.quit_after)
    audit = ctx.audit().append
    fleet = Fleet.from_config(cfg.links, ctx.data_dir / "tlogs")
    wall: VisionWall | None = None
    bus: Any = None
    ingest: Any = None
    alerts: StoreAlerts | None = None
    dispatching: Any = None
    try:
        view = FleetView(fleet)
        from flight.plan_check import PlanLimits

        actions = FleetActions(view, audit, plan_limits=PlanLimits.from_config(cfg.missions))
        services = ConsoleServices(fleet=view, actions=actions, tiles_dir=cfg.map.tiles_dir, map_center=cfg.map.center,
                                   title="Lookout", users=UserDirectory(users_path(ctx.data_dir)))  # fmt: skip
        services.map_layers = cfg.map.layer_specs(ctx.data_dir)  # [map] layers + `lookout tiles import` sets
        services.cameras = map_cameras(cfg.cameras)
        services.missions = cfg.missions  # the Plan view checks with the limits `lookout fly` uses
        cameras = any(c.enabled for c in cfg.cameras.values())
        dispatching = _open_dispatching(ctx.data_dir, cfg, audit, services)
        hook = None if dispatching is None else dispatching.on_change
        if cameras or remote:
            from lookout.alerting import AlertIngest

            bus = open_bus(cfg)
            ingest = AlertIngest.open(ctx.data_dir, cfg, audit=audit, bus=bus, on_change=hook)
            alerts = StoreAlerts(ingest.store, ctx.data_dir)
        else:
            alerts = _open_alerts(ctx.data_dir, audit, services, hook, cfg)
        services.alerts = alerts
        if dispatching is not None and alerts is not None:
            dispatching.attach(store=alerts.store, fleet=view, actions=actions).start()  # sender stops in finally
            services.dispatch = dispatching
            if dispatching.sender_error:
                print(f"lookout console: {dispatching.sender_error}", file=sys.stderr)
                services.notice = dispatching.sender_error
        if cameras:
            wall = VisionWall(cfg, ctx.data_dir, workers=None, bus=bus)
            wall.add_cameras(cfg.cameras)
            wall.start()
            services.feeds = list(wall.feeds.values())
            services.events = wall
            if ctx.config_path is not None:  # zones drawn on a tile are saved there and used at once
                from lookout.config_edit import ConfigZones

                services.zones = ConfigZones(ctx.config_path, on_saved=wall.set_zones)
        ctx.audit().append("console", "console.start", "", links=sorted(cfg.links), cameras=sorted(cfg.cameras))
        return run_console(services, quit_after_s=args.quit_after, on_login=_on_login(actions, audit),
                           screenshot=Path(args.screenshot) if args.screenshot else None)  # fmt: skip
    finally:
        if wall is not None:
            wall.stop()
        if bus is not None:
            bus.close()
        if ingest is not None:
            ingest.close()
        elif alerts is not None:
            alerts.close()
        if dispatching is not None:
            dispatching.close()  # the outbox sender and the unit feed; undelivered rows wait in the database
        fleet.close()


def _open_dispatching(data_dir: Path, cfg: Any, audit: Any, services: ConsoleServices) -> Any:
    """The dispatch desk (outbox, clock, units) over the alert database, or None with the reason."""
    from dispatch.errors import DispatchError
    from lookout.dispatching import Dispatching

    try:
        return Dispatching.open(data_dir, cfg, audit=audit)
    except DispatchError as exc:
        print(f"lookout console: no dispatch desk: {exc}", file=sys.stderr)
        services.notice = f"No dispatch desk: {exc}"
        return None


def _open_alerts(data_dir: Path, audit: Any, services: ConsoleServices, on_change: Any = None,
                 cfg: Any = None) -> Any:  # fmt: skip
    """The alert store, or None with the reason on stderr and in the status bar: flight control must
    not depend on the alert database (a corrupt file is moved aside by hand, as the message says)."""
    from dispatch.errors import DispatchError
    from lookout.console_services import StoreAlerts

    try:
        from dispatch.backends import alerts_target

        target = alerts_target(getattr(cfg.storage, "alerts_url", None) if cfg is not None else None, data_dir)
        return StoreAlerts.open(data_dir, audit, on_change, target)
    except DispatchError as exc:
        print(f"lookout console: no alert queue: {exc}", file=sys.stderr)
        services.notice = f"No alert queue: {exc}"
        return None


def _on_login(actions: Any, audit: Any) -> Any:
    def logged_in(actor: Any) -> None:
        actions.set_actor(actor)  # flight commands are checked and audited as this user
        audit(actor.name, "console.login", "", role=str(actor.role))

    return logged_in
