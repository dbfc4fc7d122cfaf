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


# --- outbox, sinks, units, response (dispatch forwarding) ---


class SinkConfigError(DispatchError):
    """A sink cannot be built from its config (secret variable unset, bad whsec_ value, …)."""


class DeliveryError(DispatchError):
    """One delivery attempt failed. ``permanent`` means retrying the same message cannot help."""

    def __init__(self, message: str, *, permanent: bool = False, sink_down: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.sink_down = sink_down  # the sink as a whole is unreachable: back the whole sink off


class OutboxError(DispatchError):
    """The outbox cannot do what was asked (unknown message id, unknown sink)."""


class UnitError(DispatchError):
    """A unit is unknown, has no position, or is not in a state that allows the action."""


class ResponseError(DispatchError):
    """A response-clock step is out of order (on scene before dispatched, …) or the alert has no position."""


class DroneRefused(DispatchError):
    """No drone may be sent to an alert (none ready, or the user's role may not fly); says why."""
