"""CPU cost of the embedded simulator, and the wall time of a 2 km patrol at a given speedup.

``measure_sim_cpu(vehicles, seconds, speedup)``: N copters, each flying (GUIDED, 30 m, going to a
point 5 km away) with a TCP client that asked for all telemetry at 4 Hz (what a GCS does) and
drains it. The simulator's scheduler thread CPU time is read from /proc (Linux), so the clients'
own CPU is not counted; ``process_cpu_pct`` (whole process, clients included) is reported too.

Run ``python -m benchmarks.sim_cpu`` for both numbers.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from pymavlink.dialects.v20 import ardupilotmega as M

from flight.sim import SimFleet
from missions.geo import LocalFrame

HOME = (52.2297, 21.0122, 100.0)


def _thread_cpu_s(tid: int | None) -> float:
    if tid is None:
        return 0.0
    path = Path(f"/proc/self/task/{tid}/stat")
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _fly_all(fleet: SimFleet) -> None:
    """Warm up fast, then put every copter in the air heading somewhere far."""
    fleet.set_speedup(50)
    for v in fleet.vehicles:
        v.wait(lambda t: t.ekf_ok, 30)
    with fleet.lock:
        for i, v in enumerate(fleet.vehicles):
            c = v.copter
            c.set_mode("GUIDED")
            c.arm()
            c.takeoff(30)
            s = c.state
            s.landed = False
            lat, lon = LocalFrame(HOME[0], HOME[1]).point_to_geo(100 * i, 5000)
            s.nav.n, s.nav.e = s.ne_of(lat, lon)


def measure_sim_cpu(vehicles: int, seconds: float, speedup: float) -> dict:
    """Return CPU use of ``vehicles`` simulated copters over ``seconds`` of wall time at ``speedup``."""
    fleet = SimFleet.start(vehicles=vehicles, home=HOME, speedup=50, listen="tcp:127.0.0.1:0")
    socks: list[socket.socket] = []
    try:
        mav = M.MAVLink(None, srcSystem=255, srcComponent=190)
        for v in fleet.vehicles:
            host, port = v.url.split(":")[1:]
            s = socket.create_connection((host, int(port)))
            s.setblocking(False)
            s.sendall(mav.request_data_stream_encode(v.sysid, 1, M.MAV_DATA_STREAM_ALL, 4, 1).pack(mav))
            socks.append(s)
        _fly_all(fleet)
        fleet.set_speedup(speedup)
        time.sleep(0.5)  # let the new rate settle
        received = 0
        tid = fleet.thread_native_id
        cpu0, proc0, wall0, sim0 = _thread_cpu_s(tid), time.process_time(), time.monotonic(), fleet.sim_time
        while time.monotonic() - wall0 < seconds:
            time.sleep(0.1)
            for s in socks:
                try:
                    while chunk := s.recv(65536):
                        received += len(chunk)
                except BlockingIOError:
                    pass
        wall = time.monotonic() - wall0
        cpu = _thread_cpu_s(tid) - cpu0
        proc = time.process_time() - proc0
        flying = sum(1 for v in fleet.vehicles if v.truth().armed and not v.truth().landed)
        return {
            "vehicles": vehicles,
            "flying": flying,
            "speedup": speedup,
            "wall_s": round(wall, 2),
            "sim_s": round(fleet.sim_time - sim0, 2),
            "sim_thread_cpu_s": round(cpu, 3),
            "cpu_pct_one_core": round(100.0 * cpu / wall, 1),
            "process_cpu_pct": round(100.0 * proc / wall, 1),
            "telemetry_bytes_per_s": round(received / wall),
            "cores": os.cpu_count(),
        }
    finally:
        for s in socks:
            s.close()
        fleet.stop()


def measure_patrol(speedup: float = 10.0, side_m: float = 500.0) -> dict:
    """Wall and sim time of a square patrol (4 x ``side_m``) in AUTO: take-off, 4 legs, land."""
    fleet = SimFleet.start(vehicles=1, home=HOME, speedup=50, listen="tcp:127.0.0.1:0")
    try:
        v = fleet.vehicles[0]
        v.wait(lambda t: t.ekf_ok, 30)
        from flight.sim.items import Item

        rel = M.MAV_FRAME_GLOBAL_RELATIVE_ALT
        items = [Item(M.MAV_CMD_NAV_WAYPOINT, M.MAV_FRAME_GLOBAL, x=HOME[0], y=HOME[1], z=HOME[2])]
        items.append(Item(M.MAV_CMD_NAV_TAKEOFF, rel, z=30))
        for n, e in ((side_m, 0), (side_m, side_m), (0, side_m), (0, 0)):
            lat, lon = LocalFrame(HOME[0], HOME[1]).point_to_geo(e, n)
            items.append(Item(M.MAV_CMD_NAV_WAYPOINT, rel, x=lat, y=lon, z=30))
        items.append(Item(M.MAV_CMD_NAV_LAND, rel))
        with fleet.lock:
            v.copter.state.missions[0] = items
            v.copter.set_mode("GUIDED")
            v.copter.arm()
        fleet.set_speedup(speedup)
        wall0, sim0 = time.monotonic(), v.truth().t_sim_s
        with fleet.lock:
            v.copter.start_mission()
        t = v.wait(lambda t: not t.armed, 600)
        return {
            "speedup": speedup,
            "route_m": 4 * side_m,
            "flown_m": round(t.distance_flown_m, 1),
            "sim_s": round(t.t_sim_s - sim0, 1),
            "wall_s": round(time.monotonic() - wall0, 2),
        }
    finally:
        fleet.stop()


if __name__ == "__main__":
    print("sim CPU, 10 vehicles, speedup 1:", measure_sim_cpu(10, 10.0, 1.0))
    print("2 km patrol at speedup 10:", measure_patrol(10.0))
