"""Parameters: read one, write one (confirmed by the echoed PARAM_VALUE), list all (gaps re-requested)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flight._mav import mavlink
from flight.errors import ParamError
from flight.link import Link


def _name(m: Any) -> str:
    pid = m.param_id
    if isinstance(pid, bytes):
        pid = pid.decode("ascii", "replace")
    return pid.rstrip("\x00")


def _id_bytes(name: str) -> bytes:
    raw = name.encode("ascii")
    if not raw or len(raw) > 16:
        raise ParamError(name, "names are 1-16 ASCII characters")
    return raw


def read_param(link: Link, name: str, sysid: int | None = None, *, timeout_s: float = 1.0,
               retries: int = 3) -> float:
    sid = link.default_sysid() if sysid is None else sysid
    pid = _id_bytes(name)
    with link.waiter(("PARAM_VALUE",), sysid=sid, predicate=lambda m: _name(m) == name) as w:
        for _ in range(retries + 1):
            link.send(mavlink.MAVLink_param_request_read_message(sid, link.target_compid(sid), pid, -1))
            m = w.get(timeout_s)
            if m is not None:
                return float(m.param_value)
    raise ParamError(name, f"no PARAM_VALUE from sysid {sid} after {retries + 1} requests (does it exist?)")


def write_param(link: Link, name: str, value: float, sysid: int | None = None, *,
                param_type: int = mavlink.MAV_PARAM_TYPE_REAL32, timeout_s: float = 1.0, retries: int = 3) -> float:
    """Set ``name``; returns the value the vehicle echoes (raises if it never does or differs)."""
    sid = link.default_sysid() if sysid is None else sysid
    pid = _id_bytes(name)
    with link.waiter(("PARAM_VALUE",), sysid=sid, predicate=lambda m: _name(m) == name) as w:
        for _ in range(retries + 1):
            link.send(mavlink.MAVLink_param_set_message(sid, link.target_compid(sid), pid, float(value), param_type))
            m = w.get(timeout_s)
            if m is None:
                continue
            if abs(float(m.param_value) - float(value)) > 1e-4 * max(1.0, abs(float(value))):
                raise ParamError(name, f"vehicle kept {m.param_value:g} instead of {value:g} (out of range?)")
            return float(m.param_value)
    raise ParamError(name, f"no PARAM_VALUE echo from sysid {sid} after {retries + 1} attempts")


def list_params(link: Link, sysid: int | None = None, *, timeout_s: float = 2.0, retries: int = 3,
                progress: Callable[[int, int], None] | None = None) -> dict[str, float]:
    """All parameters by name (PARAM_REQUEST_LIST, then PARAM_REQUEST_READ by index for gaps)."""
    sid = link.default_sysid() if sysid is None else sysid
    compid = link.target_compid(sid)
    by_index: dict[int, tuple[str, float]] = {}
    total: int | None = None
    with link.waiter(("PARAM_VALUE",), sysid=sid) as w:
        link.send(mavlink.MAVLink_param_request_list_message(sid, compid))
        attempts = 0
        while total is None or len(by_index) < total:
            m = w.get(timeout_s)
            if m is None:
                attempts += 1
                if attempts > retries:
                    have = len(by_index)
                    raise ParamError("*", f"list from sysid {sid} stalled at {have}/{total if total else '?'}")
                if total is None:
                    link.send(mavlink.MAVLink_param_request_list_message(sid, compid))
                else:
                    for idx in [i for i in range(total) if i not in by_index][:32]:
                        link.send(mavlink.MAVLink_param_request_read_message(sid, compid, b"", idx))
                continue
            total = m.param_count
            if 0 <= m.param_index < total and m.param_index not in by_index:
                by_index[m.param_index] = (_name(m), float(m.param_value))
                if progress is not None:
                    progress(len(by_index), total)
    return dict(sorted(by_index.values()))
