"""Suite-wide setup: offline Ultralytics, a throw-away data dir, a Qt platform with no display."""

from __future__ import annotations

import logging
import logging.handlers
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before anything imports Ultralytics or Qt.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="lookout-tests-"))
os.environ.setdefault("LOOKOUT_DATA", str(_SESSION_DIR / "data"))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from lookout.models import prepare_offline_env  # noqa: E402

prepare_offline_env(_SESSION_DIR / "ultralytics")

from console.qtenv import sanitize_qt_env  # noqa: E402

sanitize_qt_env()

# Shared fixture: a real Mosquitto on 127.0.0.1 (free port, persistence in tmp), see tests/mqtt_broker.py.
from tests.mqtt_broker import mosquitto  # noqa: E402,F401


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """A test that runs ``lookout.cli.main`` in-process sets up logging (a stderr handler at INFO, a file in
    that test's data dir); take those handlers off the root logger afterwards, so threads of later tests do
    not log there. pytest's own capture handlers come and go per phase and are left alone."""
    root = logging.getLogger()
    level = root.level
    yield
    for h in list(root.handlers):
        if type(h).__module__.startswith("lookout.") or isinstance(h, logging.handlers.RotatingFileHandler):
            root.removeHandler(h)
            h.close()
    root.setLevel(level)
