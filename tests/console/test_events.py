"""The events list: behaviour events polled from the video wall appear newest first; a high-severity
one raises the list and says ALERT in the status bar; the list stays bounded."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from console.events import EventsModel, kind_text
from console.services import ConsoleServices

pytestmark = pytest.mark.gui

T0 = datetime(2026, 11, 23, 21, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Ev:
    kind: str
    severity: str
    feed: str
    t_end_utc: datetime
    summary: str
    id: str = field(default="e")


class Wall:
    """An EventFeed the test fills (like lookout.wiring.VisionWall.events_since)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[int, Ev]] = []
        self.seq = 0

    def push(self, ev: Ev) -> None:
        with self._lock:
            self.seq += 1
            self._events.append((self.seq, ev))

    def events_since(self, seq: int) -> tuple[int, list[Ev]]:
        with self._lock:
            return self.seq, [e for s, e in self._events if s > seq]


class NoFleet:
    def snapshot(self) -> dict:
        return {}


def test_events_appear_newest_first_and_high_severity_alerts(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    wall = Wall()
    win = MainWindow(ConsoleServices(fleet=NoFleet(), events=wall), poll_hz=50)
    qtbot.addWidget(win)
    win.show()
    assert win.events_view is not None and win.events_model.rowCount() == 0
    wall.push(Ev("loitering", "low", "gate", T0, "person 3 in 'yard' for 61 s", "a"))
    qtbot.waitUntil(lambda: win.events_model.rowCount() == 1, timeout=3000)
    assert "Event: Loitering on gate" in win.statusBar().currentMessage()
    wall.push(Ev("door_handle_trying", "high", "car_park", T0 + timedelta(seconds=40),
                 "person 7 tried the doors of 3 parked cars in 41 s", "b"))
    qtbot.waitUntil(lambda: win.events_model.rowCount() == 2, timeout=3000)
    m = win.events_model
    assert [m.data(m.index(0, c)) for c in range(5)] == [
        "21:04:45", "car_park", "Trying car doors", "high", "person 7 tried the doors of 3 parked cars in 41 s"]
    assert m.data(m.index(1, 2)) == "Loitering"
    assert m.data(m.index(0, 2), 9).color().red() == 200  # ForegroundRole: red for high severity
    assert win.statusBar().currentMessage().startswith("ALERT: Trying car doors on car_park at 21:04:45 UTC")
    assert win._events_dock.isVisible()  # raised over the fleet table it shares the area with


def test_without_an_event_feed_there_is_no_events_list(qtbot) -> None:  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    win = MainWindow(ConsoleServices(fleet=NoFleet()))
    qtbot.addWidget(win)
    assert win.events_view is None


@pytest.mark.parametrize(("pushed", "kept"), [(0, 0), (3, 3), (12, 5)])
def test_the_list_is_bounded(pushed: int, kept: int) -> None:
    model = EventsModel(max_rows=5)
    batch = [Ev("crowd", "medium", "cam", T0 + timedelta(seconds=i), f"#{i}") for i in range(pushed)]
    model.add(batch[:7])
    model.add(batch[7:])
    assert model.rowCount() == kept
    if kept:
        assert model.event_at(0).summary == f"#{pushed - 1}"  # newest first


def test_unknown_kinds_still_read_well() -> None:
    assert kind_text("water_entry") == "Person in water"
    assert kind_text("tailgating_at_gate") == "Tailgating at gate"
