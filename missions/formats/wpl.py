"""QGC WPL 110 plain-text missions (``.waypoints`` / ``.txt``), as QGC, Mission Planner and MAVProxy write them.

Header ``QGC WPL 110``, then one tab-separated row per item:
``INDEX CURRENT FRAME COMMAND P1 P2 P3 P4 LAT LON ALT AUTOCONTINUE``. Row 0 is the home position
(becomes ``Mission.home``; lat = lon = alt = 0 means "no home"). Floats are written with ``repr`` so they read
back bit-exact. The format has no fence or rally: those are dropped on save (a warning is logged).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from missions import mavcmd
from missions.errors import MissionFileError
from missions.formats.common import read_text, write_text_atomic
from missions.types import Home, Mission, MissionItem, Plan

log = logging.getLogger(__name__)
HEADER = "QGC WPL 110"


def _f(v: float) -> str:
    if math.isnan(v):
        return "nan"
    return repr(float(v))


def load(path: Path) -> Plan:
    lines = read_text(path).splitlines()
    if not lines or lines[0].strip() != HEADER:
        got = lines[0].strip()[:40] if lines else "an empty file"
        raise MissionFileError(path, "line 1", f"expected header {HEADER!r}, got {got!r}; not a WPL 110 file")
    home: Home | None = None
    items: list[MissionItem] = []
    expected = 0
    for lineno, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        fields = raw.split()
        place = f"line {lineno}"
        if len(fields) != 12:
            raise MissionFileError(path, place, f"expected 12 tab-separated fields, got {len(fields)}")
        try:
            idx, _current, frame, command = (int(x) for x in fields[:4])
            p = [float(x) for x in fields[4:11]]
            auto = int(fields[11])
        except ValueError as exc:
            raise MissionFileError(path, place, f"bad number ({exc})") from None
        if idx != expected:
            raise MissionFileError(path, place, f"index {idx} out of sequence, expected {expected}")
        expected += 1
        if idx == 0:
            if not (p[4] == 0.0 and p[5] == 0.0 and p[6] == 0.0):
                home = Home(p[4], p[5], p[6])
            continue
        items.append(MissionItem(command, frame, p[0], p[1], p[2], p[3], p[4], p[5], p[6], auto != 0))
    return Plan(Mission(tuple(items), home))


def dumps(plan: Plan) -> str:
    home = plan.mission.home
    h = (home.lat_deg, home.lon_deg, home.alt_amsl_m) if home else (0.0, 0.0, 0.0)
    rows = [
        HEADER,
        "\t".join(
            [
                "0",
                "1",
                str(mavcmd.FRAME_GLOBAL),
                str(mavcmd.NAV_WAYPOINT),
                "0",
                "0",
                "0",
                "0",
                _f(h[0]),
                _f(h[1]),
                _f(h[2]),
                "1",
            ]
        ),
    ]
    for i, it in enumerate(plan.mission.items, start=1):
        rows.append(
            "\t".join(
                [
                    str(i),
                    "0",
                    str(it.frame),
                    str(it.command),
                    *(_f(v) for v in it.params),
                    _f(it.lat_deg),
                    _f(it.lon_deg),
                    _f(it.alt_m),
                    "1" if it.autocontinue else "0",
                ]
            )
        )
    return "\n".join(rows) + "\n"


def save(plan: Plan, path: Path) -> None:
    if plan.fence or plan.rally:
        log.warning(
            "%s: WPL 110 holds no fence or rally points; %d fence and %d rally items not written",
            path,
            len(plan.fence),
            len(plan.rally),
        )
    write_text_atomic(path, dumps(plan))
