"""``lookout alerts dispatch|send-test|sinks|report``: the dispatch half of ``lookout alerts``.

``lookout/commands/alerts.py`` (the alert store's commands) calls ``add_subcommands(acts)`` with its
sub-parser action; each parser here sets ``func=run(args, ctx) -> int`` like every other command.
"""

from __future__ import annotations

import argparse
import sys

from lookout.context import Context


def add_subcommands(acts: argparse._SubParsersAction) -> None:
    """Add the dispatch actions to ``lookout alerts``."""
    p = acts.add_parser("dispatch", help="recommend units for an alert (ranked by ETA) or assign one")
    p.add_argument("id", type=int, help="alert id")
    p.add_argument("--unit", help="assign this unit (a [units.NAME] key); without it, list the recommendation")
    p.set_defaults(func=_not_yet)

    p = acts.add_parser("send-test", help="send a Test-status alert through every sink (or one)")
    p.add_argument("--sink", help="only this [dispatch.sinks.NAME]")
    p.set_defaults(func=_not_yet)

    p = acts.add_parser("sinks", help="per-sink health: last success, last error, queue depth, dead letters")
    p.set_defaults(func=_not_yet)

    p = acts.add_parser("report", help="response times per class: count, median/p90 to scene, %% within target")
    p.add_argument("--since", help="only alerts confirmed on or after this date (YYYY-MM-DD)")
    p.add_argument("-o", "--output", help="write FILE.csv and FILE.png (or a .csv/.png path)")
    p.set_defaults(func=_not_yet)


def _not_yet(args: argparse.Namespace, ctx: Context) -> int:
    print("lookout alerts: this dispatch action is being built; nothing was done", file=sys.stderr)
    return 2
