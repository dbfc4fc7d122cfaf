"""Suite-wide setup: offline Ultralytics, a throw-away data dir, a Qt platform with no display."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
