"""``lookout`` command line: the one place that prints errors and exits.

Domain packages raise their own base errors (``FlightError``, ``MissionError``, ``VisionError``,
``DispatchError``, ``ConsoleError``) and ``LookoutError``; here each becomes one line on stderr and
exit status 1. Argument errors exit 2 (argparse), Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from console.errors import ConsoleError
from dispatch.errors import DispatchError
from flight.errors import FlightError
from lookout import __version__
from lookout.commands import COMMANDS
from lookout.config import config_path_from
from lookout.context import Context
from lookout.errors import LookoutError
from lookout.logsetup import setup_logging
from missions.errors import MissionError
from vision.errors import VisionError

DOMAIN_ERRORS = (LookoutError, FlightError, MissionError, VisionError, DispatchError, ConsoleError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lookout",
        description="Drone and camera patrol console: fly MAVLink patrols, watch cameras, dispatch alerts.",
    )
    parser.add_argument("--version", action="version", version=f"lookout {__version__}")
    parser.add_argument(
        "--config", metavar="FILE", help="lookout.toml (default: $LOOKOUT_CONFIG, else built-in defaults)"
    )
    parser.add_argument(
        "--data-dir", metavar="DIR", help="data directory (default: $LOOKOUT_DATA or ~/.local/share/lookout)"
    )
    parser.add_argument(
        "--log-level", default=None, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"lookout.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(config_path_from(args.config), Path(args.data_dir) if args.data_dir else None)
    try:
        level = args.log_level
        needs_data = getattr(args, "needs_data_dir", True)
        if needs_data:
            setup_logging(level or ctx.config.logging.level, ctx.data_dir / "logs", ctx.config.logging.file_level)
        else:
            setup_logging(level or "WARNING", None)
        return int(args.func(args, ctx) or 0)
    except DOMAIN_ERRORS as exc:
        print(f"lookout {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lookout {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        ctx.close()
        logging.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
