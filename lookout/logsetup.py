"""Logging for the CLI and console: stderr at ``--log-level``, a rotating file in the data dir."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (as ``logging.lastResort`` does), so a
    link or simulator thread that outlives a replaced or closed stderr never logs into a closed file."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(level: str, log_dir: Path | None, file_level: str = "INFO") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.DEBUG)
    stderr = _CurrentStderr()
    stderr.setLevel(level.upper())
    stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(stderr)
    if log_dir is not None:
        fh = logging.handlers.RotatingFileHandler(
            log_dir / "lookout.log", maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8"
        )
        fh.setLevel(file_level.upper())
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"))
        root.addHandler(fh)
    for noisy in ("ultralytics", "PIL", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, stderr.level))
