"""A real Mosquitto broker for tests: 127.0.0.1 only, a free port, persistence in a temp dir.

    def test_x(mosquitto):                  # the fixture (tests/conftest.py); skipped when mosquitto is absent
        mosquitto.url                       # "mqtt://127.0.0.1:PORT"
        mosquitto.kill()                    # SIGKILL (no clean shutdown, nothing saved beyond the autosave)
        mosquitto.start()                   # again, same port, same persistence file
        mosquitto.wait_saved(after_mono)    # until the persistence file was written after that moment

The config is generated per test: ``listener PORT 127.0.0.1``, ``allow_anonymous true``, ``persistence true``
with ``persistence_location`` in the test's temp dir and ``autosave_interval 1`` (sessions and queued messages
reach the disk within ~1 s, so they survive a SIGKILL), and ``user`` = the current user (as root, mosquitto
would otherwise drop to user ``mosquitto`` and could not write there). The fixture stops the broker.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto")
                                              if os.access(p, os.X_OK)), None)  # fmt: skip


class Broker:
    """One mosquitto process (restartable on the same port with the same persistence)."""

    def __init__(self, binary: str, workdir: Path, port: int | None = None, extra_config: str = "",
                 users: dict[str, str] | None = None) -> None:  # fmt: skip
        """``users`` (name -> password): no anonymous access, a password file made with mosquitto_passwd."""
        self.binary, self.workdir = binary, workdir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.url = f"mqtt://{self.host}:{self.port}"
        (workdir / "persist").mkdir(parents=True, exist_ok=True)
        self.db = workdir / "persist" / "mosquitto.db"
        self.config = workdir / "mosquitto.conf"
        auth = "allow_anonymous true\n"
        if users:
            pw = workdir / "passwords"
            tool = shutil.which("mosquitto_passwd") or "mosquitto_passwd"
            for name, password in users.items():
                create = [] if pw.exists() else ["-c"]
                subprocess.run([tool, "-b", *create, str(pw), name, password], check=True, capture_output=True,
                               timeout=30)  # fmt: skip
            auth = f"allow_anonymous false\npassword_file {pw}\n"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n{auth}persistence true\nuser {getpass.getuser()}\n"
            f"persistence_location {workdir / 'persist'}/\nautosave_interval 1\n"
            f"max_queued_messages 100000\nlog_dest file {workdir / 'mosquitto.log'}\nlog_type all\n{extra_config}"
        )
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout_s: float = 10.0) -> Broker:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen([self.binary, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {err.strip()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    self.starts += 1
                    return self
            except OSError:
                time.sleep(0.02)  # the broker is binding its port; nothing to wait on but the socket
        self.kill()
        raise RuntimeError(f"mosquitto did not listen on {self.port} within {timeout_s} s")

    def kill(self) -> None:
        """SIGKILL: the broker dies without saving (what survives is the last autosave)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_saved(self, after_mono: float, timeout_s: float = 10.0) -> bool:
        """Until the persistence file has been written after ``after_mono`` (monotonic) time."""
        wall_after = time.time() - (time.monotonic() - after_mono)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.db.exists() and self.db.stat().st_mtime > wall_after:
                return True
            time.sleep(0.05)  # the broker autosaves every second; poll the file
        return False

    @property
    def log(self) -> str:
        path = self.workdir / "mosquitto.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A running Mosquitto on 127.0.0.1 (free port), stopped after the test; skipped if not installed."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip("mosquitto is not installed (scripts/setup installs it)")
    broker = Broker(binary, tmp_path / "mosquitto").start()
    try:
        yield broker
    finally:
        broker.stop()
