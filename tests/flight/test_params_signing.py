"""Parameters (read/write/list with gaps) and MAVLink2 signing on a link."""

from __future__ import annotations

import os

import pytest

from flight import Link, ParamError, SigningKeyError, list_params, read_param, write_param
from flight.signing import resolve_key
from tests.flight.fakevehicle import FakeVehicle

KEY_HEX = "00112233445566778899aabbccddeeff" * 2


@pytest.fixture
def link(vehicle: FakeVehicle):
    with Link.open(vehicle.url, wait_heartbeat_s=5.0) as lk:
        yield lk


def test_read_write_list(vehicle: FakeVehicle, link: Link) -> None:
    assert read_param(link, "RTL_ALT") == 1500.0
    assert write_param(link, "RTL_ALT", 2500.0) == 2500.0
    assert vehicle.params["RTL_ALT"] == 2500.0
    vehicle.faults.param_drop_index = 7  # gap in the burst: re-requested by index
    params = list_params(link, timeout_s=0.3)
    assert len(params) == 41 and params["P007"] == 7.0 and params["RTL_ALT"] == 2500.0


def test_write_clamped_value_is_reported(link: Link) -> None:
    with pytest.raises(ParamError, match="kept 5000 instead of 9999"):
        write_param(link, "RTL_ALT", 9999.0)


@pytest.mark.parametrize("name", ["NO_SUCH_PARAM", ""])
def test_missing_or_bad_param_name(link: Link, name: str) -> None:
    with pytest.raises(ParamError):
        read_param(link, name, timeout_s=0.1, retries=1)


@pytest.mark.parametrize(
    ("spec", "env", "ok"),
    [
        (KEY_HEX, None, True),
        ("env:LOOKOUT_TEST_KEY", KEY_HEX, True),
        ("env:LOOKOUT_TEST_KEY", None, False),
        ("env:", None, False),
        ("abc", None, False),
        ("zz" * 32, None, False),
    ],
)
def test_resolve_key(spec: str, env: str | None, ok: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOOKOUT_TEST_KEY", raising=False)
    if env is not None:
        monkeypatch.setenv("LOOKOUT_TEST_KEY", env)
    if ok:
        assert resolve_key(spec) == bytes.fromhex(KEY_HEX)
    else:
        with pytest.raises(SigningKeyError):
            resolve_key(spec)


def test_signed_link_talks_to_signed_vehicle_and_rejects_wrong_key() -> None:
    key = bytes.fromhex(KEY_HEX)
    v = FakeVehicle(signing_key=key)
    try:
        with Link.open(v.url, signing_key=KEY_HEX, wait_heartbeat_s=5.0) as link:
            assert link.wait_state(lambda s: s.lat_deg is not None, timeout_s=5.0) is not None
            assert link.stats().bad_signature == 0
        wrong = os.urandom(32)
        with Link.open(v.url, signing_key=wrong) as link:
            assert link.wait_state(lambda s: False, timeout_s=0.6) is None
            stats = link.stats()
            assert stats.vehicles == () and stats.bad_signature > 0
    finally:
        v.close()
