"""lookout.wiring over a real Fleet: unknown vehicles fail with one clear flight error, audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from flight import Fleet
from flight.errors import NoVehicle
from lookout.audit import AuditLog
from lookout.wiring import FleetActions, FleetView


def test_command_for_a_vehicle_nobody_hears_is_a_clear_error_and_audited(tmp_path: Path) -> None:
    with AuditLog(tmp_path / "audit.sqlite") as audit:
        actions = FleetActions(FleetView(Fleet()), audit.append, actor="console:test")
        with pytest.raises(NoVehicle, match="no heartbeat from vehicle sysid 7 on any configured link"):
            actions.arm(7)
        [entry] = audit.entries()  # the operator's attempt is on record, with why it failed
        assert (entry.actor, entry.action, entry.subject) == ("console:test", "flight.arm", "vehicle 7")
        assert entry.detail["outcome"].startswith("failed: no heartbeat from vehicle sysid 7")
