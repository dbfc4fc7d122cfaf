"""Errors raised by `console`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""


class ConsoleError(Exception):
    """Base of every error `console` raises on purpose."""
