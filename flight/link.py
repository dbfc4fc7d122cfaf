"""One MAVLink connection (pymavlink URL), its reader thread, and the vehicles heard on it.

Shape (MAVSDK/MAVProxy): one reader thread runs ``recv_match(blocking=True, timeout=0.5)`` and
turns messages into ``VehicleState`` snapshots (``flight.state``); sends go out under one lock;
a service thread sends the GCS heartbeat at 1 Hz, runs the 2 s heartbeat watchdog and flushes the
tlog. Several vehicles per link are routed by sysid (state follows the autopilot component that
sent the first vehicle heartbeat). On a vehicle's first heartbeat the link asks for telemetry with
SET_MESSAGE_INTERVAL, falling back to REQUEST_DATA_STREAM (ArduCopter sends only heartbeats until
asked). Garbage and bad-CRC frames are counted, never raised.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from flight._linkio import Waiter, graceful_tcp_close, quiet_tcp_reconnect, request_telemetry
from flight._mav import command_name, enum_name, mavlink, mavutil
from flight.errors import CommandTimeout, LinkError, NoVehicle
from flight.signing import enable_signing, resolve_key
from flight.state import STATE_MESSAGES, StateHub, Subscription, is_vehicle_heartbeat, reduce
from flight.tlog import TlogWriter, open_tlog
from flight.types import CommandAck, LinkStats, VehicleState

log = logging.getLogger(__name__)

_GIMBAL_MESSAGES = frozenset({"MOUNT_STATUS", "GIMBAL_DEVICE_ATTITUDE_STATUS", "STATUSTEXT"})
_SERVICE_PERIOD_S = 0.25


class Link:
    """A live MAVLink connection. Use ``Link.open(url)`` (a context manager) and ``close()``."""

    def __init__(self, conn: Any, url: str, *, sysid: int | None = None, tlog: TlogWriter | None = None,
                 heartbeat_timeout_s: float = 2.0, telemetry_hz: float = 4.0, request_telemetry: bool = True):
        self.url = url
        self._conn = conn
        self._sysid_filter = sysid
        self._tlog = tlog
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.telemetry_hz = telemetry_hz
        self._request_telemetry_on = request_telemetry
        self.source_system = conn.source_system
        self.source_component = conn.source_component
        self._hub = StateHub()
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._changed = threading.Condition()
        self._waiters: list[Waiter] = []
        self._waiters_lock = threading.Lock()
        self._last_hb: dict[int, float] = {}
        self._last_msg: dict[int, float] = {}
        self._texts: dict[int, deque[tuple[float, str]]] = {}
        self._counts = {"messages": 0, "garbage": 0, "bad_crc": 0, "bad_signature": 0, "reader_errors": 0,
                        "sent": 0}  # fmt: skip
        self._transfer_locks: dict[tuple[int, int], threading.Lock] = {}
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, name=f"mavlink-reader {url}", daemon=True)
        self._service = threading.Thread(target=self._service_loop, name=f"mavlink-service {url}", daemon=True)
        self._reader.start()
        self._service.start()

    # ---- opening / closing -------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, *, sysid: int | None = None, source_system: int = 255, source_component: int = 190,
             signing_key: str | bytes | None = None, tlog_dir: Path | None = None, baud: int = 57600,
             heartbeat_timeout_s: float = 2.0, telemetry_hz: float = 4.0, request_telemetry: bool = True,
             wait_heartbeat_s: float | None = None) -> Link:
        """Open ``url`` (pymavlink form: ``udp:H:P`` listen, ``udpout:H:P``, ``tcp:H:P``, ``/dev/ttyUSB0,57600``).

        ``signing_key``: 64 hex chars, ``env:VAR`` or 32 raw bytes. ``tlog_dir``: record a .tlog there.
        ``wait_heartbeat_s``: also wait for the (``sysid``) vehicle's heartbeat, raising ``NoVehicle``.
        """
        key = resolve_key(signing_key) if isinstance(signing_key, str) else signing_key
        device, _, rate = url.partition(",")
        try:
            conn = mavutil.mavlink_connection(
                device, baud=int(rate) if rate else baud, source_system=source_system,
                source_component=source_component, autoreconnect=True, retries=1, robust_parsing=True,
                dialect="ardupilotmega",
            )  # fmt: skip
        except ImportError as exc:  # pyserial is only needed for serial ports
            raise LinkError(url, f"cannot open: {exc} (serial links need the pyserial package)") from exc
        except (OSError, ValueError) as exc:
            raise LinkError(url, f"cannot open: {exc} (check the URL form udp:HOST:PORT / tcp:HOST:PORT and that "
                                 "the port is free or the vehicle is listening)") from exc  # fmt: skip
        quiet_tcp_reconnect(conn)
        if key is not None:
            enable_signing(conn, key)
        tlog = open_tlog(tlog_dir, url) if tlog_dir is not None else None
        link = cls(conn, url, sysid=sysid, tlog=tlog, heartbeat_timeout_s=heartbeat_timeout_s,
                   telemetry_hz=telemetry_hz, request_telemetry=request_telemetry)  # fmt: skip
        link._send_heartbeat()
        if wait_heartbeat_s is not None:
            try:
                link.wait_vehicle(sysid, timeout_s=wait_heartbeat_s)
            except NoVehicle:
                link.close()
                raise
        return link

    @classmethod
    def from_config(cls, cfg: Any, data_dir: Path | None = None, **kw: Any) -> Link:
        """Open from a ``flight.config.LinkConfig``; tlogs go to ``<data_dir>/tlogs`` when enabled."""
        tlog_dir = data_dir / "tlogs" if (cfg.tlog and data_dir is not None) else None
        return cls.open(cfg.url, sysid=cfg.sysid, source_system=cfg.source_system,
                        source_component=cfg.source_component, signing_key=cfg.signing_key, tlog_dir=tlog_dir,
                        heartbeat_timeout_s=cfg.heartbeat_timeout_s, telemetry_hz=cfg.telemetry_hz, **kw)  # fmt: skip

    def transfer_lock(self, sysid: int, mission_type: int) -> threading.Lock:
        """One mission-protocol transfer at a time per vehicle and list on this link: a MISSION_ACK does
        not say which transfer it ends, and ArduPilot DENIES a download while an upload runs."""
        with self._waiters_lock:
            return self._transfer_locks.setdefault((sysid, mission_type), threading.Lock())

    def start_signing(self, key: bytes) -> None:
        """Sign every frame from now on and drop unsigned ones (after ``flight.signing.setup_signing``)."""
        with self._send_lock:
            enable_signing(self._conn, key)

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        for t in (self._reader, self._service):
            if t is not threading.current_thread():
                t.join(timeout=2.0)
        graceful_tcp_close(self._conn)
        with contextlib.suppress(OSError, AttributeError):  # AttributeError: pymavlink lost the socket
            self._conn.close()
        if self._tlog is not None:
            self._tlog.close()

    @property
    def alive(self) -> bool:
        """The reader thread is running (it only stops on ``close()``)."""
        return self._reader.is_alive() and not self._stop.is_set()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- state -------------------------------------------------------------------------------
    def vehicles(self) -> dict[int, VehicleState]:
        """Latest snapshot of every vehicle heard on this link, by sysid."""
        now = time.monotonic()
        return {s: self._aged(st, now) for s, st in self._hub.all().items()}

    def state(self, sysid: int | None = None) -> VehicleState:
        """Latest snapshot of ``sysid`` (default: the only/first vehicle). Raises ``NoVehicle``."""
        sysid = self.default_sysid() if sysid is None else sysid
        st = self._hub.get(sysid)
        if st is None:
            raise NoVehicle(self.url, sysid, 0.0)
        return self._aged(st, time.monotonic())

    def default_sysid(self) -> int:
        if self._sysid_filter is not None:
            return self._sysid_filter
        known = self._hub.all()
        if not known:
            raise NoVehicle(self.url, None, 0.0)
        return min(known)

    def _aged(self, st: VehicleState, now: float) -> VehicleState:
        last = self._last_msg.get(st.sysid)
        return replace(st, link_age_s=now - last if last is not None else float("inf"))

    def versions(self) -> dict[int, int]:
        return self._hub.versions()

    def subscribe(self, callback: Callable[[VehicleState], None]) -> Subscription:
        """``callback(snapshot)`` on the reader thread for every change; must return quickly."""
        return self._hub.subscribe(callback)

    def subscribe_queue(self, maxsize: int = 64) -> Subscription:
        """Snapshots into a bounded drop-oldest queue: ``sub.get(timeout_s)``."""
        return self._hub.subscribe_queue(maxsize)

    def wait_vehicle(self, sysid: int | None = None, timeout_s: float = 10.0) -> VehicleState:
        st = self.wait_state(lambda s: s.heartbeat_count > 0, sysid=sysid, timeout_s=timeout_s)
        if st is None:
            raise NoVehicle(self.url, sysid if sysid is not None else self._sysid_filter, timeout_s)
        return st

    def wait_state(self, predicate: Callable[[VehicleState], bool], *, sysid: int | None = None,
                   timeout_s: float = 10.0) -> VehicleState | None:
        """Block until a snapshot satisfies ``predicate`` (any vehicle if sysid is None); None on timeout."""
        deadline = time.monotonic() + timeout_s

        def found() -> VehicleState | None:
            states = self._hub.all()
            want = sysid if sysid is not None else self._sysid_filter
            for s, st in sorted(states.items()):
                if (want is None or s == want) and predicate(st):
                    return st
            return None

        with self._changed:
            while True:
                st = found()
                if st is not None:
                    return self._aged(st, time.monotonic())
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    return None
                self._changed.wait(min(remaining, 0.5))

    def local_address(self) -> tuple[str, int]:
        """Our socket's (host, port): useful after opening ``udpin:HOST:0``."""
        port = getattr(self._conn, "port", None)
        if port is None or not hasattr(port, "getsockname"):
            raise LinkError(self.url, "not a socket link")
        host, p = port.getsockname()[:2]
        return host, p

    def wait_update(self, sysid: int, version: int, timeout_s: float) -> int:
        """Block until ``sysid``'s snapshot version differs from ``version`` (or timeout); return the version."""
        def changed() -> bool:
            return self._hub.versions().get(sysid, 0) != version or self._stop.is_set()

        with self._changed:
            self._changed.wait_for(changed, timeout_s)
        return self._hub.versions().get(sysid, 0)

    def statustexts_since(self, sysid: int, t_mono: float) -> list[str]:
        """STATUSTEXTs from ``sysid`` received at or after ``t_mono`` (oldest first)."""
        return [text for t, text in list(self._texts.get(sysid, ())) if t >= t_mono]

    def stats(self) -> LinkStats:
        c = self._counts
        return LinkStats(url=self.url, messages=c["messages"], garbage=c["garbage"], bad_crc=c["bad_crc"],
                         bad_signature=c["bad_signature"], reader_errors=c["reader_errors"],
                         callback_errors=self._hub.callback_errors, sent=c["sent"],
                         vehicles=tuple(sorted(self._hub.all())),
                         bytes_received=int(getattr(self._conn.mav, "total_bytes_received", 0)),
                         tlog_path=str(self._tlog.path) if self._tlog else None)  # fmt: skip

    # ---- sending -----------------------------------------------------------------------------
    def send(self, msg: Any) -> None:
        """Send one pymavlink message object (``mavlink.MAVLink_*_message``), signed if signing is on."""
        if self._stop.is_set():
            raise LinkError(self.url, "link is closed (open a new one)")
        with self._send_lock:
            try:
                self._conn.mav.send(msg)
            except (OSError, AttributeError) as exc:  # AttributeError: pymavlink mid-reconnect (port is None)
                raise LinkError(self.url, f"send failed: {exc!r} (reconnecting?)") from exc
            self._counts["sent"] += 1
            if self._tlog is not None:
                self._tlog.write(msg.get_msgbuf())

    def waiter(self, types: Iterable[str], *, sysid: int | None = None,
               predicate: Callable[[Any], bool] | None = None) -> Waiter:
        """Register interest in messages (use as ``with link.waiter(...) as w: ...; w.get(t)``)."""
        w = Waiter(self, frozenset(types), sysid, predicate)
        with self._waiters_lock:
            self._waiters = [*self._waiters, w]
        return w

    def _remove_waiter(self, w: Waiter) -> None:
        with self._waiters_lock:
            self._waiters = [x for x in self._waiters if x is not w]

    def target_compid(self, sysid: int) -> int:
        st = self._hub.get(sysid)
        return st.compid if st is not None else 1

    def command(self, sysid: int, command: int, params: tuple[float, ...] = (), *, use_int: bool = False,
                frame: int = mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, timeout_s: float = 1.0, retries: int = 3,
                compid: int | None = None) -> CommandAck:
        """Send COMMAND_LONG (or COMMAND_INT) and wait for its COMMAND_ACK.

        Each attempt waits ``timeout_s``; retries bump the ``confirmation`` field (COMMAND_LONG).
        MAV_RESULT_IN_PROGRESS extends the wait. Raises ``CommandTimeout`` when every attempt is
        unanswered. Returns the ack whatever its result (callers decide what rejection means).
        """
        p = [float(x) for x in params] + [0.0] * (7 - len(params))
        target = compid if compid is not None else self.target_compid(sysid)
        me = self.source_system

        def mine(m: Any) -> bool:
            return m.command == command and getattr(m, "target_system", 0) in (0, me)

        with self.waiter(("COMMAND_ACK",), sysid=sysid, predicate=mine) as w:
            for attempt in range(retries + 1):
                if use_int:
                    msg = mavlink.MAVLink_command_int_message(
                        sysid, target, frame, command, 0, 1, p[0], p[1], p[2], p[3],
                        round(p[4] * 1e7), round(p[5] * 1e7), p[6])  # fmt: skip
                else:
                    msg = mavlink.MAVLink_command_long_message(sysid, target, command, min(attempt, 255), *p)
                try:
                    self.send(msg)
                except LinkError:
                    if attempt == retries or self._stop.is_set():
                        raise
                    self._stop.wait(timeout_s)  # transient (reconnecting): counts as an unanswered attempt
                    continue
                deadline = time.monotonic() + timeout_s
                while (remaining := deadline - time.monotonic()) > 0:
                    ack = w.get(remaining)
                    if ack is None:
                        break
                    if ack.result == mavlink.MAV_RESULT_IN_PROGRESS:
                        deadline = time.monotonic() + timeout_s
                        continue
                    return CommandAck(command, command_name(command), ack.result,
                                      enum_name("MAV_RESULT", ack.result), getattr(ack, "progress", 0), attempt + 1)
        raise CommandTimeout(command_name(command), timeout_s * (retries + 1), retries + 1)

    # ---- threads -----------------------------------------------------------------------------
    def _read_loop(self) -> None:
        conn = self._conn
        failures = 0
        while not self._stop.is_set():
            try:
                msg = conn.recv_match(blocking=True, timeout=0.5)
            except Exception as exc:  # socket errors, decoder bugs on hostile input: count, keep going
                if self._stop.is_set():
                    break
                self._counts["reader_errors"] += 1
                failures += 1
                log.debug("%s: reader error %r", self.url, exc)
                self._stop.wait(min(1.0, 0.01 * 2**failures))  # back off while e.g. TCP reconnects fail
                continue
            failures = 0
            if msg is None:
                continue
            try:
                self._handle(msg)
            except Exception:
                self._counts["reader_errors"] += 1
                log.exception("%s: error handling %s", self.url, msg.get_type())

    def _handle(self, msg: Any) -> None:
        t = msg.get_type()
        if t == "BAD_DATA":
            self._counts["garbage"] += 1
            reason = str(getattr(msg, "reason", ""))
            if "CRC" in reason:
                self._counts["bad_crc"] += 1
            elif "signature" in reason:
                self._counts["bad_signature"] += 1
            return
        self._counts["messages"] += 1
        if self._tlog is not None:
            self._tlog.write(msg.get_msgbuf())
        sysid, compid = msg.get_srcSystem(), msg.get_srcComponent()
        if self._sysid_filter is not None and sysid != self._sysid_filter:
            return
        now = time.monotonic()
        for w in self._waiters:
            if t in w.types:
                try:
                    w.offer(msg)
                except Exception:  # a caller's predicate bug must not stop state updates
                    self._counts["reader_errors"] += 1
                    log.exception("%s: waiter for %s raised", self.url, sorted(w.types))
        if t not in STATE_MESSAGES:
            if sysid in self._last_msg:
                self._last_msg[sysid] = now
            return
        new_vehicle = False
        with self._state_lock:
            st = self._hub.get(sysid)
            if t == "HEARTBEAT":
                if not is_vehicle_heartbeat(msg) or (st is not None and compid != st.compid):
                    return
                if st is None:
                    st, new_vehicle = VehicleState(sysid=sysid, compid=compid), True
                self._last_hb[sysid] = now
            elif st is None or (compid != st.compid and t not in _GIMBAL_MESSAGES):
                return
            self._last_msg[sysid] = now
            if t == "STATUSTEXT":
                text = msg.text if isinstance(msg.text, str) else bytes(msg.text).decode("utf-8", "replace")
                self._texts.setdefault(sysid, deque(maxlen=50)).append((now, text.rstrip("\x00").strip()))
            new = reduce(st, msg, now)
            if new is not st:
                self._hub.publish(new)
        if new is not st:
            with self._changed:
                self._changed.notify_all()
        if new_vehicle:
            log.info("%s: vehicle sysid %d (%s %s) heard", self.url, sysid, new.autopilot, new.vehicle_type)
            if self._request_telemetry_on:
                threading.Thread(target=request_telemetry, args=(self, sysid), daemon=True,
                                 name=f"mavlink-streams {sysid}").start()  # fmt: skip

    def _service_loop(self) -> None:
        next_hb = time.monotonic() + 1.0
        next_flush = next_hb
        while not self._stop.wait(_SERVICE_PERIOD_S):
            now = time.monotonic()
            try:
                if now >= next_hb:
                    next_hb = now + 1.0
                    self._send_heartbeat()
                self._watchdog(now)
                if self._tlog is not None and now >= next_flush:
                    next_flush = now + 1.0
                    self._tlog.flush()
            except Exception:  # the watchdog must outlive anything pymavlink throws at it
                self._counts["reader_errors"] += 1
                log.exception("%s: service loop error; continuing", self.url)

    def _send_heartbeat(self) -> None:
        try:
            self.send(mavlink.MAVLink_heartbeat_message(mavlink.MAV_TYPE_GCS, mavlink.MAV_AUTOPILOT_INVALID,
                                                        0, 0, mavlink.MAV_STATE_ACTIVE, 3))  # fmt: skip
        except LinkError as exc:
            log.debug("%s: heartbeat not sent: %s", self.url, exc)

    def _watchdog(self, now: float) -> None:
        lost = []
        with self._state_lock:
            for sysid, st in self._hub.all().items():
                if st.link_ok and now - self._last_hb.get(sysid, 0.0) > self.heartbeat_timeout_s:
                    self._hub.publish(replace(st, link_ok=False))
                    lost.append(sysid)
        if lost:
            log.warning("%s: heartbeat lost from sysid %s", self.url, lost)
            with self._changed:
                self._changed.notify_all()
