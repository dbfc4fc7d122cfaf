"""Where Lookout keeps its data: ``LOOKOUT_DATA`` or the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

from lookout.errors import LookoutError


def default_data_dir() -> Path:
    """``$LOOKOUT_DATA``, else ``$XDG_DATA_HOME/lookout``, else ``~/.local/share/lookout``."""
    env = os.environ.get("LOOKOUT_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "lookout"


def ensure_data_dir(path: Path) -> Path:
    """Create the data directory (and its standard subfolders); raise one clear error if impossible."""
    path = path.expanduser().resolve()
    try:
        for sub in ("", "logs", "evidence", "tlogs", "models", "ultralytics"):
            (path / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LookoutError(
            f"data directory {path}: cannot create it ({exc.strerror}); set LOOKOUT_DATA to a writable folder"
        ) from exc
    return path


def shared_dir() -> Path | None:
    """The optional shared test/benchmark data (real footage, the CAP schema, a SITL build).

    ``$LOOKOUT_SHARED`` if set, else ``shared/`` beside the repository (``<repo>/../shared``) when it
    exists. A user's fresh clone has neither: callers say so plainly (skip reason, error line).
    """
    env = os.environ.get("LOOKOUT_SHARED")
    if env:
        return Path(env).expanduser()
    beside = Path(__file__).resolve().parent.parent.parent / "shared"
    return beside if beside.is_dir() else None


def footage_dir() -> Path | None:
    """Labelled CCTV clips: ``$LOOKOUT_FOOTAGE``, else ``<shared>/footage``; None when neither exists."""
    env = os.environ.get("LOOKOUT_FOOTAGE")
    if env:
        return Path(env).expanduser()
    shared = shared_dir()
    return shared / "footage" if shared is not None and (shared / "footage").is_dir() else None
