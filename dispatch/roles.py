"""Roles and what each may do: ``may(role, action)``, deny by default.

========== =========================================================================
role       actions
========== =========================================================================
pilot      alerts.view, alerts.ack, flight.* (arm, mode, takeoff, goto, rtl, land, upload, run)
operator   alerts.view, alerts.ack, alerts.confirm, alerts.dismiss, alerts.close
dispatcher the operator's actions + alerts.dispatch
admin      everything, including users.manage and alerts.prune (run evidence retention now)
========== =========================================================================
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dispatch.errors import PermissionDenied


class Role(StrEnum):
    PILOT = "pilot"
    OPERATOR = "operator"
    DISPATCHER = "dispatcher"
    ADMIN = "admin"


FLIGHT_ACTIONS = frozenset(
    {"flight.arm", "flight.mode", "flight.takeoff", "flight.goto", "flight.rtl", "flight.land", "flight.upload",
     "flight.run"}
)  # fmt: skip
ALERT_ACTIONS = frozenset(
    {"alerts.view", "alerts.ack", "alerts.confirm", "alerts.dismiss", "alerts.close", "alerts.dispatch"}
)
ACTIONS = FLIGHT_ACTIONS | ALERT_ACTIONS | {"users.manage", "alerts.prune"}  # prune: delete evidence now

_OPERATOR = frozenset({"alerts.view", "alerts.ack", "alerts.confirm", "alerts.dismiss", "alerts.close"})
_ALLOWED: dict[Role, frozenset[str]] = {
    Role.PILOT: frozenset({"alerts.view", "alerts.ack"}) | FLIGHT_ACTIONS,
    Role.OPERATOR: _OPERATOR,
    Role.DISPATCHER: _OPERATOR | {"alerts.dispatch"},
    Role.ADMIN: ACTIONS,
}


def may(role: Role, action: str) -> bool:
    """True when ``role`` may take ``action``; an unknown action or role is refused."""
    try:
        return action in _ALLOWED[Role(role)]
    except ValueError:
        return False


def allowed_actions(role: Role) -> frozenset[str]:
    """Everything ``role`` may do (the console shows only these)."""
    return _ALLOWED[Role(role)]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is working: a user from ``<data>/users.json``, or the local admin when no user is set up."""

    name: str
    role: Role

    @classmethod
    def local_admin(cls) -> Actor:
        """No users set up: one local admin, named after the OS account (as Frigate runs with auth off)."""
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(f"local:{who}", Role.ADMIN)

    def may(self, action: str) -> bool:
        return may(self.role, action)


def require(actor: Actor, action: str, audit: Callable[..., Any] | None, subject: str = "") -> None:
    """Refuse ``action`` unless ``actor``'s role may take it: the refusal is audited, then ``PermissionDenied``."""
    if may(actor.role, action):
        return
    if audit is not None:
        audit(actor.name, "denied", subject, requested=action, role=str(actor.role))
    raise PermissionDenied(
        f"{actor.name} ({actor.role}) may not {action}{' on ' + subject if subject else ''}; "
        "ask an admin to act, or log in as a user whose role allows it (--user NAME)"
    )
