"""Fixtures for the simulator tests: a started SimFleet and an independent pymavlink client."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

import pytest

os.environ.setdefault("MAVLINK20", "1")

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as M

from flight.sim import SimFleet

HOME = (52.2297, 21.0122, 100.0)
LOCATION_CMDS = {16, 17, 18, 19, 20, 21, 22, 195, 201, 5000, 5001, 5002, 5003, 5004, 5100}


class Client:
    """A tiny ground station built only on pymavlink (independent of flight/link.py)."""

    def __init__(self, url: str, sysid: int = 1, signing_key: bytes | None = None, heartbeat: bool = True) -> None:
        self.m = mavutil.mavlink_connection(url, source_system=255, source_component=190, autoreconnect=False)
        if signing_key is not None:
            self.m.setup_signing(signing_key, sign_outgoing=True)
        self.target = sysid
        self.heartbeat = heartbeat
        self.texts: list[str] = []
        self.seen: dict[str, object] = {}
        self._last_hb = 0.0

    def close(self) -> None:
        self.m.close()

    def pump(self) -> None:
        now = time.monotonic()
        if self.heartbeat and now - self._last_hb > 0.3:
            self._last_hb = now
            self.m.mav.heartbeat_send(M.MAV_TYPE_GCS, M.MAV_AUTOPILOT_INVALID, 0, 0, M.MAV_STATE_ACTIVE)

    def recv(self, types: str | list[str], timeout: float = 10.0, cond=None):
        """Next message of ``types`` (optionally matching ``cond``); None on timeout."""
        names = [types] if isinstance(types, str) else types
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            msg = self.m.recv_match(blocking=True, timeout=0.1)
            if msg is None:
                continue
            kind = msg.get_type()
            self.seen[kind] = msg
            if kind == "STATUSTEXT":
                self.texts.append(msg.text)
            if kind in names and (cond is None or cond(msg)):
                return msg
        return None

    def wait_text(self, fragment: str, timeout: float = 10.0) -> str | None:
        for t in self.texts:
            if fragment in t:
                return t
        msg = self.recv("STATUSTEXT", timeout, lambda m: fragment in m.text)
        return None if msg is None else msg.text

    def command(self, cmd: int, *params: float, timeout: float = 5.0) -> int | None:
        p = [*params, 0, 0, 0, 0, 0, 0, 0][:7]
        self.m.mav.command_long_send(self.target, 1, cmd, 0, *p)
        ack = self.recv("COMMAND_ACK", timeout, lambda m: m.command == cmd)
        return None if ack is None else ack.result

    def set_mode(self, name: str) -> int | None:
        from flight.sim import COPTER_MODES

        return self.command(M.MAV_CMD_DO_SET_MODE, M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, COPTER_MODES[name])

    def request_streams(self, rate_hz: int = 4) -> None:
        self.m.mav.request_data_stream_send(self.target, 1, M.MAV_DATA_STREAM_ALL, rate_hz, 1)

    def wait_booted(self, timeout: float = 20.0) -> bool:
        """Wait for a HEARTBEAT past BOOT: a booting ArduPilot (and the sim) refuses missions."""
        hb = self.seen.get("HEARTBEAT")
        if hb is not None and hb.system_status != M.MAV_STATE_BOOT:
            return True
        return self.recv("HEARTBEAT", timeout, lambda m: m.system_status != M.MAV_STATE_BOOT) is not None

    def upload(self, items: list[tuple], mission_type: int = 0, use_int: bool = True) -> int | None:
        """``items``: (command, frame, p1, p2, p3, p4, x_deg, y_deg, z) including seq 0 for missions.
        ArduPilot (and the sim) asks with MISSION_REQUEST and takes either item kind in reply."""
        self.wait_booted()
        self.m.mav.mission_count_send(self.target, 1, len(items), mission_type)
        while True:
            msg = self.recv(["MISSION_REQUEST_INT", "MISSION_REQUEST", "MISSION_ACK"], 5.0)
            if msg is None:
                return None
            if msg.get_type() == "MISSION_ACK":
                return msg.type
            cmd, frame, p1, p2, p3, p4, x, y, z = items[msg.seq]
            if use_int:
                scale = 1e7 if cmd in LOCATION_CMDS else 1
                self.m.mav.mission_item_int_send(
                    self.target,
                    1,
                    msg.seq,
                    frame,
                    cmd,
                    0,
                    1,
                    p1,
                    p2,
                    p3,
                    p4,
                    round(x * scale),
                    round(y * scale),
                    z,
                    mission_type,
                )
            else:
                self.m.mav.mission_item_send(
                    self.target, 1, msg.seq, frame, cmd, 0, 1, p1, p2, p3, p4, x, y, z, mission_type
                )

    def download(self, mission_type: int = 0) -> list | None:
        self.m.mav.mission_request_list_send(self.target, 1, mission_type)
        count = self.recv("MISSION_COUNT", 5.0)
        if count is None:
            return None
        out = []
        for seq in range(count.count):
            self.m.mav.mission_request_int_send(self.target, 1, seq, mission_type)
            item = self.recv("MISSION_ITEM_INT", 5.0, lambda m, s=seq: m.seq == s)
            if item is None:
                return None
            out.append(item)
        self.m.mav.mission_ack_send(self.target, 1, M.MAV_MISSION_ACCEPTED, mission_type)
        return out


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """``lookout.cli.main`` and dronekit (basicConfig) attach root handlers to pytest's captured
    streams; later log lines from still-running threads would hit closed files."""
    before = list(logging.root.handlers), logging.root.level
    yield
    logging.root.handlers[:] = before[0]
    logging.root.setLevel(before[1])


@pytest.fixture
def fleet_factory() -> Iterator:
    fleets: list[SimFleet] = []

    def make(**kw) -> SimFleet:
        kw.setdefault("home", HOME)
        kw.setdefault("speedup", 20.0)
        kw.setdefault("listen", None if kw.get("out") else "tcp:127.0.0.1:0")
        fleet = SimFleet.start(**kw)
        fleets.append(fleet)
        return fleet

    yield make
    for f in fleets:
        f.stop()


@pytest.fixture
def client_factory() -> Iterator:
    clients: list[Client] = []

    def make(url: str, **kw) -> Client:
        c = Client(url, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()
