"""Telemetry logs: every link recorded as a standard ``.tlog``.

The format is MAVProxy's/QGC's: for each packet, an 8-byte big-endian timestamp in microseconds
since the Unix epoch, then the raw MAVLink packet. ``pymavlink.mavutil.mavlink_connection(path)``
(mavlogfile), ``mavlogdump.py`` and QGC's log replay read it. Incoming and outgoing packets go in
the same file, in the order the link saw them. Files live in ``<data_dir>/tlogs/``.
"""

from __future__ import annotations

import re
import struct
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

_TS = struct.Struct(">Q")


def tlog_path(directory: Path, url: str, now_utc: datetime | None = None) -> Path:
    """``<dir>/20261123-125501-tcp_127.0.0.1_5760.tlog`` (unique: a counter is added if taken)."""
    stamp = (now_utc or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9.]+", "_", url).strip("_")[:60] or "link"
    path = directory / f"{stamp}-{slug}.tlog"
    n = 1
    while path.exists():
        path = directory / f"{stamp}-{slug}-{n}.tlog"
        n += 1
    return path


class TlogWriter:
    """Append-only .tlog writer, safe to call from the reader and sender threads.

    A tlog is a recording, not a document: it is written as it happens (buffered, flushed about
    once a second by the link and on close), so a crash loses at most the last second.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "ab")  # noqa: SIM115 - closed by close()
        self.packets = 0

    def write(self, packet: bytes, t_utc_s: float | None = None) -> None:
        usec = int((time.time() if t_utc_s is None else t_utc_s) * 1e6)
        with self._lock:
            if self._file.closed:
                return
            self._file.write(_TS.pack(usec) + bytes(packet))
            self.packets += 1

    def flush(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


def open_tlog(directory: Path, url: str) -> TlogWriter:
    return TlogWriter(tlog_path(directory, url))
