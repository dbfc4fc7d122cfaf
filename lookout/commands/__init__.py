"""One module per ``lookout`` subcommand. Each defines ``register(subparsers)``.

``register`` adds its parser and sets ``func=run`` where ``run(args, ctx) -> int`` is the exit code.
A new subcommand is a new module listed in ``COMMANDS``; nothing else changes.
"""

from __future__ import annotations

import argparse
import sys

from lookout.context import Context

COMMANDS = (
    "demo", "console", "sim", "fly", "plan", "detect", "node", "alerts", "users", "tiles", "eval", "bench", "config",
    "audit",
)  # fmt: skip


def not_built(name: str, issue: str) -> int:
    """For subcommands whose capability does not exist yet: say so plainly, exit 2."""
    print(f"lookout {name}: not built yet ({issue}); nothing was done", file=sys.stderr)
    return 2


def add_not_built(sub: argparse._SubParsersAction, name: str, help_text: str, issue: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=f"{help_text} [not built yet]", description=f"{help_text}. Not built yet: {issue}.")
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)

    def run(args: argparse.Namespace, ctx: Context) -> int:
        return not_built(name, issue)

    p.set_defaults(func=run)
    return p
