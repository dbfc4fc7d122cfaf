"""``lookout sim``: starts the fleet, prints one line per vehicle, stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from lookout.cli import main


def test_sim_prints_vehicle_urls_and_stops_on_ctrl_c(tmp_path):
    env = {**os.environ, "LOOKOUT_DATA": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lookout.cli", "sim", "--vehicles", "2", "--listen", "tcp:127.0.0.1:0",
         "--speedup", "5", "--param", "FS_GCS_ENABLE=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        urls = [re.search(r"sysid (\d+) connect to (tcp:127\.0\.0\.1:\d+)", line) for line in lines[1:]]
        assert all(urls), lines
        assert [u.group(1) for u in urls] == ["1", "2"]
        from pymavlink import mavutil

        m = mavutil.mavlink_connection(urls[1].group(2), source_system=255)
        hb = m.wait_heartbeat(timeout=10)
        m.close()
        assert hb is not None and hb.get_srcSystem() == 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--home", "1,2"], "--home"),
        (["--home", "95,2,3"], "latitude"),
        (["--param", "FOO=1"], "parameter"),
        (["--param", "RTL_ALT"], "NAME=VALUE"),
        (["--signing-key", "abcd"], "signing key"),
        (["--listen", "tcp:nonsense"], "endpoint"),
    ],
)
def test_sim_bad_arguments_exit_1_with_one_line(argv, fragment, capsys):
    rc = main(["sim", "--duration", "0", *argv])
    err = capsys.readouterr().err
    assert rc == 1 and fragment in err and err.count("\n") == 1
