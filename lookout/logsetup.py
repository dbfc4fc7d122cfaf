"""Logging for the CLI and console: stderr at ``--log-level``, a rotating file in the data dir."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def setup_logging(level: str, log_dir: Path | None, file_level: str = "INFO") -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.setLevel(logging.DEBUG)
    stderr = logging.StreamHandler()
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
