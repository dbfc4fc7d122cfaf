"""Behaviour rules over tracked detections: door-handle trying, vehicle entry, fights, water entry,
loitering, crowds, zone entry (see README.md)."""

from vision.behaviours.config import RulesConfig
from vision.behaviours.engine import BehaviourEngine, build_rules
from vision.behaviours.types import EVENT_KINDS, Event, FrameContext, Rule

__all__ = ["EVENT_KINDS", "BehaviourEngine", "Event", "FrameContext", "Rule", "RulesConfig", "build_rules"]
