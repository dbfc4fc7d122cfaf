"""Errors raised by `dispatch`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""


class DispatchError(Exception):
    """Base of every error `dispatch` raises on purpose."""
