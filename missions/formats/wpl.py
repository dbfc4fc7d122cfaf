"""QGC WPL 110 missions (``.waypoints``/``.txt``), read as ArduPilot, MAVProxy and Mission Planner read them.

Header ``QGC WPL 110``, then one row per item: ``INDEX CURRENT FRAME COMMAND P1 P2 P3 P4 LAT LON ALT
AUTOCONTINUE``. Reading is forgiving in the ways real files need:

- comment lines (``#`` first) and blank lines anywhere; fields separated by any mix of tabs and
  spaces; CRLF or LF; a trailing newline or none; spaces after the header; a UTF-8 BOM;
- rows are taken in file order, as MAVProxy does: an index that skips or repeats is renumbered
  and a warning says which lines were (DO_JUMP targets are kept as written, with a warning when
  rows were renumbered);
- the first row is the home (``Mission.home``; all-zero = no home), as ArduPilot, MAVProxy and QGC
  treat it, whatever its index; its frame, command, params and autocontinue are kept when they are
  not the usual ``0 16 0 0 0 0 1`` (``Mission.home_row``), so they are written back as they were;
- fence rows (MAV_CMD_NAV_FENCE_* 5000..5004, as MAVProxy's ``fence save`` writes them: no home
  row) become ``Plan.fence`` and rally rows (5100, ``rally save``) ``Plan.rally``, ready to upload
  as fence/rally; they are written back after the mission rows;
- ``QGC WPL 120`` (old QGC, no home row) is read too (its DO_JUMP targets move up by one for the
  home).

Floats are written with ``repr`` so they read back bit-exact; rows are tab-separated. Errors name
the file and line and how to fix it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from missions import mavcmd
from missions.errors import MissionFileError
from missions.formats.common import LoadedPlan, read_text, write_text_atomic
from missions.types import Home, Mission, MissionItem, Plan

log = logging.getLogger(__name__)
HEADER = "QGC WPL 110"
_VERSIONS = ("110", "120")
_FIELDS = ("index", "current", "frame", "command")
_SHOWN = 5  # renumbered lines listed in the warning


def _f(v: float) -> str:
    return "nan" if math.isnan(v) else repr(float(v))


def _whole(path: Path, lineno: int, name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not math.isfinite(v) or v != int(v):
        raise MissionFileError(path, f"line {lineno}", f"{name} {text!r} is not a whole number")
    return int(v)


@dataclass(frozen=True, slots=True)
class _Row:
    lineno: int
    index: int
    item: MissionItem


def _parse_row(path: Path, lineno: int, raw: str) -> _Row:
    fields = raw.split()
    if len(fields) != 12:
        raise MissionFileError(path, f"line {lineno}",
                               f"expected 12 fields, got {len(fields)} (is this a QGC WPL 110 file?)")  # fmt: skip
    idx, _current, frame, command = (_whole(path, lineno, n, x) for n, x in zip(_FIELDS, fields[:4], strict=True))
    values: list[float] = []
    for k, x in enumerate(fields[4:11], start=1):
        try:
            values.append(float(x))
        except ValueError:
            what = f"param{k}" if k <= 4 else ("latitude", "longitude", "altitude")[k - 5]
            raise MissionFileError(path, f"line {lineno}", f"{what} {x!r} is not a number") from None
    auto = _whole(path, lineno, "autocontinue", fields[11])
    p = values
    return _Row(lineno, idx, MissionItem(command, frame, p[0], p[1], p[2], p[3], p[4], p[5], p[6], auto != 0))


def _header(path: Path, lines: list[str]) -> tuple[str, int]:
    """The WPL version and the line number after the header (comments/blank lines may come first)."""
    for n, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        words = text.split()
        if len(words) == 3 and words[:2] == ["QGC", "WPL"] and words[2] in _VERSIONS:
            return words[2], n + 1
        raise MissionFileError(path, f"line {n}", f"expected header {HEADER!r}, got {text[:40]!r}; not a WPL 110 file")
    raise MissionFileError(path, "line 1", f"expected header {HEADER!r}, got an empty file")


def _is_usual_home(row: MissionItem) -> bool:
    return (row.command, row.frame, row.params, row.autocontinue) == (
        mavcmd.NAV_WAYPOINT, mavcmd.FRAME_GLOBAL, (0.0, 0.0, 0.0, 0.0), True)  # fmt: skip


def read(path: Path) -> LoadedPlan:
    path = Path(path)
    lines = read_text(path).splitlines()
    version, start = _header(path, lines)
    rows = [_parse_row(path, n, raw) for n, raw in enumerate(lines[start - 1:], start=start)
            if raw.strip() and not raw.lstrip().startswith("#")]  # fmt: skip
    warnings: list[str] = []
    renumbered = [(r.lineno, r.index, seq) for seq, r in enumerate(rows) if r.index != seq]
    if renumbered:
        shown = ", ".join(f"line {ln} index {i} -> {seq}" for ln, i, seq in renumbered[:_SHOWN])
        more = f" and {len(renumbered) - _SHOWN} more" if len(renumbered) > _SHOWN else ""
        warnings.append(f"{path}: {len(renumbered)} row(s) renumbered in file order (indices skip or repeat): "
                        f"{shown}{more}")  # fmt: skip
    home: Home | None = None
    home_row: MissionItem | None = None
    fence_or_rally = mavcmd.FENCE_ITEM_COMMANDS | {mavcmd.NAV_RALLY_POINT}
    body = rows
    if version == "110" and rows and rows[0].item.command not in fence_or_rally:
        h = rows[0].item
        body = rows[1:]
        if not (h.lat_deg == 0.0 and h.lon_deg == 0.0 and h.alt_m == 0.0):
            home = Home(h.lat_deg, h.lon_deg, h.alt_m)
        if not _is_usual_home(h):
            home_row = h
    items: list[MissionItem] = []
    fence: list[MissionItem] = []
    rally: list[MissionItem] = []
    for r in body:
        it = r.item
        if it.command in mavcmd.FENCE_ITEM_COMMANDS:
            fence.append(it)
        elif it.command == mavcmd.NAV_RALLY_POINT:
            rally.append(it)
        else:
            if it.command == mavcmd.DO_JUMP and version == "120":
                it = _with_param1(it, it.param1 + 1)
            elif it.command == mavcmd.DO_JUMP and renumbered:
                warnings.append(f"{path}: line {r.lineno}: DO_JUMP to {it.param1:g} kept as written although rows "
                                "were renumbered; check that it jumps where you mean")  # fmt: skip
            items.append(it)
    if items and (fence or rally):
        warnings.append(f"{path}: {len(fence)} fence and {len(rally)} rally row(s) among the mission rows are kept as "
                        "the plan's fence/rally (uploaded as fence and rally, not as mission items)")  # fmt: skip
    return LoadedPlan(Plan(Mission(tuple(items), home, home_row), tuple(fence), tuple(rally)), tuple(warnings))


def _with_param1(it: MissionItem, p1: float) -> MissionItem:
    return MissionItem(it.command, it.frame, p1, it.param2, it.param3, it.param4, it.lat_deg, it.lon_deg, it.alt_m,
                       it.autocontinue)  # fmt: skip


def load(path: Path) -> Plan:
    loaded = read(path)
    for w in loaded.warnings:
        log.warning("%s", w)
    return loaded.plan


def _row(index: int, current: int, it: MissionItem) -> str:
    return "\t".join([str(index), str(current), str(it.frame), str(it.command), *(_f(v) for v in it.params),
                      _f(it.lat_deg), _f(it.lon_deg), _f(it.alt_m), "1" if it.autocontinue else "0"])  # fmt: skip


def dumps(plan: Plan) -> str:
    m = plan.mission
    rows = [HEADER]
    if m.items or m.home is not None or m.home_row is not None or not (plan.fence or plan.rally):
        home = m.home
        base = m.home_row or MissionItem(mavcmd.NAV_WAYPOINT, mavcmd.FRAME_GLOBAL)
        lat, lon, alt = (home.lat_deg, home.lon_deg, home.alt_amsl_m) if home else (0.0, 0.0, 0.0)
        rows.append(_row(0, 1, MissionItem(base.command, base.frame, *base.params, lat, lon, alt, base.autocontinue)))
    for it in (*m.items, *plan.fence, *plan.rally):
        rows.append(_row(len(rows) - 1, 0, it))
    return "\n".join(rows) + "\n"


def save(plan: Plan, path: Path) -> None:
    write_text_atomic(path, dumps(plan))


__all__ = ["HEADER", "dumps", "load", "read", "save"]
