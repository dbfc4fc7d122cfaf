"""``lookout sim``: run embedded simulated copters. Not built yet (issue 5, flight/sim)."""

from __future__ import annotations

import argparse

from lookout.commands import add_not_built


def register(sub: argparse._SubParsersAction) -> None:
    add_not_built(sub, "sim", "Run embedded simulated copters", "issue 5, flight/sim")
