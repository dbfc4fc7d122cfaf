"""``lookout demo``: the console with embedded simulated drones and sample video, fully offline."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lookout.context import Context

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="console + embedded simulated drones flying patrols + sample video feeds, fully offline",
        description="Start simulated copters (two fly patrol plans, the rest wait for you), a street camera "
        "and the drone camera through the real detection pipeline, and open the console as the demo admin. "
        "People on the street camera's restricted pavement raise real alerts (position, snapshot, clip) in "
        "the data dir's alert store and the console's queue; use --data-dir DIR to keep them apart. Dispatch: "
        "confirm an alert, assign the recommended demo unit and send a drone from the Dispatch panel; a local "
        "dispatch desk (a signed webhook receiver on 127.0.0.1) shows what it received.",
    )
    p.add_argument("--vehicles", type=int, default=None, metavar="N", help="simulated copters (default: [sim])")
    p.add_argument("--speedup", type=float, default=None, metavar="X", help="simulation speed (default: [sim])")
    p.add_argument("--no-video", action="store_true", help="skip the video wall (no models are loaded)")
    p.add_argument("--quit-after", type=float, metavar="S", help="close the console after S seconds")
    p.add_argument("--screenshot", metavar="PNG", help="with --quit-after: save the window to PNG first")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from console.app import check_display
    from console.app import run as run_console
    from lookout.demo import start_demo

    check_display(args.quit_after)
    cfg = ctx.config
    vehicles = args.vehicles or cfg.sim.vehicles
    speedup = args.speedup or cfg.sim.speedup
    demo = start_demo(
        cfg, ctx.data_dir, vehicles=vehicles, speedup=speedup, video=not args.no_video, audit=ctx.audit().append
    )
    ctx.audit().append("demo", "demo.start", "", vehicles=vehicles, speedup=speedup)
    try:
        return run_console(
            demo.services,
            quit_after_s=args.quit_after,
            screenshot=Path(args.screenshot) if args.screenshot else None,
        )
    finally:
        demo.close()
