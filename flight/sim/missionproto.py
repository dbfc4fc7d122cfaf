"""The vehicle side of the MAVLink mission protocol (mission, fence and rally items).

Upload: MISSION_COUNT -> we request items one by one -> MISSION_ACK. We first ask with
MISSION_REQUEST_INT; a client that answers with legacy MISSION_ITEM (dronekit) is asked with
MISSION_REQUEST from then on, and retries alternate between the two, so both kinds of client
work. Download: MISSION_REQUEST_LIST -> MISSION_COUNT -> MISSION_REQUEST(_INT) -> item of the
same kind. For the mission type, seq 0 is always the current home (ArduPilot convention).
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
from flight.sim.state import SEV_WARNING, CopterState

if TYPE_CHECKING:
    from flight.sim.transport import Conn

log = logging.getLogger(__name__)
M = mavlink
MAX_ITEMS = 700
RETRY_WALL_S = 0.5
MAX_RETRIES = 10


@dataclass
class Upload:
    conn: Conn
    target: tuple[int, int]
    mission_type: int
    count: int
    items: list[Item] = field(default_factory=list)
    use_int: bool | None = None
    deadline: float = 0.0
    retries: int = 0


class MissionProtocol:
    def __init__(self, state: CopterState) -> None:
        self.s = state
        self.upload: Upload | None = None

    def home_item(self) -> Item:
        lat, lon, alt = self.s.home or (*self.s.latlon, self.s.origin[2])
        return Item(M.MAV_CMD_NAV_WAYPOINT, M.MAV_FRAME_GLOBAL, x=lat, y=lon, z=alt)

    def stored(self, mission_type: int) -> list[Item]:
        if mission_type == M.MAV_MISSION_TYPE_MISSION:
            return [self.home_item(), *self.s.missions[0][1:]]
        return self.s.missions[mission_type]

    def handle(self, conn: Conn, msg, target: tuple[int, int], now: float) -> bool:
        """Handle one mission-protocol message; False when ``msg`` is not one."""
        kind = msg.get_type()
        mtype = getattr(msg, "mission_type", 0)
        unsupported = mtype not in MISSION_TYPES and not (
            kind == "MISSION_CLEAR_ALL" and mtype == M.MAV_MISSION_TYPE_ALL
        )
        if kind in ("MISSION_COUNT", "MISSION_REQUEST_LIST", "MISSION_CLEAR_ALL") and unsupported:
            conn.send(M.MAVLink_mission_ack_message(*target, M.MAV_MISSION_UNSUPPORTED, mtype))
            return True
        if kind == "MISSION_COUNT":
            self._start_upload(conn, msg, target, now)
        elif kind in ("MISSION_ITEM_INT", "MISSION_ITEM"):
            self._item(conn, msg, target, now)
        elif kind == "MISSION_REQUEST_LIST":
            conn.send(M.MAVLink_mission_count_message(*target, len(self.stored(mtype)), mtype))
        elif kind in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
            items = self.stored(mtype)
            if mtype not in MISSION_TYPES or not 0 <= msg.seq < len(items):
                conn.send(M.MAVLink_mission_ack_message(*target, M.MAV_MISSION_INVALID_SEQUENCE, mtype))
            else:
                current = 1 if mtype == 0 and msg.seq == self.s.auto.current else 0
                conn.send(item_to_msg(items[msg.seq], msg.seq, target, mtype, kind == "MISSION_REQUEST_INT", current))
        elif kind == "MISSION_CLEAR_ALL":
            types = MISSION_TYPES if mtype == M.MAV_MISSION_TYPE_ALL else (mtype,)
            for t in types:
                self._commit(t, [])
            conn.send(M.MAVLink_mission_ack_message(*target, M.MAV_MISSION_ACCEPTED, mtype))
        elif kind == "MISSION_SET_CURRENT":
            if not auto.set_current(self.s, msg.seq):
                self.s.text(SEV_WARNING, f"Mission: set current {msg.seq} out of range")
            self.s.out.changed.add("mission_current")
        elif kind == "MISSION_ACK":
            pass  # end of a download; nothing to do
        else:
            return False
        return True

    def _start_upload(self, conn: Conn, msg, target: tuple[int, int], now: float) -> None:
        mtype = msg.mission_type
        if self.upload is not None and self.upload.conn is not conn:
            conn.send(M.MAVLink_mission_ack_message(*target, M.MAV_MISSION_DENIED, mtype))
            return
        if msg.count > MAX_ITEMS:
            conn.send(M.MAVLink_mission_ack_message(*target, M.MAV_MISSION_NO_SPACE, mtype))
            return
        if msg.count == 0:
            self.upload = None
            self._commit(mtype, [])
            conn.send(M.MAVLink_mission_ack_message(*target, M.MAV_MISSION_ACCEPTED, mtype))
            return
        self.upload = Upload(conn, target, mtype, msg.count)
        self._request(now)

    def _request(self, now: float) -> None:
        up = self.upload
        if up is None:
            return
        seq = len(up.items)
        as_int = up.use_int if up.use_int is not None else up.retries % 2 == 0
        cls = M.MAVLink_mission_request_int_message if as_int else M.MAVLink_mission_request_message
        up.conn.send(cls(*up.target, seq, up.mission_type))
        up.deadline = now + RETRY_WALL_S

    def _item(self, conn: Conn, msg, target: tuple[int, int], now: float) -> None:
        up = self.upload
        if up is None or up.conn is not conn or msg.mission_type != up.mission_type:
            conn.send(M.MAVLink_mission_ack_message(*target, M.MAV_MISSION_ERROR, msg.mission_type))
            return
        if msg.seq != len(up.items):
            self._request(now)  # duplicate or out of order: ask again for the one we need
            return
        up.use_int = msg.get_type() == "MISSION_ITEM_INT"
        up.retries = 0
        up.items.append(item_from_msg(msg))
        if len(up.items) < up.count:
            self._request(now)
            return
        self.upload = None
        result = self._validate(up.mission_type, up.items)
        if result == M.MAV_MISSION_ACCEPTED:
            self._commit(up.mission_type, up.items)
        conn.send(M.MAVLink_mission_ack_message(*up.target, result, up.mission_type))

    def _validate(self, mtype: int, items: list[Item]) -> int:
        for it in items:
            if it.is_location:
                if not math.isfinite(it.x) or abs(it.x) > 90:
                    return M.MAV_MISSION_INVALID_PARAM5_X
                if not math.isfinite(it.y) or abs(it.y) > 180:
                    return M.MAV_MISSION_INVALID_PARAM6_Y
            if not math.isfinite(it.z):
                return M.MAV_MISSION_INVALID_PARAM7
        if mtype == M.MAV_MISSION_TYPE_FENCE:
            for it in items:
                if it.command not in (
                    M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
                    M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
                    M.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION,
                    M.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
                    M.MAV_CMD_NAV_FENCE_RETURN_POINT,
                ):
                    return M.MAV_MISSION_UNSUPPORTED
            for cmd, verts, _r in zones(items):
                if (
                    cmd in (M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION, M.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION)
                    and len(verts) < 3
                ):
                    return M.MAV_MISSION_INVALID_PARAM1
        elif mtype == M.MAV_MISSION_TYPE_RALLY and any(it.command != M.MAV_CMD_NAV_RALLY_POINT for it in items):
            return M.MAV_MISSION_UNSUPPORTED
        return M.MAV_MISSION_ACCEPTED

    def _commit(self, mtype: int, items: list[Item]) -> None:
        s = self.s
        if mtype == M.MAV_MISSION_TYPE_MISSION:
            s.missions[0] = [self.home_item(), *items[1:]] if items else []
            if s.auto.current >= len(s.missions[0]):
                auto.reset(s)
            s.out.changed.add("mission_current")
        else:
            s.missions[mtype] = list(items)

    def tick(self, now: float) -> None:
        up = self.upload
        if up is None or now < up.deadline:
            return
        if up.conn.closed or up.retries >= MAX_RETRIES:
            log.info("sysid %d: mission upload abandoned after %d retries", self.s.sysid, up.retries)
            self.s.text(SEV_WARNING, "Mission upload timeout")
            self.upload = None
            return
        up.retries += 1
        self._request(now)
