"""Errors raised by `flight`: one base class, subclasses with fields.

Messages say what went wrong, where, and how to fix it; `lookout.cli` prints them as one line.
"""

from __future__ import annotations


class FlightError(Exception):
    """Base of every error `flight` raises on purpose."""


class LinkError(FlightError):
    """A MAVLink connection could not be opened or used."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"link {url}: {problem}")
        self.url, self.problem = url, problem


class NoVehicle(FlightError):
    """No heartbeat from the wanted vehicle on this link."""

    def __init__(self, url: str, sysid: int | None, timeout_s: float) -> None:
        who = f"vehicle sysid {sysid}" if sysid is not None else "any vehicle"
        when = f"within {timeout_s:g} s" if timeout_s > 0 else "yet"
        super().__init__(
            f"no heartbeat from {who} on {url} {when} "
            "(is the vehicle powered, the URL/port right, and the sysid correct?)"
        )
        self.url, self.sysid, self.timeout_s = url, sysid, timeout_s


class CommandRejected(FlightError):
    """The vehicle answered a command with something other than MAV_RESULT_ACCEPTED."""

    def __init__(self, command: str, result: str, reason: str = "") -> None:
        super().__init__(f"{command} rejected by vehicle ({result})" + (f": {reason}" if reason else ""))
        self.command, self.result, self.reason = command, result, reason


class CommandTimeout(FlightError):
    """No COMMAND_ACK (or no confirming state change) after every retry."""

    def __init__(self, command: str, timeout_s: float, attempts: int) -> None:
        super().__init__(
            f"{command}: no answer from vehicle after {attempts} attempt(s) in {timeout_s:g} s (link lost?)"
        )
        self.command, self.timeout_s, self.attempts = command, timeout_s, attempts


class UnknownMode(FlightError):
    """A flight mode name this autopilot does not have."""

    def __init__(self, name: str, autopilot: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown {autopilot} mode {name!r}; known modes: {', '.join(known)}")
        self.name, self.autopilot, self.known = name, autopilot, known


class MissionTransferError(FlightError):
    """A mission/fence/rally upload or download failed."""

    def __init__(self, what: str, problem: str) -> None:
        super().__init__(f"{what}: {problem}")
        self.what, self.problem = what, problem


class TransferCancelled(MissionTransferError):
    """The caller cancelled a transfer (the vehicle was told with MAV_MISSION_OPERATION_CANCELLED)."""

    def __init__(self, what: str) -> None:
        super().__init__(what, "cancelled")


class ParamError(FlightError):
    """A parameter could not be read or written."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"parameter {name}: {problem}")
        self.name, self.problem = name, problem


class SigningKeyError(FlightError):
    """The MAVLink2 signing key in the config is malformed or its env var is unset."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"signing_key: {problem} (use 64 hex characters or 'env:VARNAME')")
        self.problem = problem


class FlightAborted(FlightError):
    """`run`-style flight sequence stopped for a stated reason (vehicle state, timeout)."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage, self.reason = stage, reason


class UnsafePlan(FlightAborted):
    """``flight.plan_check`` refused a plan for this vehicle; nothing was uploaded (or, ``uploaded``: it
    was checked before the vehicle knew its position, and refused on the second check) nor armed.

    ``problems`` holds every ``PlanProblem``; the message shows the first of each kind and how many
    more of that kind there are, on one line.
    """

    def __init__(self, sysid: int, problems: tuple | list, *, uploaded: bool = False) -> None:  # PlanProblem
        self.sysid, self.problems, self.uploaded = sysid, tuple(problems), uploaded
        kinds: dict[str, list[str]] = {}
        for p in self.problems:
            kinds.setdefault(getattr(p, "kind", ""), []).append(str(p))
        parts = [texts[0] + (f" (and {len(texts) - 1} more {kind} problem{'s' if len(texts) > 2 else ''})"
                             if len(texts) > 1 else "") for kind, texts in kinds.items()]  # fmt: skip
        what = (f"plan refused, not flown by vehicle {sysid} (uploaded while it had no position; nothing armed)"
                if uploaded else f"plan refused, nothing sent to vehicle {sysid}")  # fmt: skip
        super().__init__("check", f"{what}: " + "; ".join(parts))
