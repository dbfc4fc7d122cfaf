"""Errors raised by `flight`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""


class FlightError(Exception):
    """Base of every error `flight` raises on purpose."""
