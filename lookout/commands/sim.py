"""``lookout sim``: run embedded simulated ArduCopters until Ctrl-C.

Vehicle i listens on PORT + 10*i (``--listen``) or sends to PORT + 10*i (``--out``) with sysid
i + 1, like ArduPilot SITL's ``-I``. Defaults come from the ``[sim]`` config section.
"""

from __future__ import annotations

import argparse
import os
import time

from flight.sim import SimFleet
from flight.sim.errors import SimConfigError
from lookout.context import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run embedded simulated copters (MAVLink 2 over TCP/UDP)", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--vehicles", type=int, default=None, metavar="N", help="number of copters ([sim] vehicles)")
    p.add_argument("--home", default=None, metavar="LAT,LON,ALT", help="home of vehicle 0 (ALT m AMSL)")
    p.add_argument("--speedup", type=float, default=None, metavar="X", help="sim time / wall time ([sim] speedup)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--listen", default=None, metavar="tcp:HOST:PORT", help="TCP server per vehicle (default)")
    g.add_argument("--out", default=None, metavar="udp:HOST:PORT", help="send UDP to a ground station instead")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="ArduCopter parameter override, repeatable (e.g. FS_GCS_ENABLE=1)")  # fmt: skip
    p.add_argument("--signing-key", default=None, metavar="KEY", help="MAVLink2 signing key: 64 hex chars or env:VAR")
    p.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S wall seconds (tests)")
    p.set_defaults(func=run)


def _home(text: str) -> tuple[float, float, float]:
    try:
        lat, lon, alt = (float(x) for x in text.split(","))
    except ValueError:
        raise SimConfigError("--home", text, "use LAT,LON,ALT (degrees, metres AMSL), e.g. 52.23,21.01,100") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SimConfigError("--home", text, "latitude must be within ±90 and longitude within ±180")
    return lat, lon, alt


def _params(pairs: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            out[name.strip().upper()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise SimConfigError("--param", pair, "use NAME=VALUE, e.g. --param FS_GCS_ENABLE=1")
    return out


def _key(text: str | None) -> bytes | None:
    if not text:
        return None
    raw = os.environ.get(text[4:], "") if text.startswith("env:") else text
    try:
        key = bytes.fromhex(raw.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise SimConfigError("signing key", text, "give 64 hex characters (32 bytes), or env:VAR holding them")
    return key


def run(args: argparse.Namespace, ctx: Context) -> int:
    cfg = ctx.config.sim
    home = _home(args.home) if args.home else cfg.home
    out = args.out or (None if args.listen else cfg.out)
    listen = None if out else (args.listen or cfg.listen)
    fleet = SimFleet.start(
        vehicles=args.vehicles or cfg.vehicles,
        home=home,
        speedup=args.speedup or cfg.speedup,
        listen=listen,
        out=out,
        params={**cfg.params, **_params(args.param)},
        signing_key=_key(args.signing_key or cfg.signing_key),
        spacing_m=cfg.spacing_m,
    )
    try:
        print(f"lookout sim: {len(fleet.vehicles)} copter(s) at {home[0]:.6f},{home[1]:.6f},{home[2]:.1f} "
              f"speedup {fleet.speedup:g}; Ctrl-C to stop", flush=True)  # fmt: skip
        for v in fleet.vehicles:
            how = "connect to" if v.url.startswith("tcp:") else "sending to"
            print(f"vehicle {v.index}: sysid {v.sysid} {how} {v.url}", flush=True)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
    return 0
