"""``lookout console``: start the console. Not built yet (needs the console (open issue))."""

from __future__ import annotations

import argparse

from lookout.commands import add_not_built


def register(sub: argparse._SubParsersAction) -> None:
    add_not_built(sub, "console", "Start the console", "needs the console (open issue)")
