"""Errors raised by ``flight.sim`` (subclasses of :class:`flight.errors.FlightError`)."""

from __future__ import annotations

from flight.errors import FlightError


class SimError(FlightError):
    """Base of every error the simulator raises on purpose."""


class SimConfigError(SimError):
    """A bad argument to ``SimFleet.start`` or ``lookout sim`` (URL, home, vehicle count ...)."""

    def __init__(self, what: str, value: object, fix: str) -> None:
        self.what = what
        self.value = value
        super().__init__(f"sim: bad {what} {value!r}; {fix}")
