"""MAVLink2 signing and the GCS failsafe with real ArduCopter SITL (``sitl`` marker).

Signing: a key given with SETUP_SIGNING on SERIAL0 (TCP 5760: ArduPilot's channel 0, which always
accepts unsigned frames, like USB on a board) is then enforced on SERIAL1 (TCP 5762): a signed
client is answered, an unsigned one is ignored. Failsafe: with FS_GCS_ENABLE = 1 the vehicle flies
home by itself when the GCS link goes quiet, seen by a second client that is not the GCS.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from flight import CommandTimeout, Link, ParamError, arm, goto, read_param, set_mode, takeoff
from missions import haversine_m
from tests.flight.clihelp import cli
from tests.sitl_harness import CMAC, SitlOptions, default_speedup, running_sitl

pytestmark = pytest.mark.sitl


def test_signing_set_up_with_setup_signing_is_then_enforced(tmp_path: Path) -> None:
    key = secrets.token_hex(32)
    with running_sitl(tmp_path / "sitl") as sitl, Link.open(sitl.url, wait_heartbeat_s=30) as gcs:
        assert gcs.wait_state(lambda s: s.system_status != "BOOT", timeout_s=60) is not None
        with Link.open(f"tcp:127.0.0.1:{sitl.port(1)}", wait_heartbeat_s=30, source_system=254) as before:
            assert read_param(before, "WPNAV_SPEED") > 0  # no key yet: unsigned is answered
        # SERIAL0 serves one client (ours): the CLI gives the key through SERIAL2, unsigned (no key yet)
        assert cli(["fly", "--connect", f"tcp:127.0.0.1:{sitl.port(2)}", "--no-tlog", "setup-signing", key]) == 0
        gcs.start_signing(bytes.fromhex(key))  # as flight.signing.setup_signing does after sending the key
        assert read_param(gcs, "WPNAV_SPEED") > 0
        with Link.open(f"tcp:127.0.0.1:{sitl.port(1)}", wait_heartbeat_s=30, source_system=254,
                       signing_key=key) as signed:  # fmt: skip
            assert read_param(signed, "WPNAV_SPEED") > 0
            assert signed.stats().bad_signature == 0
        with Link.open(f"tcp:127.0.0.1:{sitl.port(1)}", wait_heartbeat_s=30, source_system=254) as unsigned:
            with pytest.raises(ParamError, match="no PARAM_VALUE"):
                read_param(unsigned, "WPNAV_SPEED", timeout_s=0.5, retries=2)
            with pytest.raises(CommandTimeout):
                unsigned.command(sitl.sysid, 512, (33,), timeout_s=0.5, retries=1)  # REQUEST_MESSAGE
        wrong = secrets.token_hex(32)
        with Link.open(f"tcp:127.0.0.1:{sitl.port(1)}", source_system=254, signing_key=wrong) as impostor:
            # the vehicle's frames fail our check (counted, dropped), so no vehicle is ever heard
            assert impostor.wait_state(lambda s: True, timeout_s=3) is None
            assert impostor.stats().bad_signature > 0


def test_gcs_failsafe_on_link_loss_brings_the_vehicle_home(tmp_path: Path) -> None:
    # The link sends GCS heartbeats at 1 Hz of wall time: at SITL's speedup N that is one per N s of the
    # vehicle's time, so the timeout (vehicle time) must be longer: 3 s of wall time
    opts = SitlOptions(params={"FS_GCS_ENABLE": 1, "FS_GCS_TIMEOUT": min(120, 3 * default_speedup())})
    with running_sitl(tmp_path / "sitl", opts) as sitl:
        gcs = Link.open(sitl.url, wait_heartbeat_s=30)  # sysid 255: the GCS the failsafe watches
        # SITL opens SERIAL1 once a client is on SERIAL0; the watcher (sysid 250) is not the GCS
        watcher = Link.open(f"tcp:127.0.0.1:{sitl.port(1)}", wait_heartbeat_s=30, source_system=250)
        try:
            try:
                ready = gcs.wait_state(lambda s: s.gps_fix >= 3 and s.ekf_ok and s.home_lat_deg is not None,
                                       timeout_s=120)  # fmt: skip
                assert ready is not None
                set_mode(gcs, "GUIDED")
                arm(gcs)
                takeoff(gcs, 10.0)
                up = gcs.wait_state(lambda s: (s.alt_rel_m or 0) > 9, timeout_s=60)
                assert up is not None, (gcs.state(), gcs.statustexts_since(sitl.sysid, 0))
                goto(gcs, CMAC.lat_deg + 0.0005, CMAC.lon_deg, 10.0)
                away = gcs.wait_state(
                    lambda s: haversine_m(s.lat_deg, s.lon_deg, CMAC.lat_deg, CMAC.lon_deg) > 30, timeout_s=60)
                assert away is not None
            finally:
                gcs.close()  # the link is lost: no more GCS heartbeats
            rtl = watcher.wait_state(lambda s: s.mode in ("RTL", "LAND", "SMART_RTL"), timeout_s=60)
            assert rtl is not None, watcher.state()
            def said_failsafe(_s: object) -> bool:
                return any("failsafe" in t.lower() and "gcs" in t.lower()
                           for t in watcher.statustexts_since(sitl.sysid, 0))  # fmt: skip

            assert watcher.wait_state(said_failsafe, timeout_s=10) is not None, (
                rtl.mode, watcher.statustexts_since(sitl.sysid, 0)[-12:])
            assert watcher.wait_state(lambda s: not s.armed, timeout_s=180) is not None
            st = watcher.state()
            assert haversine_m(st.lat_deg, st.lon_deg, CMAC.lat_deg, CMAC.lon_deg) < 5
        finally:
            watcher.close()
