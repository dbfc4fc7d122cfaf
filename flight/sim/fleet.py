"""``SimFleet``: N simulated copters, their sockets and one scheduler thread for all of them.

One thread per fleet runs a ``selectors`` loop: it sleeps until a socket is readable or the next
tick is due, steps every copter's physics on a fixed sim-time ``dt``, then sends what is due.
No busy loop: at speedup 1 the thread wakes 20 times a second plus once per received packet.
"""

from __future__ import annotations

import contextlib
import logging
import math
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flight.sim.copter import Copter
from flight.sim.errors import SimConfigError
from flight.sim.params import Params
from flight.sim.peer import VehiclePeer
from flight.sim.transport import Conn, parse_endpoint
from flight.sim.types import VehicleTruth
from missions.geo import LocalFrame

log = logging.getLogger(__name__)
MAX_STEPS_PER_TICK = 400
MIN_TICK_WALL_S = 0.01


class SimVehicle:
    """Handle on one simulated copter: its client URL, true state and test hooks (thread-safe)."""

    def __init__(self, fleet: SimFleet, index: int, copter: Copter, peer: VehiclePeer, url: str) -> None:
        self._fleet = fleet
        self.index = index
        self.sysid = copter.sysid
        self.copter = copter
        self.peer = peer
        self.url = url

    def truth(self) -> VehicleTruth:
        with self._fleet.lock:
            return self.copter.truth()

    def set_gps_fix(self, fix: int | None) -> None:
        """Force the GPS fix type (0 = no GPS, 3 = 3D); None returns to the simulated warm-up."""
        with self._fleet.lock:
            self.copter.state.gps_override = fix

    def set_battery_pct(self, pct: float) -> None:
        """Jump the battery to ``pct`` remaining (e.g. 15 to trigger the low-battery failsafe)."""
        with self._fleet.lock:
            s = self.copter.state
            s.power.consumed_mah = s.params["BATT_CAPACITY"] * (1.0 - max(0.0, min(100.0, pct)) / 100.0)

    def set_position(self, lat_deg: float, lon_deg: float, alt_rel_m: float | None = None) -> None:
        """Teleport (demos, tests): put the copter at a point, stopped; on the ground unless flying."""
        if not (math.isfinite(lat_deg) and math.isfinite(lon_deg) and abs(lat_deg) <= 90 and abs(lon_deg) <= 180):
            raise SimConfigError("position", (lat_deg, lon_deg), "latitude within ±90, longitude within ±180")
        with self._fleet.lock:
            s = self.copter.state
            k = s.kin
            k.n, k.e = s.ne_of(lat_deg, lon_deg)
            k.vn = k.ve = k.vu = 0.0
            if alt_rel_m is not None and not s.landed:
                k.u = max(0.5, s.u_of(alt_rel_m, 3))
            s.nav.n, s.nav.e, s.nav.u = k.n, k.e, k.u

    def set_wind(self, speed_m_s: float, from_deg: float) -> None:
        self.set_param("SIM_WIND_SPD", speed_m_s)
        self.set_param("SIM_WIND_DIR", from_deg)

    def set_param(self, name: str, value: float) -> None:
        with self._fleet.lock:
            if not self.copter.params.set(name, value):
                raise SimConfigError("parameter", name, "use an ArduCopter name from flight/sim/params.py")

    def param(self, name: str) -> float:
        with self._fleet.lock:
            return self.copter.params[name]

    def wait(self, predicate: Callable[[VehicleTruth], bool], timeout_s: float = 30.0) -> VehicleTruth:
        """Block until ``predicate(truth)`` holds (checked every tick); TimeoutError after ``timeout_s`` wall."""
        return self._fleet.wait(lambda: predicate(self.copter.truth()), timeout_s, lambda: self.copter.truth())


class SimFleet:
    """Simulated copters speaking MAVLink 2 (ardupilotmega) over TCP (``listen``) or UDP (``out``)."""

    def __init__(
        self,
        vehicles: int,
        home: tuple[float, float, float],
        speedup: float,
        listen: str | None,
        out: str | None,
        params: dict[str, float] | None,
        signing_key: bytes | None,
        spacing_m: float,
        dt: float,
    ) -> None:
        if not 1 <= vehicles <= 250:
            raise SimConfigError("vehicle count", vehicles, "use 1..250")
        if not 0 < speedup <= 1000:
            raise SimConfigError("speedup", speedup, "use a number > 0 and <= 1000")
        if signing_key is not None and len(signing_key) != 32:
            raise SimConfigError("signing key length", len(signing_key), "a MAVLink2 signing key is 32 bytes")
        if listen and out:
            raise SimConfigError("endpoints", (listen, out), "give --listen or --out, not both")
        endpoint = out or listen or "tcp:127.0.0.1:5760"
        try:
            kind, host, port = parse_endpoint(endpoint)
        except ValueError:
            raise SimConfigError(
                "endpoint", endpoint, "use tcp:HOST:PORT (listen) or udp:HOST:PORT (send to)"
            ) from None
        if (kind == "tcp") != (out is None):
            raise SimConfigError("endpoint", endpoint, "--listen takes tcp:HOST:PORT, --out takes udp:HOST:PORT")
        if kind == "udp" and port == 0:
            raise SimConfigError("endpoint", endpoint, "--out needs the client's port, e.g. udp:127.0.0.1:14550")
        self.speedup = float(speedup)
        self.dt = dt
        self.lock = threading.RLock()
        self._cond = threading.Condition(self.lock)
        self._sel = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, ("wake",))
        self._next_link_id = 1
        self.sim_time = 0.0
        self.ticks = 0
        self.step_errors = 0
        self.vehicles: list[SimVehicle] = []
        home_frame = LocalFrame(home[0], home[1])
        try:
            for i in range(vehicles):
                overrides = {"SYSID_THISMAV": i + 1, "SIM_SPEEDUP": speedup, **(params or {})}
                try:
                    p = Params(overrides)
                except KeyError as exc:
                    raise SimConfigError(
                        "parameter", exc.args[0], "use an ArduCopter name from flight/sim/params.py"
                    ) from None
                lat, lon = home_frame.point_to_geo(i * spacing_m, 0.0)
                copter = Copter(i + 1, (lat, lon, home[2]), p)
                peer = VehiclePeer(copter, signing_key)
                url = self._open(kind, host, port + 10 * i if port else 0, peer)
                self.vehicles.append(SimVehicle(self, i, copter, peer, url))
        except BaseException:
            self._close_sockets()
            raise
        self._thread = threading.Thread(target=self._run, name="sim-fleet", daemon=True)

    @classmethod
    def start(
        cls,
        vehicles: int = 1,
        home: tuple[float, float, float] = (52.2297, 21.0122, 100.0),
        speedup: float = 1.0,
        listen: str | None = None,
        out: str | None = None,
        params: dict[str, float] | None = None,
        signing_key: bytes | None = None,
        spacing_m: float = 5.0,
        dt: float = 0.05,
    ) -> SimFleet:
        """Open the sockets and start the scheduler thread; use as a context manager or call ``stop()``."""
        fleet = cls(vehicles, home, speedup, listen, out, params, signing_key, spacing_m, dt)
        fleet._thread.start()
        return fleet

    def __enter__(self) -> SimFleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- sockets -----------------------------------------------------------------------
    def _open(self, kind: str, host: str, port: int, peer: VehiclePeer) -> str:
        if kind == "tcp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                sock.close()
                raise SimConfigError("listen address", f"{host}:{port}", f"{exc.strerror}; pick a free port") from None
            sock.listen(4)
            sock.setblocking(False)
            self._sel.register(sock, selectors.EVENT_READ, ("listen", peer))
            return f"tcp:{host}:{sock.getsockname()[1]}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1" if host in ("127.0.0.1", "localhost") else "0.0.0.0", 0))
        sock.setblocking(False)
        conn = Conn(peer.c.sysid, sock, (host, port), "udp", peer.signing_key, self._link_id())
        peer.conns.append(conn)
        self._sel.register(sock, selectors.EVENT_READ, ("udp", peer, conn))
        return f"udp:{host}:{port}"

    def _link_id(self) -> int:
        self._next_link_id = self._next_link_id % 255 + 1
        return self._next_link_id

    def _forget(self, conn: Conn) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(conn.sock)

    def _on_event(self, data: tuple[Any, ...], sock: socket.socket, wall: float) -> None:
        if data[0] == "wake":
            with contextlib.suppress(BlockingIOError):
                sock.recv(64)
            return
        if data[0] == "listen":
            peer = data[1]
            try:
                client, addr = sock.accept()
            except BlockingIOError:
                return
            client.setblocking(False)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Conn(peer.c.sysid, client, addr, "tcp", peer.signing_key, self._link_id())
            conn.on_close = self._forget
            peer.conns.append(conn)
            self._sel.register(client, selectors.EVENT_READ, ("tcp", peer, conn))
            log.info("sysid %d: client %s connected", peer.c.sysid, addr)
            return
        _kind, peer, conn = data
        try:
            payload = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            payload = b"" if data[0] == "tcp" else None
        if payload is None:
            return
        if not payload and data[0] == "tcp":
            conn.close()
            log.info("sysid %d: client disconnected", peer.c.sysid)
            return
        for msg in conn.feed(payload):
            try:
                peer.handle(conn, msg, wall)
            except Exception:  # one malformed message must not stop the simulator
                log.exception("sysid %d: error handling %s", peer.c.sysid, msg.get_type())

    # ---- loop --------------------------------------------------------------------------
    def _run(self) -> None:
        wall0 = time.monotonic()
        sim0 = 0.0
        period = max(MIN_TICK_WALL_S, self.dt / self.speedup)
        next_tick = wall0
        while not self._stop.is_set():
            now = time.monotonic()
            for key, _mask in self._sel.select(max(0.0, next_tick - now)):
                with self.lock:
                    try:
                        self._on_event(key.data, key.fileobj, time.monotonic())
                    except Exception:  # never let one socket's trouble stop the fleet
                        log.exception("sim: socket event failed")
            now = time.monotonic()
            if now < next_tick:
                continue
            with self.lock:
                if self._speedup_changed:
                    wall0, sim0, self._speedup_changed = now, self.sim_time, False
                    period = max(MIN_TICK_WALL_S, self.dt / self.speedup)
                steps = int(((now - wall0) * self.speedup + sim0 - self.sim_time) / self.dt + 1e-9)
                if steps > MAX_STEPS_PER_TICK:  # we fell behind (loaded machine): let sim time slip
                    steps = MAX_STEPS_PER_TICK
                    wall0, sim0 = now, self.sim_time + steps * self.dt
                for _ in range(steps):
                    for v in self.vehicles:
                        try:
                            v.copter.step(self.dt, now)
                        except Exception:  # a sim bug in one copter must not freeze the others
                            self.step_errors += 1
                            if self.step_errors <= 3:
                                log.exception("sysid %d: physics step failed", v.sysid)
                self.sim_time += steps * self.dt
                for v in self.vehicles:
                    v.peer.tick(now)
                    for conn in v.peer.conns:
                        conn.flush()
                self.ticks += 1
                self._cond.notify_all()
            next_tick += period
            if next_tick < now:
                next_tick = now + period
        self._close_sockets()

    _speedup_changed = False
    _closed = False

    @property
    def thread_native_id(self) -> int | None:
        """OS thread id of the scheduler thread (benchmarks read its CPU time from /proc)."""
        return self._thread.native_id

    def set_speedup(self, speedup: float) -> None:
        if not 0 < speedup <= 1000:
            raise SimConfigError("speedup", speedup, "use a number > 0 and <= 1000")
        with self.lock:
            self.speedup = float(speedup)
            self._speedup_changed = True

    def wait(self, predicate: Callable[[], bool], timeout_s: float, result: Callable[[], Any] | None = None) -> Any:
        """Block until ``predicate()`` holds under the fleet lock, re-checked after every tick."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    raise TimeoutError(
                        f"sim: condition not met after {timeout_s:.1f} s wall (sim t={self.sim_time:.1f} s)"
                    )
                self._cond.wait(min(left, 0.5))
            return result() if result else True

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        elif not self._thread.is_alive():
            self._close_sockets()

    def _close_sockets(self) -> None:
        if self._closed:
            return
        self._closed = True
        for key in list(self._sel.get_map().values()):
            with contextlib.suppress(OSError):
                key.fileobj.close()  # type: ignore[union-attr]
        with contextlib.suppress(OSError, RuntimeError):
            self._sel.close()
        self._wake_w.close()
