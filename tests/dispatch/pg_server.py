"""A real, throw-away PostgreSQL server for the dispatch tests (Debian's ``postgresql`` package).

``PgServer.start()`` runs ``initdb`` and ``pg_ctl start`` in a fresh temporary directory, listening
on 127.0.0.1 on a free port only (no Unix socket), trust authentication for user ``lookout``.
PostgreSQL refuses to run as root: under root it runs as ``nobody`` (``runuser``), in a directory
under the system temp dir that ``nobody`` owns. ``stop()`` stops it (fast) and deletes the directory.
``why_not()`` says why a server cannot start here (the tests skip with that reason).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from tests.dispatch.webhook_receiver import free_port

USER = "lookout"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def why_not() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]'; pyproject.toml lists it)"
    if _bindir() is None:
        return "PostgreSQL server binaries not found (Debian package postgresql; scripts/setup installs it)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and runuser is missing: PostgreSQL refuses to run as root"
    return None


class PgServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir: Path | None = None
        self._bin = _bindir()

    def _run(self, *args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "nobody", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s)

    def start(self) -> PgServer:
        assert self._bin is not None
        self.dir = Path(tempfile.mkdtemp(prefix="lookout-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "nobody")
        data = self.dir / "data"
        r = self._run(str(self._bin / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                      "--no-sync", "--no-instructions")  # fmt: skip
        if r.returncode != 0:
            self.stop()
            raise RuntimeError(f"initdb failed: {r.stderr.strip()[-500:]}")
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k '' -c fsync=off -c max_connections=60"
        r = self._run(str(self._bin / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.dir / "server.log"),
                      "-w", "-t", "30", "start")  # fmt: skip
        if r.returncode != 0:
            logfile = self.dir / "server.log"
            log = logfile.read_text(errors="replace")[-800:] if logfile.exists() else ""
            self.stop()
            raise RuntimeError(f"pg_ctl start failed: {r.stderr.strip()[-300:]} {log}")
        return self

    def restart(self) -> None:
        """Stop (fast: every client connection is cut) and start again, same port and options."""
        assert self.dir is not None and self._bin is not None
        r = self._run(str(self._bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "-t", "30",
                      "-l", str(self.dir / "server.log"), "restart")  # fmt: skip
        if r.returncode != 0:
            raise RuntimeError(f"pg_ctl restart failed: {r.stderr.strip()[-300:]}")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A fresh empty database; returns its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self.dir is None:
            return
        data = self.dir / "data"
        if (data / "postmaster.pid").exists() and self._bin is not None:
            self._run(str(self._bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
