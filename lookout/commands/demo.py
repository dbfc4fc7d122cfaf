"""``lookout demo``: console + embedded drones + sample feeds, fully offline (not built yet)."""

from __future__ import annotations

import argparse

from lookout.commands import add_not_built


def register(sub: argparse._SubParsersAction) -> None:
    add_not_built(
        sub, "demo", "Console + embedded drones + sample feeds, fully offline", "needs the console (open issue)"
    )
