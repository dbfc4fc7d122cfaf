"""What one planning/validation pass of the plan view found (no Qt here; it runs on a worker thread).

``validate(plan, cfg, state)`` = ``missions.summary.summarize`` + ``locate_violations`` (the rules of
``lookout plan check``) + ``flight.plan_check.check_against_vehicle`` for the first checked drone
(its battery %, distance from where it is: the checks ``lookout fly upload`` refuses with).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flight.types import VehicleState
from missions.config import MissionsConfig
from missions.summary import MissionFacts, Violation, locate, locate_violations, summarize
from missions.types import Mission, Plan


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    generation: int
    mission: Mission | None
    facts: MissionFacts | None
    violations: tuple[Violation, ...]
    notes: tuple[str, ...] = ()
    error: str = ""


def validate(plan: Plan, cfg: MissionsConfig, state: VehicleState | None, generation: int = 0,
             coverage_pct: float | None = None) -> PlanOutcome:
    """Summary and violations of ``plan``: ``check_plan`` located, plus the selected drone's battery/distance."""
    vehicle = cfg.vehicles[cfg.default_vehicle]
    violations = locate_violations(plan, cfg, vehicle)
    notes: list[str] = []
    if state is not None:
        from flight.plan_check import PlanLimits, check_against_vehicle

        chk = check_against_vehicle(plan, state, PlanLimits.from_config(cfg))
        for p in chk.problems:
            if p.kind in ("battery", "distance", "coordinates"):
                v = locate(plan, p.text, "endurance" if p.kind == "battery" else p.kind)
                violations.append(replace(v, text=f"drone #{state.sysid}: {p.text}"))
        notes.extend(n for n in chk.notes if "no battery" not in n)
    facts = summarize(plan, cfg, vehicle, state.battery_pct if state else None, coverage_pct)
    return PlanOutcome(generation, plan.mission, facts, tuple(violations), tuple(notes))
