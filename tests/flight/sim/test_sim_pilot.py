"""Manual modes with stick input (MANUAL_CONTROL, RC_CHANNELS_OVERRIDE), as a GCS joystick flies them."""

from __future__ import annotations

import math
import time

from pymavlink.dialects.v20 import ardupilotmega as M

from tests.flight.sim.geohelp import ne_of


def _hold_sticks(v, cl, send, until, timeout=20.0):
    """Send stick messages every 50 ms of wall time until ``until(truth)`` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        send()
        cl.pump()
        t = v.truth()
        if until(t):
            return t
        cl.m.recv_match(blocking=True, timeout=0.05)  # paces the stick messages (~20 Hz)
    raise AssertionError("stick manoeuvre timed out")


def test_loiter_with_manual_control_takeoff_climb_fly_and_hold(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=10)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    assert cl.set_mode("LOITER") == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED

    def sticks(x=0, y=0, z=500, r=0):
        return lambda: cl.m.mav.manual_control_send(1, x, y, z, r, 0)

    t = _hold_sticks(v, cl, sticks(z=900), lambda t: t.alt_rel_m > 15)  # throttle up: take off, climb
    assert not t.landed and t.mode == "LOITER"
    held = _hold_sticks(v, cl, sticks(), lambda t: abs(t.vd_m_s) < 0.05)
    start = v.wait(lambda x: x.t_sim_s > held.t_sim_s + 2, 10)
    assert abs(start.alt_rel_m - held.alt_rel_m) < 0.3  # centred throttle holds altitude
    fast = _hold_sticks(v, cl, sticks(x=1000), lambda t: t.groundspeed_m_s > 11)
    assert fast.groundspeed_m_s <= 12.6 and fast.vn_m_s > 11  # LOIT_SPEED 1250 cm/s, nose north
    stopped = _hold_sticks(v, cl, sticks(), lambda t: t.groundspeed_m_s < 0.05)
    later = v.wait(lambda x: x.t_sim_s > stopped.t_sim_s + 5, 10)  # sticks time out: LOITER holds
    n, e = ne_of(stopped.lat_deg, stopped.lon_deg, later.lat_deg, later.lon_deg)
    assert math.hypot(n, e) < 0.3
    turned = _hold_sticks(v, cl, sticks(r=1000), lambda t: 45 < t.heading_deg < 270)  # yaw right
    assert turned.mode == "LOITER" and turned.groundspeed_m_s < 0.1


def test_alt_hold_with_rc_override_moves_right_and_descends_to_land(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=10)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    v.wait(lambda t: t.ekf_ok, 20)
    cl.set_mode("GUIDED")
    cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1)
    cl.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10)
    start = v.wait(lambda t: t.alt_rel_m > 9.95 and abs(t.vd_m_s) < 0.05, 20)
    assert cl.set_mode("ALT_HOLD") == M.MAV_RESULT_ACCEPTED

    def rc(roll=1500, pitch=1500, thr=1500, yaw=1500):
        return lambda: cl.m.mav.rc_channels_override_send(1, 1, roll, pitch, thr, yaw, 0, 0, 0, 0)

    t = _hold_sticks(v, cl, rc(roll=2000), lambda t: t.ve_m_s > 5)
    _n, e = ne_of(start.lat_deg, start.lon_deg, t.lat_deg, t.lon_deg)
    assert e > 1 and abs(t.alt_rel_m - 10) < 0.3  # rolled right (east), altitude held
    t = _hold_sticks(v, cl, rc(thr=1000), lambda t: t.landed, timeout=30)  # throttle down to the ground
    assert t.armed and t.mode == "ALT_HOLD"  # auto-disarm follows after DISARM_DELAY
    assert v.wait(lambda t: not t.armed, 10).landed
