"""One transfer engine for mission, fence and rally (MAVProxy's mission_item_protocol shape).

Upload: MISSION_COUNT -> vehicle requests items (MISSION_REQUEST_INT, legacy MISSION_REQUEST
accepted) in any order, duplicates answered again -> MISSION_ITEM_INT -> MISSION_ACK. On silence
the last message is resent (COUNT before the first request, else the last item); after
``retries`` silent timeouts in a row the transfer fails. Download: MISSION_REQUEST_LIST ->
MISSION_COUNT, then item requests pipelined ``window`` at a time, out-of-order and duplicate items
tolerated, gaps re-requested, final MISSION_ACK. ``cancel`` (a ``threading.Event``) aborts either
with MAV_MISSION_OPERATION_CANCELLED. ``progress(done, total)`` reports items moved.

``missions.types`` never holds ArduPilot's seq-0 home item: for MISSION transfers with an
ArduPilot vehicle, ``upload_mission`` adds it (``Mission.home``, else the vehicle's home) and
``download_mission`` strips it into ``Mission.home``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from flight._mav import enum_name, mavlink
from flight._missionwire import (
    BOOT_WAIT_S,
    capacity_text,
    item_from_message,
    item_message,
    prebuild,
    wait_booted,
    wait_fence_indexed,
)
from flight.errors import LinkError, MissionTransferError, TransferCancelled
from flight.link import Link
from missions.types import Home, Mission, MissionItem, Plan

MISSION = mavlink.MAV_MISSION_TYPE_MISSION
FENCE = mavlink.MAV_MISSION_TYPE_FENCE
RALLY = mavlink.MAV_MISSION_TYPE_RALLY
_KIND = {MISSION: "mission", FENCE: "fence", RALLY: "rally"}
Progress = Callable[[int, int], None]
log = logging.getLogger(__name__)


def _check_cancel(link: Link, sysid: int, compid: int, mission_type: int, cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        link.send(mavlink.MAVLink_mission_ack_message(sysid, compid, mavlink.MAV_MISSION_OPERATION_CANCELLED,
                                                      mission_type))  # fmt: skip
        raise TransferCancelled(f"{_KIND.get(mission_type, 'mission')} transfer")


class _Aborted(MissionTransferError):
    """The vehicle ended a download with an error MISSION_ACK (the download restarts)."""


def _exclusive(link: Link, sid: int, mission_type: int, what: str, wait_s: float = 60.0) -> threading.Lock:
    lock = link.transfer_lock(sid, mission_type)
    if not lock.acquire(timeout=wait_s):
        raise MissionTransferError(what, f"another {_KIND.get(mission_type, 'mission')} transfer with this vehicle "
                                         f"on this link is still running after {wait_s:g} s")  # fmt: skip
    return lock


def upload_items(link: Link, items: Sequence[MissionItem], *, mission_type: int = MISSION, sysid: int | None = None,
                 progress: Progress | None = None, cancel: threading.Event | None = None,
                 item_timeout_s: float = 1.5, retries: int = 5, boot_wait_s: float = BOOT_WAIT_S) -> None:
    """Upload wire items (seq 0 first, exactly as given) with the mission protocol.

    Waits (up to ``boot_wait_s``) while the vehicle's heartbeat says it is still booting, and
    resends the count if a booting ArduPilot answers NO_SPACE ("Only 0 items are supported").
    One transfer per vehicle and list at a time on a link (others wait: ``Link.transfer_lock``)."""
    sid = link.default_sysid() if sysid is None else sysid
    lock = _exclusive(link, sid, mission_type, f"{_KIND.get(mission_type, 'mission')} upload to sysid {sid}")
    try:
        _upload_items(link, items, mission_type=mission_type, sysid=sid, progress=progress, cancel=cancel,
                      item_timeout_s=item_timeout_s, retries=retries, boot_wait_s=boot_wait_s)  # fmt: skip
    finally:
        lock.release()


def _upload_items(link: Link, items: Sequence[MissionItem], *, mission_type: int, sysid: int,
                  progress: Progress | None, cancel: threading.Event | None, item_timeout_s: float, retries: int,
                  boot_wait_s: float) -> None:
    sid = link.default_sysid() if sysid is None else sysid
    compid = link.target_compid(sid)
    what = f"{_KIND.get(mission_type, 'mission')} upload to sysid {sid}"
    total = len(items)
    me = link.source_system
    wire = prebuild(what, sid, compid, items, mission_type)

    def mine(m: Any) -> bool:
        """Runs on the reader thread: answers item requests at once (no thread hop per item, like
        MAVProxy's handler); the caller only keeps the books, resends on silence and reports."""
        if getattr(m, "mission_type", 0) != mission_type or getattr(m, "target_system", me) not in (0, me):
            return False
        if m.get_type() != "MISSION_ACK" and m.seq < total:
            with contextlib.suppress(LinkError):  # the caller resends on silence
                link.send(wire[m.seq])
        return True

    wait_booted(link, sid, what, boot_wait_s)
    types = ("MISSION_REQUEST_INT", "MISSION_REQUEST", "MISSION_ACK")
    with link.waiter(types, sysid=sid, predicate=mine) as w:
        count_msg = mavlink.MAVLink_mission_count_message(sid, compid, total, mission_type)
        last_sent: Any = count_msg
        t_count = time.monotonic()
        link.send(count_msg)
        sent: set[int] = set()
        silent = 0
        boot_retries = 3
        while True:
            _check_cancel(link, sid, compid, mission_type, cancel)
            m = w.get(item_timeout_s)
            if m is None:
                silent += 1
                if silent > retries:
                    raise MissionTransferError(what, f"vehicle stopped answering after {len(sent)}/{total} items "
                                                     f"({retries} resends; link lost?)")  # fmt: skip
                link.send(last_sent)
                continue
            silent = 0
            if m.get_type() == "MISSION_ACK":
                if m.type == mavlink.MAV_MISSION_ACCEPTED and len(sent) >= total:
                    if mission_type == FENCE:
                        wait_fence_indexed(link, sid, t_count)
                    return
                if m.type == mavlink.MAV_MISSION_ACCEPTED:  # stale ack from an earlier transfer
                    continue
                if m.type == mavlink.MAV_MISSION_NO_SPACE and not sent:
                    link.wait_state(lambda _s, t0=t_count: bool(capacity_text(link, sid, t0)), sysid=sid,
                                    timeout_s=0.5)
                    reason = capacity_text(link, sid, t_count)
                    if boot_retries > 0 and (link.state(sid).system_status == "BOOT" or "Only 0 " in reason):
                        boot_retries -= 1  # still booting: the mission store is not set up yet
                        wait_booted(link, sid, what, boot_wait_s)
                        t_count = time.monotonic()
                        link.send(count_msg)
                        continue
                    raise MissionTransferError(what, f"vehicle rejected it (NO_SPACE) for {total} items"
                                                     + (f": {reason}" if reason else ""))  # fmt: skip
                raise MissionTransferError(what, f"vehicle rejected it ({enum_name('MAV_MISSION_RESULT', m.type)}) "
                                                 f"after {len(sent)}/{total} items")  # fmt: skip
            seq = m.seq
            if seq >= total:
                raise MissionTransferError(what, f"vehicle asked for item {seq} of {total}")
            last_sent = wire[seq]  # (already sent by the reader)
            if seq not in sent:
                sent.add(seq)
                if progress is not None:
                    progress(len(sent), total)


def download_items(link: Link, *, mission_type: int = MISSION, sysid: int | None = None,
                   progress: Progress | None = None, cancel: threading.Event | None = None,
                   item_timeout_s: float = 1.5, retries: int = 5, window: int = 8) -> list[MissionItem]:
    """Download all wire items (seq 0 first, as the vehicle holds them); one transfer at a time as above."""
    sid = link.default_sysid() if sysid is None else sysid
    lock = _exclusive(link, sid, mission_type, f"{_KIND.get(mission_type, 'mission')} download from sysid {sid}")
    try:
        for attempt in range(3):
            try:
                return _download_items(link, mission_type=mission_type, sysid=sid, progress=progress, cancel=cancel,
                                       item_timeout_s=item_timeout_s, retries=retries, window=window)  # fmt: skip
            except _Aborted:
                # the list changed under us (ArduPilot re-indexes an uploaded fence a moment later and
                # answers INVALID_SEQUENCE meanwhile): start again from the count
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
    finally:
        lock.release()


def _download_items(link: Link, *, mission_type: int, sysid: int, progress: Progress | None,
                    cancel: threading.Event | None, item_timeout_s: float, retries: int,
                    window: int) -> list[MissionItem]:
    sid = link.default_sysid() if sysid is None else sysid
    compid = link.target_compid(sid)
    what = f"{_KIND.get(mission_type, 'mission')} download from sysid {sid}"
    me = link.source_system

    lock = threading.Lock()
    window_state = {"total": -1, "next": 0}  # next = lowest seq never requested

    def mine(m: Any) -> bool:
        """Runs on the reader thread: each arriving item requests the next unrequested one, keeping
        ``window`` requests in flight without a thread hop; the caller re-requests gaps on silence."""
        if getattr(m, "mission_type", 0) != mission_type or getattr(m, "target_system", me) not in (0, me):
            return False
        if m.get_type() in ("MISSION_ITEM_INT", "MISSION_ITEM"):
            with lock:
                nxt = window_state["next"]
                if nxt < window_state["total"]:
                    window_state["next"] = nxt + 1
                else:
                    nxt = -1
            if nxt >= 0:
                with contextlib.suppress(LinkError):
                    link.send(mavlink.MAVLink_mission_request_int_message(sid, compid, nxt, mission_type))
        return True

    wait_booted(link, sid, what)
    types = ("MISSION_COUNT", "MISSION_ITEM_INT", "MISSION_ITEM", "MISSION_ACK")
    with link.waiter(types, sysid=sid, predicate=mine) as w:
        request_list = mavlink.MAVLink_mission_request_list_message(sid, compid, mission_type)
        link.send(request_list)
        silent = 0
        while True:
            _check_cancel(link, sid, compid, mission_type, cancel)
            m = w.get(item_timeout_s)
            if m is None:
                silent += 1
                if silent > retries:
                    raise MissionTransferError(what, "no MISSION_COUNT from vehicle (link lost?)")
                link.send(request_list)
                continue
            if m.get_type() == "MISSION_COUNT":
                total = m.count
                break
            if m.get_type() == "MISSION_ACK" and m.type != mavlink.MAV_MISSION_ACCEPTED:
                raise MissionTransferError(what, f"vehicle refused ({enum_name('MAV_MISSION_RESULT', m.type)})")
        got: dict[int, MissionItem] = {}
        with lock:
            first = min(window, total)
            window_state.update(total=total, next=first)
        for seq in range(first):
            link.send(mavlink.MAVLink_mission_request_int_message(sid, compid, seq, mission_type))
        silent = 0
        while len(got) < total:
            _check_cancel(link, sid, compid, mission_type, cancel)
            m = w.get(item_timeout_s)
            if m is None:
                silent += 1
                if silent > retries:
                    raise MissionTransferError(what, f"vehicle stopped answering after {len(got)}/{total} items")
                gaps = [seq for seq in range(total) if seq not in got][:window]
                with lock:
                    window_state["next"] = max(window_state["next"], gaps[-1] + 1)
                for seq in gaps:
                    link.send(mavlink.MAVLink_mission_request_int_message(sid, compid, seq, mission_type))
                continue
            silent = 0
            t = m.get_type()
            if t == "MISSION_ACK":
                if m.type == mavlink.MAV_MISSION_ACCEPTED:
                    continue
                raise _Aborted(what, f"vehicle aborted ({enum_name('MAV_MISSION_RESULT', m.type)}) "
                                                 f"after {len(got)}/{total} items")  # fmt: skip
            if t == "MISSION_COUNT" or m.seq >= total or m.seq in got:
                continue
            got[m.seq] = item_from_message(m)
            if progress is not None:
                progress(len(got), total)
        link.send(mavlink.MAVLink_mission_ack_message(sid, compid, mavlink.MAV_MISSION_ACCEPTED, mission_type))
    return [got[s] for s in range(total)]


def clear(link: Link, *, mission_type: int = MISSION, sysid: int | None = None, timeout_s: float = 1.5,
          retries: int = 3) -> None:
    """MISSION_CLEAR_ALL, waiting for the MISSION_ACK."""
    sid = link.default_sysid() if sysid is None else sysid
    compid = link.target_compid(sid)
    msg = mavlink.MAVLink_mission_clear_all_message(sid, compid, mission_type)
    lock = _exclusive(link, sid, mission_type, f"{_KIND[mission_type]} clear")
    with contextlib.ExitStack() as stack:
        stack.callback(lock.release)
        w = stack.enter_context(link.waiter(("MISSION_ACK",), sysid=sid,
                                            predicate=lambda m: m.mission_type == mission_type))  # fmt: skip
        for _ in range(retries + 1):
            link.send(msg)
            ack = w.get(timeout_s)
            if ack is None:
                continue
            if ack.type == mavlink.MAV_MISSION_ACCEPTED:
                return
            raise MissionTransferError(f"{_KIND[mission_type]} clear", enum_name("MAV_MISSION_RESULT", ack.type))
    raise MissionTransferError(f"{_KIND[mission_type]} clear", "no MISSION_ACK from vehicle")


def _home_item(home: Home) -> MissionItem:
    return MissionItem(command=mavlink.MAV_CMD_NAV_WAYPOINT, frame=mavlink.MAV_FRAME_GLOBAL, lat_deg=home.lat_deg,
                       lon_deg=home.lon_deg, alt_m=home.alt_amsl_m)  # fmt: skip


def _uses_home_item(link: Link, sid: int) -> bool:
    return link.state(sid).autopilot != "px4"


def upload_mission(link: Link, mission: Mission, *, sysid: int | None = None, progress: Progress | None = None,
                   cancel: threading.Event | None = None, **kw: Any) -> None:
    """Upload ``mission`` (adding ArduPilot's seq-0 home item)."""
    sid = link.default_sysid() if sysid is None else sysid
    items = list(mission.items)
    if _uses_home_item(link, sid):
        home = mission.home
        if home is None:
            st = link.state(sid)
            home = Home(st.home_lat_deg or 0.0, st.home_lon_deg or 0.0, st.home_alt_amsl_m or 0.0)
        items.insert(0, _home_item(home))
        if progress is not None:
            user_progress = progress

            def progress(n: int, t: int) -> None:  # report user items, not the home item
                user_progress(max(n - 1, 0), t - 1)

    upload_items(link, items, mission_type=MISSION, sysid=sid, progress=progress, cancel=cancel, **kw)


def download_mission(link: Link, *, sysid: int | None = None, progress: Progress | None = None,
                     cancel: threading.Event | None = None, **kw: Any) -> Mission:
    """Download the mission (stripping ArduPilot's seq-0 home item into ``Mission.home``)."""
    sid = link.default_sysid() if sysid is None else sysid
    has_home = _uses_home_item(link, sid)
    wire_progress = progress
    if progress is not None and has_home:
        user_progress = progress

        def wire_progress(n: int, t: int) -> None:  # report user items, not the home item
            user_progress(max(n - 1, 0), max(t - 1, 0))

    items = download_items(link, mission_type=MISSION, sysid=sid, progress=wire_progress, cancel=cancel, **kw)
    home = None
    if items and has_home:
        h = items.pop(0)
        home = Home(h.lat_deg, h.lon_deg, h.alt_m)
    return Mission(items=tuple(items), home=home)


def _same_fence(a: Sequence[MissionItem], b: Sequence[MissionItem]) -> bool:
    return len(a) == len(b) and all(
        x.command == y.command and abs(x.lat_deg - y.lat_deg) < 1.5e-7 and abs(x.lon_deg - y.lon_deg) < 1.5e-7
        and abs(x.param1 - y.param1) < 1e-3 for x, y in zip(a, b, strict=True))  # fmt: skip


def upload_fence(link: Link, items: Sequence[MissionItem], *, verify: bool = True, **kw: Any) -> None:
    """Upload the fence and (``verify``) read it back; if the vehicle does not hold what was sent,
    upload once more and check again, else raise. Seen on ArduCopter 4.7 SITL: the first circle-only
    fence uploaded over a polygon fence is acknowledged, then the vehicle reads 0 items (a second
    upload of the same items is kept)."""
    upload_items(link, items, mission_type=FENCE, **kw)
    if not verify:
        return
    sysid = kw.get("sysid")
    for attempt in range(2):
        back = download_items(link, mission_type=FENCE, sysid=sysid)
        if _same_fence(items, back):
            return
        if attempt == 0:
            log.warning("fence upload to sysid %s: vehicle reads back %d items, not the %d sent; uploading again",
                        sysid, len(back), len(items))  # fmt: skip
            upload_items(link, items, mission_type=FENCE, **kw)
    raise MissionTransferError(f"fence upload to sysid {sysid}", f"the vehicle holds {len(back)} fence items after "
                               f"two uploads of {len(items)}; check its FENCE_* parameters and storage")  # fmt: skip


def download_fence(link: Link, **kw: Any) -> tuple[MissionItem, ...]:
    return tuple(download_items(link, mission_type=FENCE, **kw))


def upload_rally(link: Link, items: Sequence[MissionItem], **kw: Any) -> None:
    upload_items(link, items, mission_type=RALLY, **kw)


def download_rally(link: Link, **kw: Any) -> tuple[MissionItem, ...]:
    return tuple(download_items(link, mission_type=RALLY, **kw))


def upload_plan(link: Link, plan: Plan, *, sysid: int | None = None, progress: Progress | None = None,
                cancel: threading.Event | None = None) -> None:
    """Mission, then fence and rally if the plan has them (progress counts all items)."""
    total = len(plan.mission.items) + len(plan.fence) + len(plan.rally)
    done = 0

    def step(n: int, _t: int) -> None:
        if progress is not None:
            progress(min(done + n, total), total)

    upload_mission(link, plan.mission, sysid=sysid, progress=step, cancel=cancel)
    done += len(plan.mission.items)
    if plan.fence:
        upload_fence(link, plan.fence, sysid=sysid, progress=step, cancel=cancel)
        done += len(plan.fence)
    if plan.rally:
        upload_rally(link, plan.rally, sysid=sysid, progress=step, cancel=cancel)


__all__ = ["BOOT_WAIT_S", "item_from_message", "item_message", "wait_booted"]  # re-exported wire helpers
