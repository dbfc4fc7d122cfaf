"""The embedded simulator agrees with real ArduCopter SITL on what a ground station sees.

Every scenario runs twice, against ``flight.sim`` and against real SITL (``sitl`` marker, through
``tests/sitl_harness.py``: skipped with the reason when there is no binary or no private network
namespace). A plain pymavlink connection records the raw exchange (so the client layer under test
cannot hide a difference), the transcript is normalised (per message kind, repeats folded, numbers
in texts replaced by N, SITL's sensor chatter dropped) and compared with the transcript recorded
from ArduCopter V4.7.0-dev SITL, written out below. A failure on the "sim" side is a simulator
that stopped behaving like ArduCopter; on the "sitl" side, an ArduPilot that changed.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

os.environ.setdefault("MAVLINK20", "1")

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as M

from flight.sim import SimFleet
from missions.geo import LocalFrame
from tests.sitl_harness import CMAC, SitlOptions, running_sitl

HOME = (CMAC.lat_deg, CMAC.lon_deg, CMAC.alt_amsl_m)
SPEEDUP = 10.0
REL = M.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT
# STATUSTEXTs a GCS acts on; SITL's sensor start-up chatter (EKF lanes, GPS probing, "SIM Hit
# ground", barometer, RC) is not part of the comparison.
_NOISE = re.compile(r"^(EKF3 IMU[1-9]|EKF3 IMU0 (initialised|tilt|MAG|origin|in-flight)|AHRS|GPS 1:|SIM |Baro"
                    r"|Calibrating|RC[0-9]|RCInput|Field Elevation|Frame|ArduCopter|ChibiOS|IMU|u-blox|Throttle)")


@dataclass(frozen=True, slots=True)
class Vehicle:
    kind: str  # "sim" or "sitl"
    url: str


@dataclass
class Wire:
    """A bare pymavlink ground station that records every event message it receives."""

    url: str
    heartbeat: bool = True
    events: list[tuple] = field(default_factory=list)
    home_seen: bool = False

    def __post_init__(self) -> None:
        self.m = mavutil.mavlink_connection(self.url, source_system=255, source_component=190, autoreconnect=False)
        self._hb = 0.0
        self._mark = self._cursor = 0

    def close(self) -> None:
        self.m.close()

    def _record(self, msg) -> tuple | None:
        k = msg.get_type()
        if k == "HEARTBEAT":
            if msg.get_srcComponent() != 1 or msg.type == M.MAV_TYPE_GCS:
                return None
            return ("HEARTBEAT", msg.custom_mode, msg.system_status, bool(msg.base_mode & M.MAV_MODE_FLAG_SAFETY_ARMED))
        if k == "STATUSTEXT":
            return None if _NOISE.match(msg.text) else ("STATUSTEXT", msg.severity, msg.text)
        if k == "COMMAND_ACK":
            return ("COMMAND_ACK", msg.command, msg.result)
        if k == "MISSION_ACK":
            return ("MISSION_ACK", msg.type, msg.mission_type)
        if k in ("MISSION_REQUEST", "MISSION_REQUEST_INT"):
            return (k, msg.seq, msg.mission_type)
        if k == "MISSION_COUNT":
            return ("MISSION_COUNT", msg.count, msg.mission_type)
        if k in ("MISSION_ITEM_INT", "MISSION_ITEM"):
            return (k, msg.seq, msg.frame, msg.command, msg.current, msg.x, msg.y, msg.z)
        if k == "MISSION_CURRENT":
            return ("MISSION_CURRENT", msg.seq, msg.total, msg.mission_state, msg.mission_mode)
        if k == "MISSION_ITEM_REACHED":
            return ("MISSION_ITEM_REACHED", msg.seq)
        if k == "HOME_POSITION":
            self.home_seen = True
        return None

    def pump(self, seconds: float, until: Callable[[tuple], bool] | None = None) -> tuple | None:
        """Receive for ``seconds`` (wall) or until an event matches ``until``; returns that event."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = time.monotonic()
            if self.heartbeat and now - self._hb > 0.1:  # 1 s of sim time at speedup 10
                self._hb = now
                self.m.mav.heartbeat_send(M.MAV_TYPE_GCS, M.MAV_AUTOPILOT_INVALID, 0, 0, M.MAV_STATE_ACTIVE)
            msg = self.m.recv_match(blocking=True, timeout=0.05)
            if msg is None:
                continue
            ev = self._record(msg)
            if ev is None:
                continue
            self.events.append(ev)
            if until is not None and until(ev):
                return ev
        return None

    def expect(self, kind: str, seconds: float = 10.0, **match: object) -> tuple:
        """The next event of ``kind`` (matching ``match``) after the last one expected."""

        def ok(ev: tuple) -> bool:
            return ev[0] == kind and all(ev[_FIELDS[kind].index(k) + 1] == v for k, v in match.items())

        for i in range(self._cursor, len(self.events)):
            if ok(self.events[i]):
                self._cursor = i + 1
                return self.events[i]
        ev = self.pump(seconds, ok)
        assert ev is not None, f"no {kind} {match} within {seconds} s; got {self.events[-15:]}"
        self._cursor = len(self.events)
        return ev

    def mark(self) -> None:
        """Start a new step: ``transcript`` and ``expect`` look at events from here on."""
        self._mark = self._cursor = len(self.events)

    def transcript(self, *kinds: str, settle_s: float = 0.3) -> dict[str, list]:
        """Events since ``mark`` per kind, normalised: repeats folded, numbers in texts as N."""
        self.pump(settle_s)
        out: dict[str, list] = {k: [] for k in kinds}
        for ev in self.events[self._mark :]:
            if ev[0] not in out:
                continue
            item = ev[1:] if len(ev) > 2 else ev[1]
            if ev[0] == "STATUSTEXT":
                item = (ev[1], re.sub(r"\d+(\.\d+)?", "N", ev[2]))
            if not out[ev[0]] or out[ev[0]][-1] != item:
                out[ev[0]].append(item)
        return out

    # ---- requests --------------------------------------------------------------------------
    def command(self, cmd: int, *params: float, seconds: float = 5.0) -> int:
        p = [*params, 0, 0, 0, 0, 0, 0, 0][:7]
        self.m.mav.command_long_send(1, 1, cmd, 0, *p)
        return self.expect("COMMAND_ACK", seconds, command=cmd)[2]

    def set_mode(self, custom_mode: int) -> int:
        return self.command(M.MAV_CMD_DO_SET_MODE, M.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, custom_mode)

    def arm(self, seconds: float = 30.0) -> int:
        """Arm, asking again once a second while the vehicle says FAILED (a loaded SITL may still lack its
        position estimate just after "EKF3 IMU0 is using GPS", as a GCS operator would see and retry)."""
        deadline = time.monotonic() + seconds
        while True:
            result = self.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1)
            if result != FAILED or time.monotonic() > deadline:
                return result
            self.pump(1.0)

    def airborne(self, alt_m: float = 10.0) -> None:
        """GUIDED, armed, taking off to ``alt_m``, 2 s into the climb (the failsafe scenarios start here)."""
        self.set_mode(4)
        assert self.arm() == ACCEPTED, self.events[-10:]
        assert self.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, alt_m) == ACCEPTED
        self.pump(2.0)

    def wait_armable(self) -> None:
        """Arm in GUIDED and disarm again (before ``mark``), so a transcript starts from a ready vehicle."""
        self.set_mode(4)
        assert self.arm() == ACCEPTED, self.events[-10:]
        assert self.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 0) == ACCEPTED
        self.expect("HEARTBEAT", armed=False)
        self.set_mode(0)

    def wait_ready(self, seconds: float = 60.0) -> None:
        """Booted, home set and the EKF using GPS (both say "EKF3 IMU0 is using GPS")."""
        self.pump(seconds, lambda ev: ev[0] == "STATUSTEXT" and ev[2] == "EKF3 IMU0 is using GPS")
        assert any(ev[0] == "STATUSTEXT" and ev[2] == "EKF3 IMU0 is using GPS" for ev in self.events), self.events
        if not self.home_seen:
            self.pump(10, lambda ev: self.home_seen)

    def streams(self) -> None:
        self.m.mav.request_data_stream_send(1, 1, M.MAV_DATA_STREAM_ALL, 4, 1)

    def send_items(self, items: list[tuple], mission_type: int = 0, seconds: float = 5.0) -> tuple:
        """Answer the vehicle's requests with MISSION_ITEM_INT until its MISSION_ACK; returns the ACK."""
        self.m.mav.mission_count_send(1, 1, len(items), mission_type)
        while True:
            ev = self.pump(seconds, lambda e: e[0] in ("MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK"))
            assert ev is not None, f"upload stalled: {self.events[-10:]}"
            if ev[0] == "MISSION_ACK":
                return ev
            seq = ev[1]
            cmd, frame, x, y, z = items[seq]
            self.m.mav.mission_item_int_send(1, 1, seq, frame, cmd, 0, 1, 0, 0, 0, 0, x, y, z, mission_type)


_FIELDS = {
    "COMMAND_ACK": ("command", "result"),
    "MISSION_ACK": ("type", "mission_type"),
    "MISSION_REQUEST": ("seq", "mission_type"),
    "MISSION_COUNT": ("count", "mission_type"),
    "MISSION_CURRENT": ("seq", "total", "state", "mode"),
    "STATUSTEXT": ("severity", "text"),
    "HEARTBEAT": ("custom_mode", "status", "armed"),
    "MISSION_ITEM_INT": ("seq", "frame", "command", "current", "x", "y", "z"),
    "MISSION_ITEM": ("seq", "frame", "command", "current", "x", "y", "z"),
    "MISSION_ITEM_REACHED": ("seq",),
}


def _e7(n: float, e: float) -> tuple[int, int]:
    lat, lon = LocalFrame(HOME[0], HOME[1]).point_to_geo(e, n)
    return round(lat * 1e7), round(lon * 1e7)


HOME_ITEM = (M.MAV_CMD_NAV_WAYPOINT, M.MAV_FRAME_GLOBAL_INT, round(HOME[0] * 1e7), round(HOME[1] * 1e7), HOME[2])
TAKEOFF = (M.MAV_CMD_NAV_TAKEOFF, REL, 0, 0, 10.0)
LAND = (M.MAV_CMD_NAV_LAND, REL, 0, 0, 0.0)


def _wp(n: float, e: float, alt: float = 10.0) -> tuple:
    return (M.MAV_CMD_NAV_WAYPOINT, REL, *_e7(n, e), alt)


@pytest.fixture(params=["sim", pytest.param("sitl", marks=pytest.mark.sitl)])
def vehicle(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Vehicle]]:
    """``vehicle(sim_params=..., sitl_params=..., speedup=...)`` starts one and returns its URL."""
    stops: list[Callable[[], None]] = []

    def start(sim_params: dict | None = None, sitl_params: dict | None = None, speedup: float = SPEEDUP) -> Vehicle:
        if request.param == "sim":
            fleet = SimFleet.start(home=HOME, speedup=speedup, listen="tcp:127.0.0.1:0", params=sim_params)
            stops.append(fleet.stop)
            return Vehicle("sim", fleet.vehicles[0].url)
        cm = running_sitl(tmp_path / f"sitl{len(stops)}", SitlOptions(params=sitl_params or {}, speedup=speedup))
        sitl = cm.__enter__()
        stops.append(lambda: cm.__exit__(None, None, None))
        return Vehicle("sitl", sitl.url)

    yield start
    for stop in reversed(stops):
        stop()


@pytest.fixture
def wire() -> Iterator[Callable[[Vehicle], Wire]]:
    wires: list[Wire] = []

    def connect(v: Vehicle, heartbeat: bool = True) -> Wire:
        w = Wire(v.url, heartbeat)
        wires.append(w)
        return w

    yield connect
    for w in wires:
        w.close()


# ---- scenarios -------------------------------------------------------------------------------
ACCEPTED, FAILED, DENIED = M.MAV_RESULT_ACCEPTED, M.MAV_RESULT_FAILED, M.MAV_RESULT_DENIED
CRIT, WARN, INFO = M.MAV_SEVERITY_CRITICAL, M.MAV_SEVERITY_WARNING, M.MAV_SEVERITY_INFO
NOT_STARTED, ACTIVE, NO_MISSION = M.MISSION_STATE_NOT_STARTED, M.MISSION_STATE_ACTIVE, M.MISSION_STATE_NO_MISSION


def test_mission_upload_download_and_home_item(vehicle, wire) -> None:
    w = wire(vehicle())
    w.wait_ready()
    w.streams()
    w.mark()
    items = [HOME_ITEM, TAKEOFF, _wp(30, 0)]
    assert w.send_items(items) == ("MISSION_ACK", M.MAV_MISSION_ACCEPTED, 0)
    w.expect("STATUSTEXT", text="Flight plan received")
    got = w.transcript("MISSION_REQUEST", "MISSION_REQUEST_INT", "MISSION_ACK", "STATUSTEXT")
    assert got == {
        "MISSION_REQUEST": [(0, 0), (1, 0), (2, 0)],  # ArduPilot asks with the legacy message ...
        "MISSION_REQUEST_INT": [],  # ... never with MISSION_REQUEST_INT
        "MISSION_ACK": [(M.MAV_MISSION_ACCEPTED, 0)],
        "STATUSTEXT": [(INFO, "Flight plan received")],
    }
    w.expect("MISSION_CURRENT", total=2)
    assert w.events[-1][0] != "MISSION_CURRENT" or w.events[-1][3:] == (NOT_STARTED, 0)

    w.mark()
    w.m.mav.mission_request_list_send(1, 1, 0)
    assert w.expect("MISSION_COUNT")[1:] == (3, 0)
    w.m.mav.mission_request_int_send(1, 1, 0, 0)
    home = w.expect("MISSION_ITEM_INT", seq=0)
    _seq, frame, cmd, current, x, y, z = home[1:]
    assert (frame, cmd, current) == (M.MAV_FRAME_GLOBAL, M.MAV_CMD_NAV_WAYPOINT, 0)  # seq 0: home, AMSL
    assert abs(x - HOME_ITEM[2]) < 100 and abs(y - HOME_ITEM[3]) < 100 and abs(z - HOME[2]) < 1.0
    w.m.mav.mission_request_int_send(1, 1, 2, 0)
    # uploaded as GLOBAL_RELATIVE_ALT_INT, sent back as GLOBAL_RELATIVE_ALT (ArduPilot keeps "relative")
    assert w.expect("MISSION_ITEM_INT", seq=2)[1:5] == (2, M.MAV_FRAME_GLOBAL_RELATIVE_ALT, M.MAV_CMD_NAV_WAYPOINT, 0)
    w.m.mav.mission_request_send(1, 1, 1, 0)  # legacy request: legacy item and a one-time warning
    assert w.expect("MISSION_ITEM", seq=1)[1:5] == (1, M.MAV_FRAME_GLOBAL_RELATIVE_ALT, M.MAV_CMD_NAV_TAKEOFF, 0)
    w.m.mav.mission_request_int_send(1, 1, 7, 0)  # past the end: the count again, then the refusal
    w.expect("MISSION_ACK")
    w.m.mav.mission_ack_send(1, 1, M.MAV_MISSION_ACCEPTED, 0)
    got = w.transcript("MISSION_COUNT", "MISSION_ACK", "STATUSTEXT")
    assert got == {
        "MISSION_COUNT": [(3, 0)],
        "MISSION_ACK": [(M.MAV_MISSION_INVALID_SEQUENCE, 0)],
        "STATUSTEXT": [(WARN, "got MISSION_REQUEST; use MISSION_REQUEST_INT!")],
    }


def test_mission_refusals(vehicle, wire) -> None:
    w = wire(vehicle())
    w.wait_ready()
    w.mark()
    w.m.mav.mission_count_send(1, 1, 5000, 0)  # more than the vehicle holds
    w.expect("MISSION_ACK")
    w.m.mav.mission_item_int_send(1, 1, 0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)  # an item nobody asked for
    w.expect("MISSION_ACK", type=M.MAV_MISSION_ERROR)
    w.m.mav.mission_request_list_send(1, 1, 7)  # no such mission type
    w.expect("MISSION_ACK", type=M.MAV_MISSION_UNSUPPORTED)
    assert w.transcript("MISSION_ACK", "STATUSTEXT") == {
        "MISSION_ACK": [(M.MAV_MISSION_NO_SPACE, 0), (M.MAV_MISSION_ERROR, 0), (M.MAV_MISSION_UNSUPPORTED, 7)],
        "STATUSTEXT": [(WARN, "Only N items are supported")],
    }

    # a good mission, then an upload that fails at its second item on a bad latitude
    assert w.send_items([HOME_ITEM, TAKEOFF, _wp(30, 0), LAND])[1] == M.MAV_MISSION_ACCEPTED
    w.expect("STATUSTEXT", text="Flight plan received")
    w.mark()
    bad = (M.MAV_CMD_NAV_WAYPOINT, REL, 910_000_000, HOME_ITEM[3], 10.0)
    assert w.send_items([HOME_ITEM, bad, _wp(30, 0)])[1] == M.MAV_MISSION_INVALID_PARAM5_X
    # ArduPilot writes items as they come: the mission is now cut to the new count (3)
    w.m.mav.mission_request_list_send(1, 1, 0)
    assert w.expect("MISSION_COUNT")[1] == 3

    # out of order, then silence: INVALID_SEQUENCE, the request again, and a cancelled upload
    w.mark()
    w.m.mav.mission_count_send(1, 1, 2, 0)
    w.expect("MISSION_REQUEST")
    w.m.mav.mission_item_int_send(1, 1, 1, REL, 16, 0, 1, 0, 0, 0, 0, *_e7(30, 0), 10, 0)
    w.expect("MISSION_ACK", 30.0, type=M.MAV_MISSION_OPERATION_CANCELLED)
    got = w.transcript("MISSION_REQUEST", "MISSION_ACK", "STATUSTEXT")
    assert got == {
        "MISSION_REQUEST": [(0, 0)],  # resent (folded) until the upload times out
        "MISSION_ACK": [(M.MAV_MISSION_INVALID_SEQUENCE, 0), (M.MAV_MISSION_OPERATION_CANCELLED, 0)],
        "STATUSTEXT": [(WARN, "Mission upload timeout")],
    }
    assert sum(1 for ev in w.events[w._mark :] if ev[0] == "MISSION_REQUEST") >= 4

    # fence and rally items of the wrong kind are refused on arrival
    w.mark()
    assert w.send_items([_wp(30, 0), _wp(30, 30)], M.MAV_MISSION_TYPE_FENCE)[1] == M.MAV_MISSION_UNSUPPORTED
    assert w.send_items([_wp(30, 0)], M.MAV_MISSION_TYPE_RALLY)[1] == M.MAV_MISSION_UNSUPPORTED


def test_set_current_and_clear(vehicle, wire) -> None:
    w = wire(vehicle())
    w.wait_ready()
    w.streams()
    assert w.send_items([HOME_ITEM, TAKEOFF, _wp(30, 0), _wp(30, 30), LAND])[1] == M.MAV_MISSION_ACCEPTED
    w.mark()
    w.m.mav.mission_set_current_send(1, 1, 2)
    assert w.expect("MISSION_CURRENT", seq=2)[1:] == (2, 4, NOT_STARTED, 0)
    assert w.command(M.MAV_CMD_DO_SET_MISSION_CURRENT, 3) == ACCEPTED
    w.expect("MISSION_CURRENT", seq=3)
    assert w.command(M.MAV_CMD_DO_SET_MISSION_CURRENT, 9) == DENIED  # past the end
    w.m.mav.mission_clear_all_send(1, 1, 0)
    assert w.expect("MISSION_ACK")[1:] == (M.MAV_MISSION_ACCEPTED, 0)
    w.m.mav.mission_request_list_send(1, 1, 0)
    assert w.expect("MISSION_COUNT")[1:] == (0, 0)  # no mission: no home item either
    assert w.expect("MISSION_CURRENT", total=0)[1:] == (0, 0, NO_MISSION, 0)


def test_modes_and_arming_rules(vehicle, wire) -> None:
    w = wire(vehicle())
    w.wait_ready()
    w.wait_armable()
    w.mark()
    names = {"GUIDED": 4, "AUTO": 3, "RTL": 6, "LAND": 9, "LOITER": 5, "ALT_HOLD": 2, "BRAKE": 17, "STABILIZE": 0}
    for name, number in names.items():  # disarmed: every mode is accepted, the heartbeat says so
        assert w.set_mode(number) == ACCEPTED, name
        w.expect("HEARTBEAT", custom_mode=number)
    assert w.set_mode(99) == FAILED
    assert w.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10) == FAILED  # disarmed
    for number in (3, 6, 9):  # AUTO without a mission, RTL, LAND
        w.set_mode(number)
        assert w.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == FAILED
    w.set_mode(4)
    assert w.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == ACCEPTED
    w.expect("HEARTBEAT", armed=True)
    assert w.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10) == ACCEPTED
    w.pump(1.0)
    assert w.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 0) == FAILED  # flying: no disarm without force
    assert w.set_mode(9) == ACCEPTED
    w.expect("STATUSTEXT", 60.0, text="Disarming motors")
    got = w.transcript("STATUSTEXT", "HEARTBEAT")
    assert got["STATUSTEXT"] == [
        (WARN, "No such mode N"),
        (CRIT, "Arm: Mode requires mission"),
        (CRIT, "Arm: RTL mode not armable"),
        (CRIT, "Arm: LAND mode not armable"),
        (INFO, "Arming motors"),
        (INFO, "Disarming motors"),
    ]
    assert (4, M.MAV_STATE_ACTIVE, True) in got["HEARTBEAT"], got["HEARTBEAT"]  # GUIDED, armed, flying
    assert got["HEARTBEAT"][-1] == (9, M.MAV_STATE_STANDBY, False)  # landed in LAND, disarmed


def test_arming_without_gps(vehicle, wire) -> None:
    w = wire(vehicle(sim_params={"SIM_GPS_DISABLE": 1}, sitl_params={"SIM_GPS1_ENABLE": 0}))
    w.pump(60, lambda ev: ev[0] == "HEARTBEAT" and ev[2] == M.MAV_STATE_STANDBY)
    w.pump(3.0)
    w.mark()
    w.set_mode(4)
    assert w.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == FAILED  # GUIDED needs a position
    w.set_mode(2)
    assert w.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == ACCEPTED  # ALT_HOLD does not
    assert w.set_mode(4) == FAILED  # armed: no position, no GUIDED
    w.expect("STATUSTEXT", 30.0, text="Disarming motors")  # DISARM_DELAY on the ground
    assert w.transcript("STATUSTEXT")["STATUSTEXT"] == [
        (CRIT, "Arm: GPS N: Bad fix"),
        (INFO, "Arming motors"),
        (WARN, "Mode change to GUIDED failed: requires position"),
        (INFO, "Disarming motors"),
    ]


def test_auto_mission_progress(vehicle, wire) -> None:
    w = wire(vehicle())
    w.wait_ready()
    w.streams()
    assert w.send_items([HOME_ITEM, TAKEOFF, _wp(30, 0), _wp(30, 25), LAND])[1] == M.MAV_MISSION_ACCEPTED
    w.expect("STATUSTEXT", text="Flight plan received")
    w.set_mode(4)
    assert w.arm() == ACCEPTED
    w.expect("STATUSTEXT", text="Arming motors")
    w.mark()
    assert w.set_mode(3) == ACCEPTED  # on the ground AUTO waits (no throttle) ...
    assert w.command(M.MAV_CMD_MISSION_START) == ACCEPTED  # ... until MISSION_START
    w.expect("STATUSTEXT", 120.0, text="Disarming motors")
    w.pump(1.0)
    got = w.transcript("STATUSTEXT", "MISSION_ITEM_REACHED", "MISSION_CURRENT")
    assert got["STATUSTEXT"] == [
        (INFO, "Mission: N Takeoff"),
        (INFO, "Mission: N WP"),
        (INFO, "Reached command #N"),
        (INFO, "Mission: N WP"),
        (INFO, "Reached command #N"),
        (INFO, "Mission: N Land"),
        (INFO, "Disarming motors"),
        (INFO, "Mission: N Takeoff"),  # disarmed in AUTO: the mission is back at its first item
    ]
    assert got["MISSION_ITEM_REACHED"] == [1, 2, 3]  # none for the item that lands
    seqs = [mc[0] for mc in got["MISSION_CURRENT"] if mc[2] == ACTIVE and mc[3] == 1]
    assert [s for i, s in enumerate(seqs) if i == 0 or seqs[i - 1] != s] == [1, 2, 3, 4, 1]


def test_battery_failsafe(vehicle, wire) -> None:
    w = wire(vehicle(sim_params={"BATT_FS_LOW_ACT": 2}, sitl_params={"BATT_FS_LOW_ACT": 2}))
    w.wait_ready()
    w.airborne()
    w.mark()
    w.m.mav.param_set_send(1, 1, b"BATT_LOW_MAH", 1_000_000, M.MAV_PARAM_TYPE_INT32)  # "less left than that"
    w.expect("HEARTBEAT", 20.0, custom_mode=6)
    w.expect("STATUSTEXT", 120.0, text="Disarming motors")
    got = w.transcript("STATUSTEXT", "HEARTBEAT")
    assert got["STATUSTEXT"][:2] == [(WARN, "Battery N is low NV used N mAh"), (WARN, "Battery Failsafe")]
    assert (6, M.MAV_STATE_CRITICAL, True) in got["HEARTBEAT"]  # RTL, failsafe on
    assert got["HEARTBEAT"][-1] == (6, M.MAV_STATE_CRITICAL, False)  # landed, still in failsafe


def test_gcs_failsafe(vehicle, wire) -> None:
    w = wire(vehicle(sim_params={"FS_GCS_ENABLE": 1}, sitl_params={"FS_GCS_ENABLE": 1}))
    w.wait_ready()
    w.airborne()
    w.mark()
    w.heartbeat = False  # the ground station goes quiet (sim: FS_GCS_TIMEOUT of wall time, SITL: sim time)
    w.expect("HEARTBEAT", 20.0, custom_mode=6)
    w.heartbeat = True
    w.expect("STATUSTEXT", 20.0, text="GCS Failsafe Cleared")
    got = w.transcript("STATUSTEXT", "HEARTBEAT")
    assert got["STATUSTEXT"][0] == (WARN, "GCS Failsafe")
    assert got["STATUSTEXT"][-1] == (WARN, "GCS Failsafe Cleared")
    assert (6, M.MAV_STATE_CRITICAL, True) in got["HEARTBEAT"]


def test_auto_on_the_ground_waits_for_mission_start(vehicle, wire) -> None:
    w = wire(vehicle())
    w.wait_ready()
    assert w.send_items([HOME_ITEM, TAKEOFF, _wp(30, 0), LAND])[1] == M.MAV_MISSION_ACCEPTED
    w.expect("STATUSTEXT", text="Flight plan received")
    w.set_mode(4)
    assert w.arm() == ACCEPTED
    w.expect("STATUSTEXT", text="Arming motors")
    w.mark()
    assert w.set_mode(3) == ACCEPTED  # no throttle, no MISSION_START: it never leaves the ground ...
    w.expect("STATUSTEXT", 30.0, text="Disarming motors")  # ... and DISARM_DELAY disarms it
    got = w.transcript("STATUSTEXT", "HEARTBEAT")
    assert got["STATUSTEXT"] == [(INFO, "Mission: N Takeoff"), (INFO, "Disarming motors"), (INFO, "Mission: N Takeoff")]
    # armed on the ground is STANDBY, not ACTIVE (that is for flying)
    assert (3, M.MAV_STATE_STANDBY, True) in got["HEARTBEAT"], got["HEARTBEAT"]
    assert all(hb[1] != M.MAV_STATE_ACTIVE for hb in got["HEARTBEAT"]), got["HEARTBEAT"]
    assert got["HEARTBEAT"][-1] == (3, M.MAV_STATE_STANDBY, False)
