"""``lookout fly``: fly a vehicle from the command line. Not built yet (issue 4, flight)."""

from __future__ import annotations

import argparse

from lookout.commands import add_not_built


def register(sub: argparse._SubParsersAction) -> None:
    add_not_built(sub, "fly", "Fly a vehicle from the command line", "issue 4, flight")
