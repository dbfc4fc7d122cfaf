"""Fixtures for flight tests: a pymavlink fake vehicle on a real 127.0.0.1 TCP socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.flight.fakevehicle import FakeVehicle


@pytest.fixture
def vehicle() -> Iterator[FakeVehicle]:
    v = FakeVehicle()
    yield v
    v.close()
