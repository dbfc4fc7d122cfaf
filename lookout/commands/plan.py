"""``lookout plan``: plan, check and convert patrol missions. Not built yet (issue 6, missions)."""

from __future__ import annotations

import argparse

from lookout.commands import add_not_built


def register(sub: argparse._SubParsersAction) -> None:
    add_not_built(sub, "plan", "Plan, check and convert patrol missions", "issue 6, missions")
