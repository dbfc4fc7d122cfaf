"""One vehicle's MAVLink side: turns incoming messages into Copter calls and streams telemetry.

Like ArduCopter, a vehicle sends only HEARTBEAT (1 Hz) and event messages (STATUSTEXT,
COMMAND_ACK, HOME_POSITION on change, MISSION_CURRENT on change, MISSION_ITEM_REACHED) until a
client asks for telemetry with REQUEST_DATA_STREAM or MAV_CMD_SET_MESSAGE_INTERVAL; rates are
kept per connection, counted in sim time and capped at 50 Hz of wall time per message.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from pymavlink import mavutil
from pymavlink.dialects.v20 import ardupilotmega as mavlink

from flight.sim import actions, arming, auto, modes, pilot, telemetry
from flight.sim.actions import valid_speed
from flight.sim.arming import FORCE_MAGIC
from flight.sim.attitude import camera_pitch, camera_yaw
from flight.sim.copter import Copter
from flight.sim.missionproto import MissionProtocol
from flight.sim.motion import hold_here
from flight.sim.state import SEV_INFO, SEV_WARNING
from flight.sim.types import MODE_NAMES, SUPPORTED_MODES

if TYPE_CHECKING:
    from flight.sim.transport import Conn

log = logging.getLogger(__name__)
# every custom_mode ArduCopter knows (others: FAILED + "No such mode N"); pymavlink's table
ARDUCOPTER_MODE_NUMBERS = frozenset(mavutil.mode_mapping_acm)
M = mavlink
MIN_WALL_INTERVAL_S = 0.02
PARAMS_PER_TICK = 40
_POS_IGNORE = 0x7
_VEL_IGNORE = 0x38


class VehiclePeer:
    def __init__(self, copter: Copter, signing_key: bytes | None = None) -> None:
        self.c = copter
        self.s = copter.state
        self.signing_key = signing_key
        self.conns: list[Conn] = []
        self.missions = MissionProtocol(copter.state)
        self.param_queue: list[tuple[Conn, int]] = []
        self.next_heartbeat = 0.0
        self._hb_armed = False  # armed state the last HEARTBEAT told
        self._after_ack: list = []

    # ---- outgoing ----------------------------------------------------------------------
    def broadcast(self, msg) -> None:
        for conn in self.conns:
            conn.send(msg)

    def tick(self, wall_now: float) -> None:
        """Send what is due; called by the fleet loop after the physics steps."""
        s, out = self.s, self.s.out
        self.conns = [k for k in self.conns if not k.closed]
        for severity, text in out.texts:
            self.broadcast(M.MAVLink_statustext_message(severity, text.encode(), 0, 0))
        out.texts.clear()
        for seq in out.reached:
            self.broadcast(M.MAVLink_mission_item_reached_message(seq))
        out.reached.clear()
        if s.armed != self._hb_armed:  # arming changes are heartbeated at once, before MISSION_CURRENT
            self.next_heartbeat = s.t
        if s.t >= self.next_heartbeat:  # after texts and REACHED, so "disarmed" never overtakes "reached"
            self.next_heartbeat = s.t + 1.0
            self._hb_armed = s.armed
            self.broadcast(telemetry.heartbeat(s))
        if out.changed:
            if "home" in out.changed and s.home is not None:
                self.broadcast(telemetry.home_position(s))
            if "mission_current" in out.changed:
                self.broadcast(telemetry.mission_current(s))
            if "camera" in out.changed:
                self.broadcast(self._camera_feedback())
            out.changed.clear()
        for conn in self.conns:
            self._streams(conn, wall_now)
        self._params()
        self.missions.tick(wall_now)

    def _camera_feedback(self):
        s = self.s
        lat, lon = s.latlon
        n = s.payload.camera_triggers
        return M.MAVLink_camera_feedback_message(
            int(s.t * 1e6),
            s.sysid,
            0,
            n,
            round(lat * 1e7),
            round(lon * 1e7),
            s.alt_amsl,
            s.alt_rel,
            s.kin.roll,
            camera_pitch(s),
            camera_yaw(s),
            0.0,
            0,
            n,
        )

    def _streams(self, conn: Conn, wall_now: float) -> None:
        t = self.s.t
        for msgid, interval in conn.intervals.items():
            if t < conn.next_due.get(msgid, 0.0) or wall_now - conn.last_wall.get(msgid, 0.0) < MIN_WALL_INTERVAL_S:
                continue
            conn.next_due[msgid] = t + interval - 1e-6
            conn.last_wall[msgid] = wall_now
            msg = telemetry.build(msgid, self.s, (0, 0))
            if msg is not None:
                conn.send(msg)

    def _params(self) -> None:
        for _ in range(min(PARAMS_PER_TICK, len(self.param_queue))):
            conn, index = self.param_queue.pop(0)
            if not conn.closed:
                conn.send(self._param_msg(index))

    def _param_msg(self, index: int):
        p = self.s.params
        name, value, ptype = p.entry(index)
        return M.MAVLink_param_value_message(name.encode(), value, ptype, len(p), index)

    def ack(self, conn: Conn, command: int, result: int, target: tuple[int, int]) -> None:
        conn.send(M.MAVLink_command_ack_message(command, result, 0, 0, target[0], target[1]))
        for msg in self._after_ack:
            conn.send(msg)
        self._after_ack.clear()

    # ---- incoming ----------------------------------------------------------------------
    def handle(self, conn: Conn, msg, wall_now: float) -> None:
        s = self.s
        target_sys = getattr(msg, "target_system", 0)
        if target_sys not in (0, s.sysid):
            return
        kind = msg.get_type()
        src = (msg.get_srcSystem(), msg.get_srcComponent())
        if kind == "HEARTBEAT":
            if msg.type == M.MAV_TYPE_GCS or src[0] == int(s.params["SYSID_MYGCS"]):
                s.gcs.seen = True
                s.gcs.last_wall = wall_now
            return
        if kind in ("MISSION_ITEM", "MISSION_ITEM_INT") and msg.current == 2:
            self._guided_item(msg)
            return
        if kind.startswith("MISSION_") and self.missions.handle(conn, msg, src, wall_now):
            return
        if kind in ("COMMAND_LONG", "COMMAND_INT"):
            if kind == "COMMAND_LONG":
                p = (msg.param1, msg.param2, msg.param3, msg.param4, msg.param5, msg.param6, msg.param7)
                frame = M.MAV_FRAME_GLOBAL_RELATIVE_ALT
            else:
                p = (msg.param1, msg.param2, msg.param3, msg.param4, msg.x / 1e7, msg.y / 1e7, msg.z)
                frame = msg.frame
            try:
                result = self.command(conn, msg.command, p, frame)
            except (ValueError, OverflowError):  # NaN/inf where a number was needed
                self._after_ack.clear()
                result = M.MAV_RESULT_DENIED
            self.ack(conn, msg.command, result, src)
        elif kind == "SET_MODE":
            name = MODE_NAMES.get(msg.custom_mode)
            if name in SUPPORTED_MODES:
                modes.set_mode(s, name)
        elif kind == "SET_POSITION_TARGET_GLOBAL_INT":
            self._position_target(msg, global_frame=True)
        elif kind == "SET_POSITION_TARGET_LOCAL_NED":
            self._position_target(msg, global_frame=False)
        elif kind == "REQUEST_DATA_STREAM":
            ids = telemetry.STREAM_GROUPS.get(msg.req_stream_id, ())
            for msgid in ids:
                if msg.start_stop and msg.req_message_rate > 0:
                    conn.intervals[msgid] = 1.0 / msg.req_message_rate
                    conn.next_due[msgid] = s.t
                else:
                    conn.intervals.pop(msgid, None)
        elif kind == "MANUAL_CONTROL":
            s.gcs.sticks, s.gcs.sticks_wall = pilot.from_manual_control(msg.x, msg.y, msg.z, msg.r), wall_now
        elif kind == "RC_CHANNELS_OVERRIDE":
            chans = [msg.chan1_raw, msg.chan2_raw, msg.chan3_raw, msg.chan4_raw]
            s.gcs.sticks, s.gcs.sticks_wall = pilot.from_rc_override(chans), wall_now
        elif kind == "SETUP_SIGNING":
            # Like ArduPilot: a (signed, once a key is set) SETUP_SIGNING installs a new key; all zeros
            # turns signing off. Applies to every link of this vehicle and to new connections.
            key = bytes(msg.secret_key)
            self.signing_key = None if not any(key) else key
            for k in self.conns:
                k.set_signing_key(self.signing_key, msg.initial_timestamp)
            s.text(SEV_INFO, "Signing key updated" if self.signing_key else "Signing disabled")
        elif kind == "PARAM_REQUEST_LIST":
            self.param_queue.extend((conn, i) for i in range(len(s.params)))
        elif kind == "PARAM_REQUEST_READ":
            name = msg.param_id if isinstance(msg.param_id, str) else msg.param_id.decode(errors="replace")
            name = name.rstrip("\x00")
            if msg.param_index >= 0 and msg.param_index < len(s.params):
                conn.send(self._param_msg(msg.param_index))
            elif name in s.params:
                conn.send(self._param_msg(s.params.index_of(name)))
        elif kind == "PARAM_SET":
            name = msg.param_id if isinstance(msg.param_id, str) else msg.param_id.decode(errors="replace")
            name = name.rstrip("\x00")
            if s.params.set(name, msg.param_value):
                self.broadcast(self._param_msg(s.params.index_of(name)))
            else:
                s.text(SEV_WARNING, f"Param not found: {name}")

    def _guided_item(self, msg) -> None:
        """MISSION_ITEM with current=2: ArduPilot's legacy 'fly here' in GUIDED (dronekit simple_goto)."""
        lat, lon = (msg.x / 1e7, msg.y / 1e7) if msg.get_type() == "MISSION_ITEM_INT" else (msg.x, msg.y)
        actions.goto(self.s, lat, lon, msg.z, msg.frame)

    def _position_target(self, msg, global_frame: bool) -> None:
        s, k = self.s, self.s.kin
        mask = msg.type_mask
        if not mask & 0x400 and not math.isnan(msg.yaw):
            k.yaw_target = math.degrees(msg.yaw) % 360
        if not mask & _POS_IGNORE:
            if global_frame:
                actions.goto(s, msg.lat_int / 1e7, msg.lon_int / 1e7, msg.alt, msg.coordinate_frame)
            else:
                n, e, d = msg.x, msg.y, msg.z
                if msg.coordinate_frame in (M.MAV_FRAME_LOCAL_OFFSET_NED, M.MAV_FRAME_BODY_OFFSET_NED):
                    if msg.coordinate_frame == M.MAV_FRAME_BODY_OFFSET_NED:
                        y = math.radians(k.yaw)
                        n, e = n * math.cos(y) - e * math.sin(y), n * math.sin(y) + e * math.cos(y)
                    n, e, d = k.n + n, k.e + e, -k.u + d
                actions.goto_local(s, n, e, -d)
        elif not mask & _VEL_IGNORE:
            vn, ve, vd = msg.vx, msg.vy, msg.vz
            if not global_frame and msg.coordinate_frame == M.MAV_FRAME_BODY_NED:
                y = math.radians(k.yaw)
                vn, ve = vn * math.cos(y) - ve * math.sin(y), vn * math.sin(y) + ve * math.cos(y)
            actions.set_velocity(s, vn, ve, vd)

    def command(self, conn: Conn, cmd: int, p: tuple[float, ...], frame: int) -> int:
        """Execute one MAV_CMD; returns a MAV_RESULT."""
        s = self.s
        ok_r, fail_r = M.MAV_RESULT_ACCEPTED, M.MAV_RESULT_FAILED
        if cmd == M.MAV_CMD_COMPONENT_ARM_DISARM:
            force = round(p[1]) == FORCE_MAGIC
            done = arming.arm(s, force) if p[0] >= 0.5 else arming.disarm(s, force)
            return ok_r if done else fail_r
        if cmd == M.MAV_CMD_DO_SET_MODE:
            number = round(p[1])
            name = MODE_NAMES.get(number)
            if number not in ARDUCOPTER_MODE_NUMBERS:
                s.text(SEV_WARNING, f"No such mode {number}")
                return fail_r
            if name not in SUPPORTED_MODES:  # a real ArduCopter mode the simulator does not fly
                return M.MAV_RESULT_DENIED
            return ok_r if modes.set_mode(s, name) else fail_r
        if cmd == M.MAV_CMD_NAV_TAKEOFF:
            return ok_r if actions.takeoff(s, p[6]) else fail_r
        if cmd == M.MAV_CMD_NAV_RETURN_TO_LAUNCH:
            return ok_r if modes.set_mode(s, "RTL") else fail_r
        if cmd == M.MAV_CMD_NAV_LAND:
            return ok_r if modes.set_mode(s, "LAND") else fail_r
        if cmd == M.MAV_CMD_DO_CHANGE_SPEED:
            if not valid_speed(p[1]):
                return fail_r
            s.speed_override_m_s = p[1]
            return ok_r
        if cmd in (M.MAV_CMD_DO_SET_ROI, M.MAV_CMD_DO_SET_ROI_LOCATION):
            actions.set_roi(s, p[4], p[5], p[6])
            return ok_r
        if cmd == M.MAV_CMD_DO_SET_ROI_NONE:
            actions.set_roi(s, None)
            return ok_r
        if cmd == M.MAV_CMD_DO_MOUNT_CONTROL:
            actions.set_gimbal(s, p[0], p[2])
            return ok_r
        if cmd == M.MAV_CMD_DO_GIMBAL_MANAGER_PITCHYAW:
            actions.set_gimbal(s, p[0], p[1], earth_frame=bool(int(p[4]) & 16))
            return ok_r
        if cmd in (M.MAV_CMD_DO_DIGICAM_CONTROL, M.MAV_CMD_IMAGE_START_CAPTURE):
            if cmd == M.MAV_CMD_IMAGE_START_CAPTURE or round(p[4]) == 1:
                actions.trigger_camera(s)
            return ok_r
        if cmd == M.MAV_CMD_MISSION_START:
            if not self.c.start_mission():
                return fail_r
            if p[0] >= 1:
                auto.set_current(s, int(p[0]))
            return ok_r
        if cmd == M.MAV_CMD_DO_PAUSE_CONTINUE:
            if s.mode not in ("AUTO", "GUIDED") or not s.armed or s.landed:
                return fail_r
            if s.mode == "GUIDED":
                if p[0] < 0.5:
                    s.nav = hold_here(s)
                return ok_r
            if p[0] < 0.5:
                auto.pause(s)
            else:
                auto.resume(s)
            return ok_r
        if cmd == M.MAV_CMD_DO_FENCE_ENABLE:
            if round(p[0]) not in (0, 1, 2):
                return fail_r
            s.params.set("FENCE_ENABLE", 1 if round(p[0]) == 1 else 0)
            return ok_r
        if cmd == M.MAV_CMD_DO_SET_MISSION_CURRENT:
            return ok_r if auto.set_current(s, int(p[0])) else M.MAV_RESULT_DENIED
        if cmd == M.MAV_CMD_DO_REPOSITION:
            wants_guided = int(p[1]) & M.MAV_DO_REPOSITION_FLAGS_CHANGE_MODE and s.mode != "GUIDED"
            if wants_guided and not modes.set_mode(s, "GUIDED"):
                return fail_r
            if valid_speed(p[0]):
                s.speed_override_m_s = p[0]
            return ok_r if actions.goto(s, p[4], p[5], p[6], frame) else fail_r
        if cmd == M.MAV_CMD_DO_SET_HOME:
            if p[0] >= 1:
                actions.set_home_here(s)
            else:
                actions.set_home(s, p[4], p[5], p[6])
            return ok_r
        if cmd == M.MAV_CMD_CONDITION_YAW:
            base = s.kin.yaw if p[3] else 0.0
            s.kin.yaw_target = (base + p[0] * (-1 if p[2] < 0 else 1)) % 360
            return ok_r
        if cmd == M.MAV_CMD_SET_MESSAGE_INTERVAL:
            msgid, us = int(p[0]), p[1]
            if us < 0:
                conn.intervals.pop(msgid, None)
            else:
                conn.intervals[msgid] = 1.0 if us == 0 else us / 1e6
                conn.next_due[msgid] = s.t
            return ok_r
        if cmd in (M.MAV_CMD_REQUEST_MESSAGE, M.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES, M.MAV_CMD_GET_HOME_POSITION):
            msgid = {
                M.MAV_CMD_REQUEST_AUTOPILOT_CAPABILITIES: M.MAVLINK_MSG_ID_AUTOPILOT_VERSION,
                M.MAV_CMD_GET_HOME_POSITION: M.MAVLINK_MSG_ID_HOME_POSITION,
            }.get(cmd, int(p[0]))
            msg = telemetry.build(msgid, s, (0, 0))
            if msg is None:
                return fail_r
            self._after_ack.append(msg)  # ArduPilot acks first, then sends the message
            return ok_r
        if cmd == M.MAV_CMD_PREFLIGHT_CALIBRATION:
            s.text(SEV_INFO, "Calibration successful")
            return ok_r
        log.debug("sysid %d: unsupported command %d", s.sysid, cmd)
        return M.MAV_RESULT_UNSUPPORTED
