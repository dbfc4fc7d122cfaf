"""``lookout console``: the console over the configured MAVLink links and cameras."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.services import ConsoleServices
from lookout.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "console",
        help="open the console on the configured links ([links.*]) and cameras ([cameras.*])",
        description="Open the console: vehicles from every [links.NAME] (pymavlink URL), video from every "
        "enabled [cameras.NAME] through the detection pipeline. See `lookout config show`.",
    )
    p.add_argument("--quit-after", type=float, metavar="S", help="close the console after S seconds")
    p.add_argument("--screenshot", metavar="PNG", help="with --quit-after: save the window to PNG first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from console.app import check_display
    from console.app import run as run_console
    from flight import Fleet
    from lookout.wiring import FleetActions, FleetView, VisionWall

    cfg = ctx.config
    if not cfg.links and not cfg.cameras:
        print(
            'lookout console: nothing configured: add [links.NAME] url = "udp:0.0.0.0:14550" and/or '
            '[cameras.NAME] url = "rtsp://..." to your lookout.toml (or try `lookout demo`)',
            file=sys.stderr,
        )
        return 1
    check_display(args.quit_after)
    fleet = Fleet.from_config(cfg.links, ctx.data_dir / "tlogs")
    wall: VisionWall | None = None
    try:
        view = FleetView(fleet)
        services = ConsoleServices(fleet=view, actions=FleetActions(view, ctx.audit().append),
                                   tiles_dir=cfg.map.tiles_dir, map_center=cfg.map.center, title="Lookout")  # fmt: skip
        if any(c.enabled for c in cfg.cameras.values()):
            wall = VisionWall(cfg, ctx.data_dir, workers=None)
            wall.add_cameras(cfg.cameras)
            wall.start()
            services.feeds = list(wall.feeds.values())
            services.events = wall
        ctx.audit().append("console", "console.start", "", links=sorted(cfg.links), cameras=sorted(cfg.cameras))
        return run_console(services, quit_after_s=args.quit_after,
                           screenshot=Path(args.screenshot) if args.screenshot else None)  # fmt: skip
    finally:
        if wall is not None:
            wall.stop()
        fleet.close()
