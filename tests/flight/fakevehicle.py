"""A tiny pymavlink 'ArduCopter' for protocol tests: real TCP socket on 127.0.0.1, fault injection.

Not a simulator (that is ``flight.sim``): it holds still, answers commands, speaks the mission and
parameter protocols, and can misbehave on purpose (duplicate/drop requests, legacy requests,
refuse SET_MESSAGE_INTERVAL, refuse arming with a PreArm text, go silent, sign).
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flight._mav import mavlink

GUIDED, AUTO, RTL, LAND = 4, 3, 6, 9


@dataclass
class Faults:
    refuse_message_interval: bool = False
    legacy_requests: bool = False  # MISSION_REQUEST instead of MISSION_REQUEST_INT
    duplicate_every: int = 0  # request item k twice every k items
    drop_item_every: int = 0  # ignore one received item every k (GCS must resend)
    ignore_commands: int = 0  # swallow the first N COMMAND_LONGs (GCS must retry)
    silent: bool = False  # send nothing at all (watchdog)
    param_drop_index: int = -1  # skip this index in the PARAM_REQUEST_LIST burst


class _Out:
    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.lock = threading.Lock()

    def write(self, buf: bytes) -> None:
        with self.lock:
            if self.sock is not None:
                try:
                    self.sock.sendall(buf)
                except OSError:
                    self.sock = None


@dataclass
class FakeVehicle:
    sysid: int = 1
    autopilot: int = mavlink.MAV_AUTOPILOT_ARDUPILOTMEGA
    faults: Faults = field(default_factory=Faults)
    gps_fix: int = 3
    signing_key: bytes | None = None

    def __post_init__(self) -> None:
        self.out = _Out()
        self.mav = mavlink.MAVLink(self.out, srcSystem=self.sysid, srcComponent=1)
        self.mav.robust_parsing = True
        if self.signing_key:
            self.mav.signing.secret_key = self.signing_key
            self.mav.signing.sign_outgoing = True
            self.mav.signing.link_id = 0
            self.mav.signing.timestamp = int((time.time() - 1420070400) * 1e5)
        self.custom_mode = 0
        self.armed = False
        self.alt_rel_m = 0.0
        self.streams = False
        self.commands: list[tuple[int, int, tuple[float, ...]]] = []  # (command, confirmation, params)
        self.missions: dict[int, list[Any]] = {0: [], 1: [], 2: []}
        self.params: dict[str, float] = {f"P{i:03d}": float(i) for i in range(40)} | {"RTL_ALT": 1500.0}
        self.received: list[str] = []
        self._upload: dict[str, Any] | None = None
        self._items_seen = 0
        self._srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind(("127.0.0.1", 0))
        self._srv.listen(1)
        self.url = f"tcp:127.0.0.1:{self._srv.getsockname()[1]}"
        self._drop = False
        self.accepts = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fake-vehicle")
        self._thread.start()

    def drop_client(self) -> None:
        """Hang up on the GCS (like a radio/TCP drop); the server keeps listening."""
        self._drop = True

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._srv.close()

    # ---- loop ----
    def _run(self) -> None:
        conn: socket.socket | None = None
        next_tick = 0.0
        while not self._stop.is_set():
            if self._drop and conn is not None:
                self._drop = False
                conn.close()
                conn = self.out.sock = None
            socks = [self._srv] + ([conn] if conn else [])
            readable, _, _ = select.select(socks, [], [], 0.02)
            if self._srv in readable:
                if conn is not None:
                    conn.close()
                conn, _ = self._srv.accept()
                self.accepts += 1
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.out.sock = conn
            if conn is not None and conn in readable:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    conn.close()
                    conn = self.out.sock = None
                else:
                    for msg in self.mav.parse_buffer(data) or []:
                        if msg.get_type() != "BAD_DATA":
                            self._on(msg)
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + 0.1
                self._tick()
        if conn is not None:
            conn.close()

    def _tick(self) -> None:
        if self.faults.silent or self.out.sock is None:
            return
        base = mavlink.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | (mavlink.MAV_MODE_FLAG_SAFETY_ARMED if self.armed else 0)
        self.mav.heartbeat_send(mavlink.MAV_TYPE_QUADROTOR, self.autopilot, base, self.custom_mode,
                                mavlink.MAV_STATE_ACTIVE if self.armed else mavlink.MAV_STATE_STANDBY)
        if not self.streams:
            return
        ms = int(time.monotonic() * 1000) & 0xFFFFFFFF
        lat, lon = int(52.2297e7), int(21.0122e7)
        self.mav.global_position_int_send(ms, lat, lon, int((100 + self.alt_rel_m) * 1000), int(self.alt_rel_m * 1000),
                                          300, 400, 0, 9000)
        self.mav.gps_raw_int_send(ms * 1000, self.gps_fix, lat, lon, 100000, 80, 100, 0, 0, 12 if self.gps_fix else 0)
        prearm = 0x10000000 if self.gps_fix >= 3 else 0
        self.mav.sys_status_send(0x10000000, 0x10000000, prearm, 500, 12400, 1500, 76, 0, 0, 0, 0, 0, 0)
        self.mav.ekf_status_report_send(0x17F if self.gps_fix >= 3 else 0x407, 0.1, 0.1, 0.1, 0.1, 0.1)
        self.mav.home_position_send(lat, lon, 100000, 0, 0, 0, [1, 0, 0, 0], 0, 0, 0)
        self.mav.extended_sys_state_send(0, 2 if self.armed and self.alt_rel_m > 0 else 1)
        self.mav.attitude_send(ms, 0.01, -0.02, 1.5, 0, 0, 0)
        self.mav.mission_current_send(0, len(self.missions[0]))

    def _ack(self, command: int, result: int) -> None:
        self.mav.command_ack_send(command, result, 0, 0, 255, 190)

    def _on(self, m: Any) -> None:
        t = m.get_type()
        self.received.append(t)
        if t == "COMMAND_LONG":
            self._command(m.command, m.confirmation, (m.param1, m.param2, m.param3, m.param4, m.param5, m.param6,
                                                      m.param7))
        elif t == "COMMAND_INT":
            self._command(m.command, 0, (m.param1, m.param2, m.param3, m.param4, m.x / 1e7, m.y / 1e7, m.z))
        elif t == "REQUEST_DATA_STREAM":
            self.streams = True
        elif t.startswith("MISSION") or t.startswith("PARAM"):
            self._mission_or_param(t, m)

    def _command(self, cmd: int, confirmation: int, p: tuple[float, ...]) -> None:
        self.commands.append((cmd, confirmation, p))
        if self.faults.ignore_commands > 0 and cmd != mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
            self.faults.ignore_commands -= 1
            return
        if cmd == mavlink.MAV_CMD_SET_MESSAGE_INTERVAL:
            if self.faults.refuse_message_interval:
                self._ack(cmd, mavlink.MAV_RESULT_UNSUPPORTED)
            else:
                self.streams = True
                self._ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
        elif cmd == mavlink.MAV_CMD_COMPONENT_ARM_DISARM:
            if p[0] == 1 and self.gps_fix < 3:
                self.mav.statustext_send(mavlink.MAV_SEVERITY_CRITICAL, b"PreArm: GPS 1: Bad fix")
                self._ack(cmd, mavlink.MAV_RESULT_FAILED)
            else:
                self.armed = p[0] == 1
                self._ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
        elif cmd == mavlink.MAV_CMD_DO_SET_MODE:
            if int(p[1]) in (0, 2, 3, 4, 5, 6, 9, 16):
                self.custom_mode = int(p[1])
                self._ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
            else:
                self._ack(cmd, mavlink.MAV_RESULT_DENIED)
        elif cmd == mavlink.MAV_CMD_NAV_TAKEOFF:
            if not self.armed:
                self.mav.statustext_send(mavlink.MAV_SEVERITY_WARNING, b"Takeoff: vehicle not armed")
                self._ack(cmd, mavlink.MAV_RESULT_FAILED)
            else:
                self.alt_rel_m = p[6]
                self._ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
        elif cmd == mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            self.custom_mode = RTL
            self._ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
        elif cmd == mavlink.MAV_CMD_NAV_LAND:
            self.custom_mode = LAND
            self._ack(cmd, mavlink.MAV_RESULT_ACCEPTED)
        else:
            self._ack(cmd, mavlink.MAV_RESULT_ACCEPTED)

    def _request(self, seq: int, mtype: int) -> None:
        if self.faults.legacy_requests:
            self.mav.mission_request_send(255, 190, seq, mtype)
        else:
            self.mav.mission_request_int_send(255, 190, seq, mtype)

    def _mission_or_param(self, t: str, m: Any) -> None:
        f = self.faults
        if t == "MISSION_COUNT":
            self._upload = {"type": m.mission_type, "count": m.count, "items": {}}
            if m.count == 0:
                self.missions[m.mission_type] = []
                self.mav.mission_ack_send(255, 190, mavlink.MAV_MISSION_ACCEPTED, m.mission_type)
                self._upload = None
            else:
                self._request(0, m.mission_type)
        elif t in ("MISSION_ITEM_INT", "MISSION_ITEM") and self._upload is not None:
            up = self._upload
            self._items_seen += 1
            if f.drop_item_every and self._items_seen % f.drop_item_every == 0:
                return
            if m.seq != len(up["items"]):  # like ArduPilot: ignore items it did not ask for next
                return
            up["items"][m.seq] = m
            nxt = m.seq + 1
            if nxt >= up["count"]:
                self.missions[up["type"]] = [up["items"][i] for i in range(up["count"])]
                self.mav.mission_ack_send(255, 190, mavlink.MAV_MISSION_ACCEPTED, up["type"])
                self._upload = None
                return
            self._request(nxt, up["type"])
            if f.duplicate_every and nxt % f.duplicate_every == 0:
                self._request(nxt, up["type"])
        elif t == "MISSION_REQUEST_LIST":
            self.mav.mission_count_send(255, 190, len(self.missions[m.mission_type]), m.mission_type)
        elif t in ("MISSION_REQUEST_INT", "MISSION_REQUEST"):
            items = self.missions[m.mission_type]
            if m.seq < len(items):
                it = items[m.seq]
                self.mav.mission_item_int_send(255, 190, m.seq, it.frame, it.command, 0, it.autocontinue, it.param1,
                                               it.param2, it.param3, it.param4, it.x, it.y, it.z, m.mission_type)
        elif t == "MISSION_CLEAR_ALL":
            self.missions[m.mission_type] = []
            self.mav.mission_ack_send(255, 190, mavlink.MAV_MISSION_ACCEPTED, m.mission_type)
        elif t == "PARAM_REQUEST_READ":
            names = sorted(self.params)
            name = m.param_id if isinstance(m.param_id, str) else m.param_id.decode()
            name = name.rstrip("\x00")
            if m.param_index >= 0 and not name:
                name = names[m.param_index] if m.param_index < len(names) else ""
            if name in self.params:
                self._param(name)
        elif t == "PARAM_SET":
            name = m.param_id if isinstance(m.param_id, str) else m.param_id.decode()
            name = name.rstrip("\x00")
            if name in self.params:
                self.params[name] = min(m.param_value, 5000.0)  # clamps like a range check
                self._param(name)
        elif t == "PARAM_REQUEST_LIST":
            for i, name in enumerate(sorted(self.params)):
                if i != f.param_drop_index:
                    self._param(name)

    def _param(self, name: str) -> None:
        names = sorted(self.params)
        self.mav.param_value_send(name.encode(), self.params[name], mavlink.MAV_PARAM_TYPE_REAL32, len(names),
                                  names.index(name))
