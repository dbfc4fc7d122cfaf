"""``lookout alerts``: list, acknowledge, confirm, dismiss, export alerts (not built yet)."""

from __future__ import annotations

import argparse

from lookout.commands import add_not_built


def register(sub: argparse._SubParsersAction) -> None:
    add_not_built(sub, "alerts", "List, acknowledge, confirm, dismiss, export alerts", "needs dispatch (open issue)")
