"""Real ArduCopter SITL for tests with the ``sitl`` marker.

The binary is found through ``LOOKOUT_SITL_BIN`` (default: ``<repo>/../shared/sitl/arducopter`` when
present) and its defaults file through ``LOOKOUT_SITL_DEFAULTS`` (default: ``copter.parm`` beside
the binary). SITL listens on 0.0.0.0, so it is only started when this process is in a private
network namespace that holds nothing but ``lo`` (``scripts/test`` runs pytest under
``unshare --net``); anywhere else, and without a binary, the tests skip with the reason.

Use::

    from tests.sitl_harness import SitlOptions, running_sitl

    with running_sitl(tmp_path, SitlOptions(instance=1, params={"SIM_GPS1_ENABLE": 0})) as sitl:
        Link.open(sitl.url, wait_heartbeat_s=30)

Each instance runs in its own fresh directory (``eeprom.bin``, ``logs/``), ``-I N`` (ports
5760 + 10*N), ``--sysid`` (default N + 1), ``--speedup`` (``LOOKOUT_SITL_SPEEDUP``, default 10),
``--home``. ``stop()`` ends exactly that process. The fixture does not wait for the vehicle to
finish booting: clients must cope with a booting ArduPilot, as with a real one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from missions import Home

REPO = Path(__file__).resolve().parents[1]
BIN_ENV = "LOOKOUT_SITL_BIN"
DEFAULTS_ENV = "LOOKOUT_SITL_DEFAULTS"
SPEEDUP_ENV = "LOOKOUT_SITL_SPEEDUP"
NETNS_REASON = "not in a private network namespace; run `scripts/test` (it uses unshare --net)"
CMAC = Home(-35.363261, 149.165230, 584.0)  # SITL's own default home (Canberra model aircraft club)
BASE_PORT = 5760


@dataclass(frozen=True, slots=True)
class SitlOptions:
    instance: int = 0
    sysid: int | None = None  # default: instance + 1
    home: Home = CMAC
    heading_deg: float = 0.0
    speedup: float | None = None  # default: $LOOKOUT_SITL_SPEEDUP or 10
    params: Mapping[str, float] = field(default_factory=dict)  # written to an extra defaults file


def default_speedup() -> float:
    return float(os.environ.get(SPEEDUP_ENV, "10"))


def sitl_binary() -> Path | None:
    env = os.environ.get(BIN_ENV)
    if env:
        return Path(env)
    default = REPO.parent / "shared" / "sitl" / "arducopter"
    return default if default.exists() else None


def interfaces() -> list[str]:
    """Network interfaces of *this* network namespace (/proc/net/dev follows the namespace; /sys does not)."""
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    return [line.split(":", 1)[0].strip() for line in lines if ":" in line]


def netns_problem() -> str | None:
    """None when this process is in a private namespace with only ``lo``, else the skip reason."""
    try:
        others = [n for n in interfaces() if n != "lo"]
    except OSError:
        return NETNS_REASON
    return NETNS_REASON if others else None


def ensure_loopback_up() -> None:
    """Bring ``lo`` up (a new namespace starts with it down); harmless when it is already up."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s.fileno(), siocgifflags, req))[1]
        if not flags & iff_up:
            fcntl.ioctl(s.fileno(), siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))


def require_sitl() -> tuple[Path, Path | None]:
    """(binary, defaults file) or ``pytest.skip`` with the reason."""
    binary = sitl_binary()
    if binary is None or not binary.exists():
        pytest.skip(f"no ArduPilot SITL binary: set {BIN_ENV}=/path/to/arducopter (see ../shared/sitl/README.md)")
    if not os.access(binary, os.X_OK):
        pytest.skip(f"{BIN_ENV}={binary} is not executable")
    if (problem := netns_problem()) is not None:
        pytest.skip(problem)
    ensure_loopback_up()
    env_defaults = os.environ.get(DEFAULTS_ENV)
    defaults = Path(env_defaults) if env_defaults else binary.parent / "copter.parm"
    return binary, defaults if defaults.exists() else None


def _listening(port: int) -> bool:
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if len(cols) > 3 and cols[1].endswith(want) and cols[3] == "0A":
                    return True
    return False


@dataclass(slots=True)
class Sitl:
    """One running SITL process."""

    options: SitlOptions
    workdir: Path
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def sysid(self) -> int:
        return self.options.sysid if self.options.sysid is not None else self.options.instance + 1

    def port(self, serial: int = 0) -> int:
        """TCP port of SERIAL0 (5760), SERIAL1 (5762) or SERIAL2 (5763), plus 10 per instance."""
        return BASE_PORT + {0: 0, 1: 2, 2: 3}[serial] + 10 * self.options.instance

    @property
    def url(self) -> str:
        return f"tcp:127.0.0.1:{self.port(0)}"

    def log_tail(self, n: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_sitl(workdir: Path, options: SitlOptions = SitlOptions(), *, listen_timeout_s: float = 30.0) -> Sitl:
    """Start one instance in ``workdir`` (created) and wait until its SERIAL0 TCP port listens."""
    binary, defaults = require_sitl()
    workdir.mkdir(parents=True, exist_ok=True)
    files = [str(defaults)] if defaults is not None else []
    if options.params:
        extra = workdir / "extra.parm"
        extra.write_text("".join(f"{k} {v}\n" for k, v in options.params.items()))
        files.append(str(extra))
    speedup = options.speedup or default_speedup()
    sysid = options.sysid if options.sysid is not None else options.instance + 1
    h = options.home
    cmd = [str(binary), "--model", "+", "--speedup", f"{speedup:g}", "-I", str(options.instance),
           "--sysid", str(sysid), "--home", f"{h.lat_deg},{h.lon_deg},{h.alt_amsl_m},{options.heading_deg}"]
    if files:
        cmd += ["--defaults", ",".join(files)]
    log_path = workdir / "sitl.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    sitl = Sitl(options, workdir, proc, log_path)
    deadline = time.monotonic() + listen_timeout_s
    while not _listening(sitl.port(0)):
        if proc.poll() is not None:
            raise RuntimeError(f"SITL exited ({proc.returncode}) before listening: {sitl.log_tail()}")
        if time.monotonic() > deadline:
            sitl.stop()
            raise RuntimeError(f"SITL not listening on {sitl.port(0)} after {listen_timeout_s} s: {sitl.log_tail()}")
        time.sleep(0.02)  # polling the kernel's socket table: there is nothing to wait on
    return sitl


@contextlib.contextmanager
def running_sitl(workdir: Path, options: SitlOptions = SitlOptions()) -> Iterator[Sitl]:
    sitl = start_sitl(workdir, options)
    try:
        yield sitl
    finally:
        sitl.stop()


@contextlib.contextmanager
def running_fleet(workdir: Path, count: int = 3, *, home: Home = CMAC, spacing_deg: float = 0.0002,
                  params: Mapping[str, float] | None = None) -> Iterator[list[Sitl]]:
    """``count`` instances at once (-I 0..count-1, sysids 1..count), homes ``spacing_deg`` apart in longitude."""
    started: list[Sitl] = []
    try:
        for i in range(count):
            h = Home(home.lat_deg, round(home.lon_deg + spacing_deg * i, 7), home.alt_amsl_m)
            started.append(start_sitl(workdir / f"sitl{i}", SitlOptions(instance=i, home=h, params=params or {})))
        yield started
    finally:
        for s in started:
            s.stop()
