"""Errors raised by `missions`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""


class MissionError(Exception):
    """Base of every error `missions` raises on purpose."""
