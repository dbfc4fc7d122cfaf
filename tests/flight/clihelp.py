"""Run ``lookout`` in-process from tests."""

from __future__ import annotations

import logging

from lookout.cli import main


def cli(argv: list[str]) -> int:
    """``lookout.cli.main`` with the root logger restored afterwards: main() points it at this test's
    captured stderr, and sim/link threads winding down later must not write to a closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return main(argv)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
