"""The vehicle side of the MAVLink mission protocol (mission, fence and rally items), as ArduCopter
4.7 SITL speaks it (``tests/flight/test_sim_vs_sitl.py`` compares the two on the wire).

Upload: MISSION_COUNT -> the vehicle asks for each item with MISSION_REQUEST (ArduPilot never sends
MISSION_REQUEST_INT; it takes MISSION_ITEM_INT or MISSION_ITEM in reply) -> MISSION_ACK. An item
out of order gets MISSION_ACK INVALID_SEQUENCE and the upload goes on; a bad item ends it with its
error at once (e.g. INVALID_PARAM5_X). Silence: the request is resent every 1 s, and after 8 s the
upload ends with MISSION_ACK OPERATION_CANCELLED and "Mission upload timeout". More items than the
vehicle holds: NO_SPACE and "Only N items are supported" (0 while booting). Mission items are
written as they arrive, so a failed upload leaves the mission cut to the new count and partly new,
as on ArduPilot; fence and rally items are committed at the end.

Download: MISSION_REQUEST_LIST -> MISSION_COUNT (0 when there is no mission; else seq 0 is the
current home) -> MISSION_REQUEST_INT -> MISSION_ITEM_INT (legacy MISSION_REQUEST: MISSION_ITEM and
a one-time "got MISSION_REQUEST; use MISSION_REQUEST_INT!"). A request past the end gets
MISSION_COUNT then MISSION_ACK INVALID_SEQUENCE.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pymavlink.dialects.v20 import ardupilotmega as mavlink

from flight.sim import auto
from flight.sim.fence import zones
from flight.sim.items import MISSION_TYPES, Item, item_from_msg, item_to_msg
from flight.sim.state import SEV_INFO, SEV_WARNING, CopterState

if TYPE_CHECKING:
    from flight.sim.transport import Conn

log = logging.getLogger(__name__)
M = mavlink
CAPACITY = 650  # ArduCopter SITL's num_commands_max() ("Only 650 items are supported"), home included
RESEND_S = 1.0  # sim seconds between resent requests (AP: 1000 ms)
TIMEOUT_S = 8.0  # sim seconds without an item before the upload is cancelled (AP: 8000 ms)
MIN_RESEND_WALL_S = 0.1  # ... but never faster than this wall time at high speedups
MIN_TIMEOUT_WALL_S = 2.0  # ... and never cancelled sooner than this (a loaded test machine)
_FENCE_CMDS = frozenset(
    {
        M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
        M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
        M.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION,
        M.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
        M.MAV_CMD_NAV_FENCE_RETURN_POINT,
    }
)
_POLYGONS = (M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION, M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION)


@dataclass
class Upload:
    conn: Conn
    target: tuple[int, int]
    mission_type: int
    count: int
    items: list[Item] = field(default_factory=list)
    last_rx_sim: float = 0.0
    last_rx_wall: float = 0.0
    last_req_sim: float = 0.0
    last_req_wall: float = 0.0


class MissionProtocol:
    def __init__(self, state: CopterState) -> None:
        self.s = state
        self.upload: Upload | None = None
        self._warned: set[int] = set()  # connections told to use MISSION_REQUEST_INT

    def home_item(self) -> Item:
        lat, lon, alt = self.s.home or (0.0, 0.0, 0.0)
        return Item(M.MAV_CMD_NAV_WAYPOINT, M.MAV_FRAME_GLOBAL, x=lat, y=lon, z=alt)

    def stored(self, mission_type: int) -> list[Item]:
        if mission_type == M.MAV_MISSION_TYPE_MISSION:
            return [self.home_item(), *self.s.missions[0][1:]] if self.s.missions[0] else []
        return self.s.missions[mission_type]

    def _ack(self, conn: Conn, target: tuple[int, int], result: int, mtype: int) -> None:
        conn.send(M.MAVLink_mission_ack_message(*target, result, mtype))

    def handle(self, conn: Conn, msg, target: tuple[int, int], now: float) -> bool:
        """Handle one mission-protocol message; False when ``msg`` is not one."""
        kind = msg.get_type()
        mtype = getattr(msg, "mission_type", 0)
        unsupported = mtype not in MISSION_TYPES and not (
            kind == "MISSION_CLEAR_ALL" and mtype == M.MAV_MISSION_TYPE_ALL
        )
        if kind in ("MISSION_COUNT", "MISSION_REQUEST_LIST", "MISSION_CLEAR_ALL") and unsupported:
            self._ack(conn, target, M.MAV_MISSION_UNSUPPORTED, mtype)
            return True
        if kind == "MISSION_COUNT":
            self._start_upload(conn, msg, target, now)
        elif kind in ("MISSION_ITEM_INT", "MISSION_ITEM"):
            self._item(conn, msg, target, now)
        elif kind == "MISSION_REQUEST_LIST":
            conn.send(M.MAVLink_mission_count_message(*target, len(self.stored(mtype)), mtype))
        elif kind in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
            self._send_item(conn, msg, target, kind == "MISSION_REQUEST_INT")
        elif kind == "MISSION_CLEAR_ALL":
            types = MISSION_TYPES if mtype == M.MAV_MISSION_TYPE_ALL else (mtype,)
            for t in types:
                self._commit(t, [])
            self._ack(conn, target, M.MAV_MISSION_ACCEPTED, mtype)
        elif kind == "MISSION_SET_CURRENT":
            if not auto.set_current(self.s, msg.seq):
                self.s.text(SEV_WARNING, f"Mission: set current {msg.seq} out of range")
            self.s.out.changed.add("mission_current")
        elif kind == "MISSION_ACK":
            pass  # end of a download; nothing to do
        else:
            return False
        return True

    def _send_item(self, conn: Conn, msg, target: tuple[int, int], as_int: bool) -> None:
        mtype = msg.mission_type
        items = self.stored(mtype)
        if not as_int and id(conn) not in self._warned:
            self._warned.add(id(conn))
            self.s.text(SEV_WARNING, "got MISSION_REQUEST; use MISSION_REQUEST_INT!")
        if mtype == M.MAV_MISSION_TYPE_MISSION and msg.seq == 0 and not items:
            items = [self.home_item()]  # seq 0 is always answered (zeros before home is set)
        if not 0 <= msg.seq < len(items):
            conn.send(M.MAVLink_mission_count_message(*target, len(self.stored(mtype)), mtype))
            self._ack(conn, target, M.MAV_MISSION_INVALID_SEQUENCE, mtype)
            return
        conn.send(item_to_msg(items[msg.seq], msg.seq, target, mtype, as_int, 0))

    def _start_upload(self, conn: Conn, msg, target: tuple[int, int], now: float) -> None:
        mtype = msg.mission_type
        if self.upload is not None and self.upload.conn is not conn:
            self._ack(conn, target, M.MAV_MISSION_DENIED, mtype)
            return
        capacity = 0 if self.s.booting else CAPACITY
        if msg.count > capacity:
            self._ack(conn, target, M.MAV_MISSION_NO_SPACE, mtype)
            self.s.text(SEV_WARNING, f"Only {capacity} items are supported")
            return
        if msg.count == 0:
            self.upload = None
            self._commit(mtype, [])
            self._ack(conn, target, M.MAV_MISSION_ACCEPTED, mtype)
            return
        if mtype == M.MAV_MISSION_TYPE_MISSION and len(self.s.missions[0]) > msg.count:
            self._store_mission(self.s.missions[0][: msg.count])  # AP truncates at the count
        self.upload = Upload(conn, target, mtype, msg.count, last_rx_sim=self.s.t, last_rx_wall=now)
        self._request(now)

    def _request(self, now: float) -> None:
        up = self.upload
        if up is None:
            return
        up.conn.send(M.MAVLink_mission_request_message(*up.target, len(up.items), up.mission_type))
        up.last_req_sim, up.last_req_wall = self.s.t, now

    def _item(self, conn: Conn, msg, target: tuple[int, int], now: float) -> None:
        up = self.upload
        if up is None or up.conn is not conn or msg.mission_type != up.mission_type:
            self._ack(conn, target, M.MAV_MISSION_ERROR, msg.mission_type)
            return
        if msg.seq != len(up.items):
            self._ack(conn, up.target, M.MAV_MISSION_INVALID_SEQUENCE, up.mission_type)
            return
        item = item_from_msg(msg)
        result = self._check(up.mission_type, item)
        if result != M.MAV_MISSION_ACCEPTED:
            self.upload = None
            self._ack(conn, up.target, result, up.mission_type)
            return
        up.items.append(item)
        up.last_rx_sim, up.last_rx_wall = self.s.t, now
        if up.mission_type == M.MAV_MISSION_TYPE_MISSION:  # written as it arrives, as AP_Mission does
            stored = self.s.missions[0]
            new = self.home_item() if msg.seq == 0 else item
            self._store_mission([*stored[: msg.seq], new, *stored[msg.seq + 1 :]])
        if len(up.items) < up.count:
            self._request(now)
            return
        self.upload = None
        result = self._check_all(up.mission_type, up.items)
        if result == M.MAV_MISSION_ACCEPTED and up.mission_type != M.MAV_MISSION_TYPE_MISSION:
            self._commit(up.mission_type, up.items)
        self._ack(conn, up.target, result, up.mission_type)
        if result == M.MAV_MISSION_ACCEPTED and up.mission_type == M.MAV_MISSION_TYPE_MISSION:
            self.s.text(SEV_INFO, "Flight plan received")

    def _check(self, mtype: int, it: Item) -> int:
        """One item as ArduPilot checks it on arrival."""
        if it.is_location:
            if not math.isfinite(it.x) or abs(it.x) > 90:
                return M.MAV_MISSION_INVALID_PARAM5_X
            if not math.isfinite(it.y) or abs(it.y) > 180:
                return M.MAV_MISSION_INVALID_PARAM6_Y
        if not math.isfinite(it.z):
            return M.MAV_MISSION_INVALID_PARAM7
        if mtype == M.MAV_MISSION_TYPE_FENCE and it.command not in _FENCE_CMDS:
            return M.MAV_MISSION_UNSUPPORTED
        if mtype == M.MAV_MISSION_TYPE_RALLY and it.command != M.MAV_CMD_NAV_RALLY_POINT:
            return M.MAV_MISSION_UNSUPPORTED
        return M.MAV_MISSION_ACCEPTED

    def _check_all(self, mtype: int, items: list[Item]) -> int:
        if mtype == M.MAV_MISSION_TYPE_FENCE:
            for cmd, verts, _r in zones(items):
                if cmd in _POLYGONS and len(verts) < 3:
                    return M.MAV_MISSION_INVALID_PARAM1
        return M.MAV_MISSION_ACCEPTED

    def _store_mission(self, items: list[Item]) -> None:
        s = self.s
        s.missions[0] = items
        if s.auto.current >= len(items):
            auto.reset(s)
        s.out.changed.add("mission_current")

    def _commit(self, mtype: int, items: list[Item]) -> None:
        if mtype == M.MAV_MISSION_TYPE_MISSION:
            self._store_mission([self.home_item(), *items[1:]] if items else [])
        else:
            self.s.missions[mtype] = list(items)

    def tick(self, now: float) -> None:
        up = self.upload
        if up is None:
            return
        t = self.s.t
        if up.conn.closed or (t - up.last_rx_sim > TIMEOUT_S and now - up.last_rx_wall > MIN_TIMEOUT_WALL_S):
            log.info("sysid %d: mission upload cancelled (no item for %.1f s)", self.s.sysid, t - up.last_rx_sim)
            self.upload = None
            if not up.conn.closed:
                self._ack(up.conn, up.target, M.MAV_MISSION_OPERATION_CANCELLED, up.mission_type)
            self.s.text(SEV_WARNING, "Mission upload timeout")
            return
        if t - up.last_req_sim > RESEND_S and now - up.last_req_wall > MIN_RESEND_WALL_S:
            self._request(now)
