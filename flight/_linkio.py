"""Helpers behind ``flight.link.Link``: message waiters, telemetry request, graceful TCP close."""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flight._mav import mavlink, mavutil
from flight.errors import CommandTimeout, LinkError

if TYPE_CHECKING:
    from flight.link import Link

log = logging.getLogger("flight.link")


def graceful_tcp_close(conn: Any, linger_s: float = 0.3) -> None:
    """Half-close a TCP link and drain until the peer closes too (bounded), so the vehicle sees a clean
    EOF instead of a reset on its next send (SITL and the embedded sim then accept the next client)."""
    if not isinstance(conn, mavutil.mavtcp) or conn.port is None:
        return
    sock = conn.port
    with contextlib.suppress(OSError, ValueError):  # ValueError: pymavlink already closed it (fd -1)
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + linger_s
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], left)
            if readable and not sock.recv(65536):
                return


def quiet_tcp_reconnect(conn: Any) -> None:
    """Replace pymavlink's TCP reconnect (which prints to stdout and sleeps in the reader thread)
    with one quiet, non-sleeping attempt; the link's reader backs off between failures."""
    if not isinstance(conn, mavutil.mavtcp):
        return

    def reconnect() -> None:
        if conn.port is not None:
            with contextlib.suppress(OSError):
                conn.port.close()
            conn.port = None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(1.0)
            sock.connect(conn.destination_addr)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.port = sock
        conn.fd = sock.fileno()  # mavfile.select() waits on .fd, which pymavlink never updates
        log.info("%s: TCP reconnected", conn.address)

    conn.reconnect = reconnect
    conn.handle_eof = reconnect
    conn.handle_disconnect = reconnect


class Waiter:
    """Messages matching (types, sysid, predicate), queued by the reader; ``get`` blocks the caller."""

    def __init__(self, link: Link, types: frozenset[str], sysid: int | None, predicate: Callable[[Any], bool] | None):
        self._link, self.types, self.sysid, self.predicate = link, types, sysid, predicate
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def offer(self, msg: Any) -> None:
        if self.sysid is not None and msg.get_srcSystem() != self.sysid:
            return
        if self.predicate is None or self.predicate(msg):
            self._q.put(msg)

    def get(self, timeout_s: float) -> Any | None:
        try:
            return self._q.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            return None

    def __enter__(self) -> Waiter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._link._remove_waiter(self)


def request_telemetry(link: Link, sysid: int) -> None:
    """SET_MESSAGE_INTERVAL for the messages VehicleState needs; REQUEST_DATA_STREAM if refused."""
    hz = link.telemetry_hz
    rates = {
        mavlink.MAVLINK_MSG_ID_GLOBAL_POSITION_INT: hz, mavlink.MAVLINK_MSG_ID_ATTITUDE: hz,
        mavlink.MAVLINK_MSG_ID_VFR_HUD: hz, mavlink.MAVLINK_MSG_ID_SYS_STATUS: 1.0,
        mavlink.MAVLINK_MSG_ID_GPS_RAW_INT: 1.0, mavlink.MAVLINK_MSG_ID_EXTENDED_SYS_STATE: 1.0,
        mavlink.MAVLINK_MSG_ID_MISSION_CURRENT: 1.0, mavlink.MAVLINK_MSG_ID_EKF_STATUS_REPORT: 1.0,
        mavlink.MAVLINK_MSG_ID_HOME_POSITION: 0.5, mavlink.MAVLINK_MSG_ID_BATTERY_STATUS: 1.0,
    }  # fmt: skip
    cmd = mavlink.MAV_CMD_SET_MESSAGE_INTERVAL
    try:
        first_id, first_hz = next(iter(rates.items()))
        ack = link.command(sysid, cmd, (first_id, 1e6 / first_hz), timeout_s=0.5, retries=2)
        if ack.accepted:
            compid = link.target_compid(sysid)
            for msg_id, rate in list(rates.items())[1:]:
                link.send(mavlink.MAVLink_command_long_message(sysid, compid, cmd, 0, msg_id, 1e6 / rate,
                                                               0, 0, 0, 0, 0))  # fmt: skip
            log.debug("%s: sysid %d streams set by SET_MESSAGE_INTERVAL", link.url, sysid)
            return
        log.debug("%s: sysid %d refused SET_MESSAGE_INTERVAL (%s)", link.url, sysid, ack.result_name)
    except (CommandTimeout, LinkError) as exc:
        log.debug("%s: sysid %d SET_MESSAGE_INTERVAL: %s", link.url, sysid, exc)
    if link.closed:
        return
    try:
        compid = link.target_compid(sysid)
        link.send(mavlink.MAVLink_request_data_stream_message(sysid, compid, mavlink.MAV_DATA_STREAM_ALL,
                                                              max(1, round(hz)), 1))  # fmt: skip
    except LinkError as exc:
        log.debug("%s: REQUEST_DATA_STREAM: %s", link.url, exc)
