"""``lookout bench flight [--connect URL]``: 700-item mission upload + download against the embedded
simulator and, with ``--connect``, a real vehicle or ArduPilot SITL, in the same run.

Real path: ``flight.upload_mission`` / ``flight.download_mission`` over a ``flight.Link`` (reader
thread, waiters, resend-on-timeout; download pipelined ``--window`` requests at a time).
Naive baseline, same vehicle, same items, same run: a bare pymavlink connection doing a
one-item-at-a-time send-wait loop (``recv_match(blocking=True)`` for each request/item), the
pattern of most example scripts. 700 wire items = 699 mission items + ArduPilot's seq-0 home
(the simulator's MAX_ITEMS, like a small ArduPilot board). Prints p50/p95, the ratio naive/real,
the core count, and the simulator's CPU use for 10 vehicles when ``benchmarks.sim_cpu`` exists.

``--connect URL`` (e.g. ``tcp:127.0.0.1:5760`` inside ``../shared/sitl/run.sh``): the same two paths
against that vehicle (its home item, its sysid). ArduCopter's default mission storage holds 650
items: for 700 give it ``BRD_SD_MISSION`` (kB of SD card for missions), or pass ``--items 650``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from flight import FlightError, Link, download_mission, upload_mission
from flight._mav import mavutil
from flight.mission_transfer import item_message
from missions.types import Home, Mission, MissionItem

HOME = (52.2297, 21.0122, 100.0)


def make_mission(wire_items: int) -> Mission:
    items = tuple(MissionItem(command=16, lat_deg=round(HOME[0] + (i % 40) * 2e-5, 7),
                              lon_deg=round(HOME[1] + (i // 40) * 3e-5, 7), alt_m=20.0 + i % 10)
                  for i in range(wire_items - 1))  # fmt: skip
    return Mission(items=items, home=Home(*HOME))


def _recv(conn, types: list[str], timeout_s: float = 5.0):  # type: ignore[no-untyped-def]
    m = conn.recv_match(type=types, blocking=True, timeout=timeout_s)
    if m is None:
        raise RuntimeError(f"naive loop: no {types} within {timeout_s} s")
    return m


def naive_upload(conn, sysid: int, wire: list[MissionItem]) -> None:  # type: ignore[no-untyped-def]
    conn.mav.mission_count_send(sysid, 1, len(wire), 0)
    for _ in range(len(wire)):
        req = _recv(conn, ["MISSION_REQUEST_INT", "MISSION_REQUEST"])
        conn.mav.send(item_message(sysid, 1, req.seq, wire[req.seq], 0))
    ack = _recv(conn, ["MISSION_ACK"])
    if ack.type != 0:
        raise RuntimeError(f"naive upload rejected: {ack.type}")


def naive_download(conn, sysid: int) -> int:  # type: ignore[no-untyped-def]
    conn.mav.mission_request_list_send(sysid, 1, 0)
    count = _recv(conn, ["MISSION_COUNT"]).count
    for seq in range(count):
        conn.mav.mission_request_int_send(sysid, 1, seq, 0)
        _recv(conn, ["MISSION_ITEM_INT"])
    conn.mav.mission_ack_send(sysid, 1, 0, 0)
    return count


_SIM_CHILD = """
import sys
import flight.sim.missionproto as mp
from flight.sim import SimFleet
# Like ArduCopter SITL (650 items), the sim's default store is too small for 700: give it the room an
# ArduPilot board gets from BRD_SD_MISSION (SD-card mission storage; 64 kB = 4368 items on SITL).
mp.CAPACITY = max(getattr(mp, "CAPACITY", 0), int(sys.argv[1]))
with SimFleet.start(vehicles=1, home=(52.2297, 21.0122, 100.0), speedup=1.0, listen="tcp:127.0.0.1:0") as f:
    print(f.vehicles[0].url, flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def _sim_process(items: int) -> Iterator[str]:
    """The simulator in its own process, like a real vehicle (not competing for our GIL)."""
    proc = subprocess.Popen([sys.executable, "-c", _SIM_CHILD, str(items)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdin is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("tcp:"):
            raise RuntimeError(f"simulator did not start (said {url!r})")
        yield url
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _same(a: MissionItem, b: MissionItem) -> bool:
    """As a vehicle stores it: 1e-7 deg, 1 cm (ArduPilot keeps cm and degE7)."""
    return (a.command == b.command and abs(a.lat_deg - b.lat_deg) < 1.5e-7 and abs(a.lon_deg - b.lon_deg) < 1.5e-7
            and abs(a.alt_m - b.alt_m) < 0.011)  # fmt: skip


def _real_once(url: str, mission: Mission, window: int) -> tuple[float, float]:
    with Link.open(url, wait_heartbeat_s=10.0, request_telemetry=False) as link:
        t0 = time.perf_counter()
        upload_mission(link, mission)
        t1 = time.perf_counter()
        back = download_mission(link, window=window)
        t2 = time.perf_counter()
    if len(back.items) != len(mission.items) or not all(map(_same, back.items, mission.items)):
        raise RuntimeError("downloaded mission differs from the uploaded one")
    return t1 - t0, t2 - t1


def _naive_once(url: str, wire: list[MissionItem]) -> tuple[float, float]:
    conn = mavutil.mavlink_connection(url, source_system=255, source_component=190)
    try:
        hb = _recv(conn, ["HEARTBEAT"])
        sysid = hb.get_srcSystem()
        t0 = time.perf_counter()
        naive_upload(conn, sysid, wire)
        t1 = time.perf_counter()
        n = naive_download(conn, sysid)
        t2 = time.perf_counter()
    finally:
        conn.close()
    if n != len(wire):
        raise RuntimeError(f"naive download got {n} items, expected {len(wire)}")
    return t1 - t0, t2 - t1


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def _line(name: str, xs: list[float]) -> str:
    return f"  {name:<22} p50 {statistics.median(xs):7.3f} s   p95 {_pct(xs, 0.95):7.3f} s   (n={len(xs)})"


def _measure(url: str, mission: Mission, wire: list[MissionItem], repeats: int, window: int) -> dict[str, list[float]]:
    """Repetition 0 is the warm-up; the order of the two paths alternates against drift."""
    out: dict[str, list[float]] = {"real_up": [], "real_down": [], "naive_up": [], "naive_down": []}
    for rep in range(repeats + 1):
        for path in (("real", "naive") if rep % 2 == 0 else ("naive", "real")):
            up, down = _real_once(url, mission, window) if path == "real" else _naive_once(url, wire)
            if rep:
                out[f"{path}_up"].append(up)
                out[f"{path}_down"].append(down)
    return out


def _report(title: str, r: dict[str, list[float]], window: int) -> None:
    print(title)
    print(_line("upload (flight)", r["real_up"]))
    print(_line("upload (naive loop)", r["naive_up"]))
    print(_line("download (flight)", r["real_down"]))
    print(_line("download (naive loop)", r["naive_down"]))
    up_ratio = statistics.median(r["naive_up"]) / statistics.median(r["real_up"])
    down_ratio = statistics.median(r["naive_down"]) / statistics.median(r["real_down"])
    print(f"  ratio naive/flight: upload {up_ratio:.2f}x, download {down_ratio:.2f}x "
          f"(window {window}); goal upload < 2 s: {'met' if statistics.median(r['real_up']) < 2 else 'MISSED'}")


def main(argv: list[str], data_dir: Path) -> int:
    ap = argparse.ArgumentParser(prog="lookout bench flight", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--items", type=int, default=700, help="wire items incl. home (700; the sim holds at most 700)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--window", type=int, default=8, help="download requests in flight (8)")
    ap.add_argument("--connect", metavar="URL", default=None,
                    help="also measure this vehicle / SITL (pymavlink URL, e.g. tcp:127.0.0.1:5760)")
    ap.add_argument("--no-sim", action="store_true", help="with --connect: skip the embedded simulator")
    ap.add_argument("--cpu-seconds", type=float, default=5.0, help="sim CPU measurement length; 0 = skip")
    args = ap.parse_args(argv)
    mission = make_mission(args.items)
    wire = [MissionItem(command=16, frame=0, lat_deg=HOME[0], lon_deg=HOME[1], alt_m=HOME[2]), *mission.items]
    cores = os.cpu_count()
    if not args.no_sim or not args.connect:
        with _sim_process(args.items) as url:
            sim = _measure(url, mission, wire, args.repeats, args.window)
        _report(f"flight mission transfer: {len(wire)} wire items ({len(mission.items)} + home), embedded sim over "
                f"TCP, {cores} cores", sim, args.window)  # fmt: skip
    if args.connect:
        try:
            vehicle = _measure(args.connect, mission, wire, args.repeats, args.window)
        except FlightError as exc:
            print(f"lookout bench flight: {args.connect}: {exc}", file=sys.stderr)
            return 1
        _report(f"flight mission transfer: {len(wire)} wire items, vehicle at {args.connect}, {cores} cores", vehicle,
                args.window)  # fmt: skip
    if not args.connect:
        _sim_cpu(args.cpu_seconds)
    return 0


def _sim_cpu(seconds: float) -> None:
    if seconds <= 0:
        return
    try:
        mod = importlib.import_module("benchmarks.sim_cpu")
    except ModuleNotFoundError:
        print("  sim CPU: benchmarks/sim_cpu.py not present (sim helper), skipped")
        return
    result = mod.measure_sim_cpu(10, seconds, 1.0)
    if isinstance(result, dict):
        text = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items())
    else:
        text = str(result)
    print(f"  sim CPU, 10 vehicles at speedup 1 for {seconds:g} s: {text}")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main([], Path(".")))
