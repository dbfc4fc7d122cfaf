"""Fuzz: 100,000 random and mutated MAVLink frames into a link over a real UDP socket.

No exception may escape the reader, the link must still parse a valid heartbeat afterwards, and
the garbage must be counted (LinkStats.garbage / bad_crc).
"""

from __future__ import annotations

import random
import socket
import time

import pytest

from flight import Link
from flight._mav import mavlink

FRAMES = 100_000
PER_DATAGRAM = 100


def _wait(pred, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def _templates() -> list[bytes]:
    mav = mavlink.MAVLink(None, srcSystem=9, srcComponent=1)
    msgs = [
        mavlink.MAVLink_heartbeat_message(2, 3, 81, 4, 3, 3),
        mavlink.MAVLink_global_position_int_message(1, 522297000, 210122000, 100000, 5000, 1, 2, 3, 9000),
        mavlink.MAVLink_statustext_message(2, b"PreArm: fuzz"),
        mavlink.MAVLink_mission_item_int_message(255, 190, 3, 3, 16, 0, 1, 0, 0, 0, 0, 1, 2, 3.0, 0),
        mavlink.MAVLink_command_ack_message(400, 0, 0, 0, 255, 190),
        mavlink.MAVLink_param_value_message(b"RTL_ALT", 1500.0, 9, 10, 1),
        mavlink.MAVLink_sys_status_message(1, 1, 1, 1, 12000, 100, 50, 0, 0, 0, 0, 0, 0),
        mavlink.MAVLink_mission_current_message(2, 10, 0, 0),
        mavlink.MAVLink_gimbal_device_attitude_status_message(255, 190, 0, 0, [1, 0, 0, 0], 0, 0, 0, 0),
    ]
    out = [bytes(m.pack(mav)) for m in msgs]
    out += [bytes(m.pack(mav, force_mavlink1=True)) for m in msgs[:3]]
    return out


def _mutate(rng: random.Random, frame: bytes) -> bytes:
    b = bytearray(frame)
    kind = rng.randrange(7)
    if kind == 0:  # flip bytes
        for _ in range(rng.randint(1, 3)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 1:  # truncate
        b = b[: rng.randrange(1, len(b))]
    elif kind == 2:  # wrong length byte
        b[1] = rng.randrange(256)
    elif kind == 3:  # unknown / random message id (v2) or incompat flags
        b[rng.choice((2, 7, 8, 9))] = rng.randrange(256)
    elif kind == 4:  # random bytes behind a valid magic
        b = bytearray([rng.choice((0xFD, 0xFE))]) + bytearray(rng.randbytes(rng.randrange(1, 300)))
    elif kind == 5:  # pure noise
        b = bytearray(rng.randbytes(rng.randrange(1, 80)))
    else:  # signed flag set without a signature
        if b[0] == 0xFD:
            b[2] |= 0x01
    return bytes(b)


@pytest.mark.slow
def test_hundred_thousand_bad_frames_do_not_break_the_link() -> None:
    rng = random.Random(20261123)
    templates = _templates()
    with Link.open("udpin:127.0.0.1:0", request_telemetry=False) as link:
        port = link.local_address()[1]
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent = [0]
        try:
            for start in range(0, FRAMES, PER_DATAGRAM):
                datagram = b"".join(_mutate(rng, rng.choice(templates)) for _ in range(PER_DATAGRAM))
                tx.sendto(datagram, ("127.0.0.1", port))
                sent[0] += len(datagram)
                if (start // PER_DATAGRAM) % 20 == 19:  # keep the kernel buffer from overflowing
                    _wait(lambda: link.stats().bytes_received >= sent[0], 10.0)
            _wait(lambda: link.stats().bytes_received >= sent[0], 10.0)
            fuzzed = link.stats()
            sent_bytes = sent[0]
            hb = mavlink.MAVLink(None, srcSystem=42, srcComponent=1)
            good = bytes(mavlink.MAVLink_heartbeat_message(2, 3, 81, 4, 3, 3).pack(hb))

            def heard() -> bool:
                tx.sendto(good, ("127.0.0.1", port))
                return 42 in link.vehicles()

            assert _wait(heard, 10.0), "link no longer parses a valid heartbeat after the fuzz"
        finally:
            tx.close()
        stats = link.stats()
        assert link.alive
    assert fuzzed.bytes_received >= sent_bytes * 0.99  # (almost) everything was really fed to the parser
    assert fuzzed.garbage > 10_000 and fuzzed.bad_crc > 1_000
    assert stats.vehicles[-1] == 42
    print(f"fuzz: {FRAMES} frames, {sent_bytes} bytes, garbage={fuzzed.garbage} bad_crc={fuzzed.bad_crc} "
          f"parsed={fuzzed.messages} reader_errors={fuzzed.reader_errors}")
