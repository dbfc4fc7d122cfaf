"""Alert lifecycle and de-duplication rules (pure functions; ``dispatch.store`` applies them).

Lifecycle::

    new -> acknowledged -> confirmed | dismissed (with a reason) -> closed
    new -> confirmed | dismissed          (a dispatch desk decides without acknowledging first)

De-duplication (Frigate's review item): an event of the same kind on the same feed whose track ids
overlap an open alert's (or that happens in the same zone while that alert is still new or
acknowledged: other people joining one incident; or, both without tracks, in the same zone) and that
starts within the rule's cooldown after that alert's last event updates that alert (count, t_end, event ids, track
ids, newest position) instead of raising another. Closed alerts are never updated: the next event
raises a new alert. Dismissed alerts are updated (and stay dismissed): the operator has judged that
track; raising it again within the cooldown would be the noise de-duplication exists to stop.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from dispatch.errors import AlertError
from dispatch.types import SEVERITIES, Alert, AlertInput, AlertState, EvidenceRef, Transition

#: lifecycle action -> (role action checked by ``dispatch.roles.may``, states it may start from, state it ends in)
LIFECYCLE: dict[str, tuple[str, frozenset[AlertState], AlertState]] = {
    "acknowledge": ("alerts.ack", frozenset({AlertState.NEW}), AlertState.ACKNOWLEDGED),
    "confirm": ("alerts.confirm", frozenset({AlertState.NEW, AlertState.ACKNOWLEDGED}), AlertState.CONFIRMED),
    "dismiss": ("alerts.dismiss", frozenset({AlertState.NEW, AlertState.ACKNOWLEDGED}), AlertState.DISMISSED),
    "close": ("alerts.close", frozenset({AlertState.CONFIRMED, AlertState.DISMISSED}), AlertState.CLOSED),
}

MAX_TRACK_PATH = 2000  # points kept per alert (newest)
MAX_EVENT_IDS = 10_000


def check_transition(alert: Alert, verb: str, note: str) -> AlertState:
    """The state ``verb`` moves ``alert`` to; ``AlertError`` (one line) when its state does not allow it."""
    _, sources, target = LIFECYCLE[verb]
    if alert.state not in sources:
        allowed = " or ".join(sorted(str(s) for s in sources))
        raise AlertError(
            f"alert {alert.id} is {alert.state}; it cannot be {target} (only from {allowed})"
        )
    if verb == "dismiss" and not note.strip():
        raise AlertError(f"alert {alert.id}: a dismissal needs a reason (--reason TEXT)")
    return target


def apply_transition(alert: Alert, target: AlertState, user: str, note: str, now: datetime, version: int) -> Alert:
    t = Transition(t_utc=now, user=user, from_state=alert.state, to_state=target, note=note.strip())
    line = f"{now.isoformat(timespec='seconds')} {user} ({target}): {note.strip()}"
    notes = (*alert.notes, line) if note.strip() else alert.notes
    return replace(alert, state=target, history=(*alert.history, t), notes=notes, updated_utc=now, version=version)


def check_input(inp: AlertInput) -> None:
    """Bad input changes nothing: reject it with one line before anything is written."""
    where = f"event {inp.event_id!r}"
    if not inp.event_id:
        raise AlertError("alert input: empty event_id; every event needs its id")
    for name in ("t_start_utc", "t_end_utc"):
        t = getattr(inp, name)
        if not isinstance(t, datetime) or t.tzinfo is None:
            raise AlertError(f"{where}: {name} must be a timezone-aware datetime (got {t!r})")
    if inp.t_end_utc < inp.t_start_utc:
        raise AlertError(f"{where}: t_end_utc {inp.t_end_utc} is before t_start_utc {inp.t_start_utc}")
    if inp.severity not in SEVERITIES:
        raise AlertError(f"{where}: severity {inp.severity!r} is not one of {', '.join(SEVERITIES)}")
    if not inp.kind or not inp.feed:
        raise AlertError(f"{where}: kind and feed must not be empty")
    if inp.cooldown_s < 0:
        raise AlertError(f"{where}: cooldown_s must be >= 0 (got {inp.cooldown_s})")
    if inp.snapshot is not None:
        check_evidence(inp.snapshot, where)


def check_evidence(ref: EvidenceRef, where: str) -> None:
    if len(ref.sha256) != 64 or any(c not in "0123456789abcdef" for c in ref.sha256):
        raise AlertError(f"{where}: evidence {ref.path!r}: sha256 must be 64 lowercase hex digits")
    if ref.size_bytes < 0 or not ref.path or ref.path.startswith("/") or ".." in ref.path.split("/"):
        raise AlertError(f"{where}: evidence path {ref.path!r} must be relative to the data directory, inside it")


def match_rank(alert: Alert, inp: AlertInput) -> int:
    """How well ``inp`` continues ``alert``: 2 the same person (overlapping tracks, or neither has tracks in the
    same zone), 1 another person in the same zone of a still undecided alert, 0 not at all (module docstring)."""
    if alert.state == AlertState.CLOSED or alert.kind != inp.kind or alert.feed != inp.feed:
        return 0
    window = timedelta(seconds=inp.cooldown_s)
    if not (inp.t_start_utc <= alert.t_end_utc + window and inp.t_end_utc >= alert.t_start_utc - window):
        return 0
    same_zone = inp.zone is not None and alert.zone == inp.zone
    if inp.track_ids or alert.track_ids:
        if set(inp.track_ids) & set(alert.track_ids):
            return 2
    elif alert.zone == inp.zone:
        return 2
    # others in the same zone while nobody has decided yet are one incident (a group entering a restricted
    # area, an accomplice at the next car), as Frigate groups a camera's activity into one review item
    return 1 if same_zone and alert.state in (AlertState.NEW, AlertState.ACKNOWLEDGED) else 0


def matches(alert: Alert, inp: AlertInput) -> bool:
    """True when ``inp`` continues ``alert`` (see the module docstring)."""
    return match_rank(alert, inp) > 0


def merge(alert: Alert, inp: AlertInput, now: datetime, version: int) -> Alert:
    """``alert`` updated by one more event ``inp`` (state, history and notes unchanged)."""
    sev = max(alert.severity, inp.severity, key=lambda s: SEVERITIES.index(s) if s in SEVERITIES else -1)
    evidence = alert.evidence + ((inp.snapshot,) if inp.snapshot and inp.snapshot not in alert.evidence else ())
    return replace(
        alert,
        severity=sev,
        t_start_utc=min(alert.t_start_utc, inp.t_start_utc),
        t_end_utc=max(alert.t_end_utc, inp.t_end_utc),
        track_ids=tuple(sorted(set(alert.track_ids) | set(inp.track_ids))),
        position=inp.position or alert.position,
        zone=inp.zone or alert.zone,
        summary=inp.summary or alert.summary,
        details=inp.details or alert.details,
        evidence=evidence,
        event_ids=((*alert.event_ids, inp.event_id))[-MAX_EVENT_IDS:],
        count=alert.count + 1,
        track_path=(alert.track_path + inp.track_path)[-MAX_TRACK_PATH:],
        cooldown_s=max(alert.cooldown_s, inp.cooldown_s),
        updated_utc=now,
        version=version,
    )


def new_alert(inp: AlertInput, now: datetime, version: int) -> Alert:
    """A fresh alert for ``inp`` (``id`` 0 until the store inserts it)."""
    return Alert(
        id=0, kind=inp.kind, severity=inp.severity, feed=inp.feed, t_start_utc=inp.t_start_utc,
        t_end_utc=inp.t_end_utc, track_ids=tuple(sorted(set(inp.track_ids))), position=inp.position, zone=inp.zone,
        summary=inp.summary, details=dict(inp.details), state=AlertState.NEW, notes=(), history=(),
        evidence=(inp.snapshot,) if inp.snapshot else (), event_ids=(inp.event_id,), count=1, created_utc=now,
        updated_utc=now, version=version, track_path=tuple(inp.track_path)[-MAX_TRACK_PATH:], node=inp.node,
        cooldown_s=inp.cooldown_s,
    )  # fmt: skip
