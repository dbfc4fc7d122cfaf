"""``BehaviourEngine``: one feed's tracked detections -> history -> every enabled rule -> events.

    engine = BehaviourEngine("gate", cfg.rules, zones=lambda w, h: zones_for_camera(cfg.zones, "gate", w, h))
    events = engine.update(frame.index, frame.capture_t_utc, width, height, tracked_detections)

The engine owns the feed's ``TrackHistory``, applies ``[rules] cooldown_s`` per (rule kind, main track)
and keeps one failing rule from stopping the others (logged once per rule, counted in ``errors``).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from vision.behaviours.config import RulesConfig
from vision.behaviours.types import EVENT_KINDS, Event, FrameContext, Rule
from vision.history import TrackHistory
from vision.types import Detections

log = logging.getLogger(__name__)

_SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2}

#: RulesConfig field (= module name in this package) -> the kind its rule reports, in EVENT_KINDS order
RULE_MODULES: dict[str, str] = {
    "door_handles": "door_handle_trying",
    "vehicle_entry": "vehicle_entry",
    "fight": "fight",
    "water_entry": "water_entry",
    "loitering": "loitering",
    "crowd": "crowd",
    "zone_entry": "zone_entry",
}

ZonesArg = Callable[[int, int], Sequence[Any]] | Sequence[Any]


def _rule_class(module: Any, kind: str) -> type | None:
    """The class defined in ``module`` whose ``kind`` attribute is ``kind`` and that has ``update``."""
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if obj.__module__ == module.__name__ and getattr(obj, "kind", None) == kind and hasattr(obj, "update"):
            return obj
    return None


def build_rules(config: RulesConfig) -> list[Rule]:
    """New instances (one feed's worth) of every enabled rule, in ``EVENT_KINDS`` order.

    Rule modules are imported here, not at import time; a module that does not exist yet, or has no
    class reporting its kind, is skipped with a warning.
    """
    rules: list[Rule] = []
    for field, kind in RULE_MODULES.items():
        sub = getattr(config, field)
        if not sub.enabled:
            continue
        name = f"vision.behaviours.{field}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.warning("behaviour rule %s is not available (no module %s); it does not run", kind, name)
            continue
        cls = _rule_class(module, kind)
        if cls is None:
            log.warning("behaviour rule %s: module %s defines no class with kind = %r; it does not run",
                        kind, name, kind)  # fmt: skip
            continue
        rules.append(cls(sub))
    return rules


class BehaviourEngine:
    """Runs the behaviour rules over one feed's tracked detections, frame by frame, in capture order."""

    def __init__(
        self,
        feed: str,
        config: RulesConfig,
        zones: ZonesArg = (),
        *,
        history_len: int = 64,
        expire_s: float = 10.0,
        rules: Sequence[Rule] | None = None,
    ) -> None:
        self.feed = feed
        self.config = config
        self.history = TrackHistory(history_len, expire_s)
        self.rules: list[Rule] = list(build_rules(config) if rules is None else rules)
        self.errors: dict[str, int] = {}  # rule kind -> exceptions raised
        self.suppressed = 0  # events dropped by the cooldown
        self._zones_fn = zones if callable(zones) else None
        self._zones_fixed = () if callable(zones) else tuple(zones)
        self._zones_at: tuple[tuple[int, int], tuple[Any, ...]] | None = None
        self._last_fired: dict[tuple[str, int], float] = {}  # (kind, main track) -> capture time, s
        self._last_rank: dict[tuple[str, int], int] = {}  # (kind, main track) -> severity rank it fired at
        self._warned_untracked = False

    def zones(self, width: int, height: int) -> tuple[Any, ...]:
        """This feed's zones in pixels of a ``width`` x ``height`` frame (resolved once per size)."""
        if self._zones_fn is None:
            return self._zones_fixed
        if self._zones_at is None or self._zones_at[0] != (width, height):
            self._zones_at = ((width, height), tuple(self._zones_fn(width, height)))
        return self._zones_at[1]

    def forget_zones(self) -> None:
        """Resolve the zones again on the next frame (they were replaced, or move with a drone's pose)."""
        self._zones_at = None

    def update(self, frame_index: int, t_utc: datetime, width: int, height: int, detections: Detections, *,
               crowd: Detections | None = None) -> list[Event]:  # fmt: skip
        """Feed one analysed frame (tracked detections, capture time); return the events it completes.
        ``crowd``: the people a tiled pass (``vision.crowd``) found on this frame, when one ran."""
        t_s = t_utc.timestamp()
        if detections.tracker_id is None:
            if len(detections) and not self._warned_untracked:
                log.warning("feed %s: detections have no tracker ids (no tracker); behaviour rules do not run",
                            self.feed)  # fmt: skip
                self._warned_untracked = True
            self.history.expire(t_s)
            return []
        self.history.update(t_s, detections)
        ctx = FrameContext(self.feed, frame_index, t_s, t_utc, width, height, detections, self.history,
                           self.zones(width, height), crowd)  # fmt: skip
        events: list[Event] = []
        for rule in self.rules:
            try:
                found = rule.update(ctx)
            except Exception:
                kind = getattr(rule, "kind", type(rule).__name__)
                self.errors[kind] = self.errors.get(kind, 0) + 1
                if self.errors[kind] == 1:
                    log.exception("feed %s: behaviour rule %s failed at frame %d (logged once; it keeps running)",
                                  self.feed, kind, frame_index)  # fmt: skip
                continue
            events.extend(e for e in found if self._cool(e, t_s))
        self._forget_cooled(t_s)
        return events

    def _cool(self, event: Event, t_s: float) -> bool:
        """True when ``event`` may fire: its kind and main track have not fired within ``cooldown_s``
        at this severity or a higher one (an escalation, e.g. door work at one car -> several cars,
        is never held back by the lower event's cooldown)."""
        key = (event.kind, event.track_ids[0] if event.track_ids else -1)
        rank = _SEVERITY_RANK.get(event.severity, 0)
        last = self._last_fired.get(key)
        if last is not None and t_s - last < self.config.cooldown_s and rank <= self._last_rank.get(key, 0):
            self.suppressed += 1
            return False
        self._last_fired[key] = t_s
        self._last_rank[key] = rank
        return True

    def _forget_cooled(self, t_s: float) -> None:
        if len(self._last_fired) > 64:
            cool = self.config.cooldown_s
            self._last_fired = {k: v for k, v in self._last_fired.items() if t_s - v < cool}
            self._last_rank = {k: v for k, v in self._last_rank.items() if k in self._last_fired}

    def memory(self) -> dict[str, int]:
        """Sizes of what the engine holds: tracks in the history, cooldown keys, per-rule tracks."""
        out = {"history": len(self.history), "cooldown": len(self._last_fired)}
        for rule in self.rules:
            if hasattr(rule, "__len__"):
                out[rule.kind] = len(rule)  # type: ignore[arg-type]
        return out


__all__ = ["EVENT_KINDS", "RULE_MODULES", "BehaviourEngine", "build_rules"]
