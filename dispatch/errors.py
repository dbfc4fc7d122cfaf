"""Errors raised by `dispatch`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""


class DispatchError(Exception):
    """Base of every error `dispatch` raises on purpose."""


class AlertError(DispatchError):
    """An alert operation is not possible: unknown alert, a transition its state does not allow, bad input."""


class PermissionDenied(DispatchError):
    """The acting user's role may not take this action (the refusal is audited)."""


class StoreError(DispatchError):
    """The alert database is unreadable, corrupt, or of a schema version this Lookout cannot use."""


class UserError(DispatchError):
    """The user directory (``<data>/users.json``) is unreadable, or a user name, role or password is invalid."""


class AuthError(DispatchError):
    """Who is working could not be established: unknown user, wrong password, no password given."""
