"""Errors raised by `vision`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""


class VisionError(Exception):
    """Base of every error `vision` raises on purpose."""
