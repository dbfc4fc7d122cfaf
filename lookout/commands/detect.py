"""``lookout detect``: run detection and tracking on a source. Not built yet (issue 7, vision)."""

from __future__ import annotations

import argparse

from lookout.commands import add_not_built


def register(sub: argparse._SubParsersAction) -> None:
    add_not_built(sub, "detect", "Run detection and tracking on a source", "issue 7, vision")
