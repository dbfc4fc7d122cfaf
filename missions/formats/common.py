"""Shared file helpers: read text with a clear error, write atomically (temp + os.replace), ``LoadedPlan``."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from missions.errors import MissionFileError
from missions.types import Plan


@dataclass(frozen=True, slots=True)
class LoadedPlan:
    """A plan as read, with what the reader had to change or could not keep (one line each)."""

    plan: Plan
    warnings: tuple[str, ...] = ()


def read_text(path: Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MissionFileError(path, "", "file not found; check the path") from None
    except UnicodeDecodeError as exc:
        raise MissionFileError(path, f"byte {exc.start}", "not UTF-8 text; is this the right file?") from None
    except OSError as exc:
        raise MissionFileError(path, "", f"cannot read ({exc.strerror})") from None


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file in the same directory and ``os.replace``."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise MissionFileError(path, "", f"cannot write ({exc.strerror}); does the directory exist?") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_command_frame(command: object, frame: object) -> None:
    """MAV_CMD and MAV_FRAME must be JSON integers (``true`` is not 1); raises TypeError otherwise."""
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (command, frame)):
        raise TypeError("command and frame must be integers")


def num_or_nan(value: object) -> float:
    """JSON number or null -> float (null -> NaN). Raises ValueError/TypeError for anything else."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number or null, got {value!r}")
    return float(value)


def json_num(value: float) -> float | int | None:
    """Float -> JSON value: NaN/inf -> null (as QGC writes), integral values stay floats (exact)."""
    if not math.isfinite(value):
        return None
    return value
