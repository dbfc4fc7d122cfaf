"""MAVLink2 signing: a vehicle with a key accepts only messages signed with that key."""

from __future__ import annotations

from pymavlink.dialects.v20 import ardupilotmega as M

KEY = bytes(range(32))


def test_signed_vehicle_ignores_unsigned_and_wrong_key_clients(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20, signing_key=KEY)
    v = fleet.vehicles[0]
    plain = client_factory(v.url)
    hb = plain.recv("HEARTBEAT", 5)
    assert hb is not None and hb.get_header().incompat_flags & M.MAVLINK_IFLAG_SIGNED  # outgoing traffic is signed
    assert plain.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION, timeout=1.0) is None
    wrong = client_factory(v.url, signing_key=bytes(32))
    assert wrong.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION, timeout=1.0) is None
    assert not v.truth().gcs_seen  # unsigned/badly signed heartbeats were dropped too


def test_signed_client_flies_signed_vehicle(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=40, signing_key=KEY)
    v = fleet.vehicles[0]
    cl = client_factory(v.url, signing_key=KEY)
    assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED
    ver = cl.recv("AUTOPILOT_VERSION", 5)
    assert ver is not None and ver.get_signed()  # the client checked our signature with the shared key
    v.wait(lambda t: t.ekf_ok, 20)
    assert cl.set_mode("GUIDED") == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_COMPONENT_ARM_DISARM, 1) == M.MAV_RESULT_ACCEPTED
    assert cl.command(M.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 10) == M.MAV_RESULT_ACCEPTED
    assert v.wait(lambda t: t.alt_rel_m > 9.5, 20).gcs_seen


def test_setup_signing_installs_and_removes_a_key(fleet_factory, client_factory):
    fleet = fleet_factory(speedup=20)
    v = fleet.vehicles[0]
    cl = client_factory(v.url)
    assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED
    cl.m.mav.setup_signing_send(1, 1, list(KEY), 0)
    assert cl.recv("HEARTBEAT", 5, lambda m: m.get_header().incompat_flags & M.MAVLINK_IFLAG_SIGNED) is not None
    assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION, timeout=1.0) is None
    signed = client_factory(v.url, signing_key=KEY)  # a new connection inherits the key
    assert signed.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED
    signed.m.mav.setup_signing_send(1, 1, [0] * 32, 0)  # all zeros: signing off
    assert cl.wait_text("Signing disabled", 5)  # (the keyed client now drops our unsigned traffic)
    assert cl.command(M.MAV_CMD_REQUEST_MESSAGE, M.MAVLINK_MSG_ID_AUTOPILOT_VERSION) == M.MAV_RESULT_ACCEPTED
