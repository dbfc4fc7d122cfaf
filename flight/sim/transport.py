"""Sockets for the simulator: one MAVLink connection object per TCP client or UDP peer."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from collections.abc import Callable

from pymavlink.dialects.v20 import ardupilotmega as mavlink

log = logging.getLogger(__name__)
_MAX_PENDING = 1 << 20
_SIGNING_EPOCH = 1420070400  # 2015-01-01, MAVLink2 signing timestamps count 10 us from here


def signing_timestamp() -> int:
    return int((time.time() - _SIGNING_EPOCH) * 100_000)


class Conn:
    """One link to a client: its own MAVLink parser/encoder (sequence numbers, signing state)."""

    def __init__(
        self,
        sysid: int,
        sock: socket.socket,
        addr: tuple[str, int] | None,
        kind: str,
        signing_key: bytes | None = None,
        link_id: int = 0,
    ) -> None:
        self.sock = sock
        self.addr = addr
        self.kind = kind  # "tcp" | "udp"
        self.mav = mavlink.MAVLink(self, srcSystem=sysid, srcComponent=mavlink.MAV_COMP_ID_AUTOPILOT1)
        self.mav.robust_parsing = True
        self.mav.signing.link_id = link_id
        self.set_signing_key(signing_key)
        self.pending = bytearray()
        self.closed = False
        self.on_close: Callable[[Conn], None] | None = None
        self.intervals: dict[int, float] = {}  # msgid -> sim seconds
        self.next_due: dict[int, float] = {}  # msgid -> sim time
        self.last_wall: dict[int, float] = {}
        self.rx_count = 0
        self.rejected = 0

    def set_signing_key(self, key: bytes | None, timestamp: int = 0) -> None:
        """Sign everything we send and accept only correctly signed messages (None: plain MAVLink2)."""
        sig = self.mav.signing
        if key is None:
            sig.secret_key, sig.sign_outgoing, sig.allow_unsigned_callback = None, False, None
            return
        sig.secret_key = key
        sig.sign_outgoing = True
        sig.timestamp = max(sig.timestamp, timestamp, signing_timestamp())
        sig.allow_unsigned_callback = lambda _mav, _msgid: False

    def write(self, data: bytes) -> None:  # called by MAVLink.send
        if self.closed:
            return
        if self.kind == "udp":
            try:
                self.sock.sendto(data, self.addr)
            except OSError as exc:  # nobody listening yet: ICMP port unreachable etc.
                log.debug("udp send to %s failed: %s", self.addr, exc)
            return
        if self.pending:
            self.pending += data
            if len(self.pending) > _MAX_PENDING:
                log.warning("client %s is not reading; dropping it", self.addr)
                self.close()
            return
        try:
            sent = self.sock.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self.pending += data[sent:]

    def flush(self) -> None:
        if not self.pending or self.closed:
            return
        try:
            sent = self.sock.send(self.pending)
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        del self.pending[:sent]

    def send(self, msg: mavlink.MAVLink_message) -> None:
        self.mav.send(msg)

    def feed(self, data: bytes) -> list[mavlink.MAVLink_message]:
        msgs = self.mav.parse_buffer(data) or []
        good = []
        for m in msgs:
            if m.get_type() == "BAD_DATA":
                self.rejected += 1
                continue
            good.append(m)
        self.rx_count += len(good)
        return good

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.on_close is not None:  # the fleet unregisters the socket from its selector first
            self.on_close(self)
        if self.kind == "tcp":
            with contextlib.suppress(OSError):
                self.sock.close()


def parse_endpoint(url: str) -> tuple[str, str, int]:
    """``tcp:HOST:PORT`` / ``udp:HOST:PORT`` -> (kind, host, port); ValueError when malformed."""
    parts = url.split(":")
    if len(parts) != 3 or parts[0] not in ("tcp", "udp", "udpout") or not parts[1]:
        raise ValueError(url)
    port = int(parts[2])
    if not 0 <= port <= 65535:
        raise ValueError(url)
    return ("udp" if parts[0] == "udpout" else parts[0]), parts[1], port
