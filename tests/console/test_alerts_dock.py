"""The alert queue over a real ``AlertStore`` (SQLite in tmp_path) with a real audit log: alerts are
listed newest first with thumbnails, a new high alert raises the dock, opening one shows the snapshot,
plays the clip and centres the map, A/C/D act as the logged-in user (audited), dismissing asks a reason,
a restart restores the queue, and the role decides which buttons exist."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.services import ConsoleServices
from dispatch.roles import Actor, Role
from dispatch.store import AlertStore
from dispatch.types import AlertInput, AlertState, EvidenceRef, Position
from lookout.audit import AuditLog, verify
from lookout.console_services import StoreAlerts

pytestmark = pytest.mark.gui

T0 = datetime(2026, 11, 23, 21, 4, 5, tzinfo=UTC)
HOME = (52.0907, 5.1214)
ANN = Actor("ann", Role.OPERATOR)


class NoFleet:
    def snapshot(self) -> dict:
        return {}


def _evidence(data: Path, rel: str, payload: bytes, kind: str) -> EvidenceRef:
    path = data / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    mime = "image/jpeg" if kind == "snapshot" else "video/mp4"
    return EvidenceRef(kind, rel, hashlib.sha256(payload).hexdigest(), len(payload), mime)


def snapshot_jpeg(colour: tuple[int, int, int]) -> bytes:
    img = np.zeros((180, 320, 3), np.uint8)
    img[:] = colour
    cv2.rectangle(img, (120, 40), (200, 170), (255, 255, 255), 3)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


def clip_mp4(path: Path, frames: int = 12) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, (160, 90))
    for i in range(frames):
        img = np.full((90, 160, 3), 20 * i % 255, np.uint8)
        writer.write(img)
    writer.release()
    return path.read_bytes()


def add_alert(store: AlertStore, data: Path, n: int, *, severity: str = "medium", kind: str = "zone_entry",
              north_m: float = 0.0, snapshot: bool = True) -> int:
    lat = HOME[0] + north_m / 111_320
    ev = f"ev{n}"
    ref = _evidence(data, f"evidence/2026-11-23/{ev}/snapshot.jpg", snapshot_jpeg((40 * n % 255, 80, 160)),
                    "snapshot") if snapshot else None  # fmt: skip
    alert = store.ingest(AlertInput(
        event_id=ev, kind=kind, severity=severity, feed="Street camera: Main St", t_start_utc=T0 + timedelta(seconds=n),
        t_end_utc=T0 + timedelta(seconds=n + 2), track_ids=(n,), position=Position(lat, HOME[1], 4.0), zone=f"yard-{n}",
        summary=f"person {n} entered restricted zone 'yard-{n}'", details={}, cooldown_s=30.0, snapshot=ref,
        track_path=((lat - 0.0001, HOME[1] - 0.0001), (lat, HOME[1])),
    ))  # fmt: skip
    return alert.id


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def audit(data: Path) -> Iterator[AuditLog]:
    with AuditLog(data / "audit.sqlite") as log:
        yield log


@pytest.fixture
def store(data: Path, audit: AuditLog) -> Iterator[AlertStore]:
    with AlertStore(data / "alerts.sqlite", audit=audit.append) as s:
        yield s


def window(qtbot, store: AlertStore, data: Path, actor: Actor = ANN):  # type: ignore[no-untyped-def]
    from console.main_window import MainWindow

    win = MainWindow(ConsoleServices(fleet=NoFleet(), alerts=StoreAlerts(store, data)), poll_hz=50, actor=actor)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    with warnings.catch_warnings():  # deprecated in Qt 6, and the only way offscreen (no window manager)
        warnings.simplefilter("ignore", DeprecationWarning)
        QApplication.setActiveWindow(win)  # shortcuts need an active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    return win


def test_queue_lists_alerts_newest_first_with_thumbnails_and_markers(qtbot, qtmodeltester, store, data) -> None:  # type: ignore[no-untyped-def]
    first = add_alert(store, data, 1)
    second = add_alert(store, data, 2, severity="high", north_m=30)
    no_snap = add_alert(store, data, 3, severity="low", north_m=60, snapshot=False)
    win = window(qtbot, store, data)
    queue = win.alert_queue
    assert queue is not None
    model = queue.model
    qtmodeltester.check(model)
    assert [model.alert_at(r).id for r in range(model.rowCount())] == [no_snap, second, first]
    thumb = model.data(model.index(1, 0), Qt.ItemDataRole.DecorationRole)
    assert thumb is not None and not thumb.isNull() and thumb.width() <= 80
    assert model.data(model.index(0, 0), Qt.ItemDataRole.DecorationRole) is None  # no snapshot: no thumbnail
    high = model.data(model.index(1, 4), Qt.ItemDataRole.ForegroundRole).color()
    low = model.data(model.index(0, 4), Qt.ItemDataRole.ForegroundRole).color()
    assert high != low and high.red() > 150
    assert queue.tabs.tabText(0) == "New (3)" and queue.tabs.tabText(1) == "Confirmed (0)"
    assert win.map.alerts.marker_ids() == sorted([first, second, no_snap])


def test_a_new_high_alert_raises_the_dock_and_says_alert(qtbot, store, data) -> None:  # type: ignore[no-untyped-def]
    win = window(qtbot, store, data)
    queue, dock = win.alert_queue, win.alerts_dock
    assert queue is not None and dock is not None
    fleet_dock = win.findChild(type(dock), "Fleet")
    win.tabifyDockWidget(fleet_dock, dock)
    fleet_dock.raise_()
    qtbot.waitUntil(lambda: dock.visibleRegion().isEmpty())
    with qtbot.assertNotEmitted(queue.urgent, wait=50):
        add_alert(store, data, 1, severity="medium")
        qtbot.waitUntil(lambda: queue.model.rowCount() == 1)
    assert dock.visibleRegion().isEmpty()  # a medium alert does not take the operator's screen
    with qtbot.waitSignal(queue.urgent, timeout=5000) as blocker:
        high = add_alert(store, data, 2, severity="high", north_m=40)
    assert blocker.args[0].id == high
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty())
    assert win.statusBar().currentMessage().startswith(f"ALERT #{high}")


def test_opening_shows_snapshot_plays_clip_and_centres_the_map(qtbot, store, data) -> None:  # type: ignore[no-untyped-def]
    from console.mapview import from_scene

    add_alert(store, data, 1)
    target = add_alert(store, data, 2, north_m=300)
    clip = clip_mp4(data / "evidence/2026-11-23/ev2/clip.mp4")
    store.attach_evidence("ev2", EvidenceRef("clip", "evidence/2026-11-23/ev2/clip.mp4",
                                             hashlib.sha256(clip).hexdigest(), len(clip), "video/mp4"))  # fmt: skip
    win = window(qtbot, store, data)
    queue = win.alert_queue
    assert queue is not None
    with qtbot.waitSignal(queue.alert_opened, timeout=3000) as blocker:
        view = queue.views[0]
        view.setFocus()
        row = queue.proxies[0].mapFromSource(queue.model.index(queue.model.row_of(target) or 0, 1))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(row).center())
    alert = blocker.args[0]
    assert alert.id == target
    assert queue.detail.has_snapshot()
    qtbot.waitUntil(lambda: queue.detail.clip.frames_shown >= 3, timeout=5000)
    assert queue.detail.clip.is_playing()
    assert alert.position is not None
    lat, lon = from_scene(win.map.mapToScene(win.map.viewport().rect().center()))
    m_per_px = 1.0 / win.map.transform().m11()
    assert abs(lat - alert.position.lat_deg) * 111_320 < 3 * m_per_px
    assert abs(lon - alert.position.lon_deg) * 111_320 * 0.62 < 3 * m_per_px
    assert win.map.alerts.circle.isVisible() and win.map.alerts.path.isVisible()
    assert win.map.alerts.shown_id == target


def test_c_confirms_and_a_acknowledges_as_the_user_audited(qtbot, store, data, audit) -> None:  # type: ignore[no-untyped-def]
    one = add_alert(store, data, 1)
    two = add_alert(store, data, 2, north_m=50)
    win = window(qtbot, store, data)
    queue = win.alert_queue
    assert queue is not None
    assert queue.select_alert(one)
    qtbot.keyClick(queue.views[0], Qt.Key.Key_C)
    assert store.get(one).state == AlertState.CONFIRMED
    assert store.get(one).history[-1].user == "ann"
    # the confirmed alert left the New tab; the panel stays on it, so a second C confirms nothing else
    assert queue.detail.alert is not None and queue.detail.alert.id == one
    assert queue.detail.alert.state == AlertState.CONFIRMED
    qtbot.keyClick(queue.views[0], Qt.Key.Key_C)
    assert store.get(two).state == AlertState.NEW
    assert "cannot be confirmed" in win.statusBar().currentMessage()
    assert queue.select_alert(two)
    qtbot.keyClick(queue.views[queue.tabs.currentIndex()], Qt.Key.Key_A)
    assert store.get(two).state == AlertState.ACKNOWLEDGED
    acts = [(e.actor, e.action, e.subject) for e in audit.entries() if e.action.startswith("alerts.c")
            or e.action == "alerts.ack"]  # fmt: skip
    assert ("ann", "alerts.confirm", f"alert {one}") in acts and ("ann", "alerts.ack", f"alert {two}") in acts
    assert verify(audit.path).ok
    qtbot.waitUntil(lambda: queue.tabs.tabText(1) == "Confirmed (1)")
    assert "confirmed by ann" in win.statusBar().currentMessage() or store.get(one).state == AlertState.CONFIRMED


def test_dismiss_asks_for_a_reason(qtbot, store, data) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialogButtonBox

    one = add_alert(store, data, 1)
    win = window(qtbot, store, data)
    queue = win.alert_queue
    assert queue is not None and queue.select_alert(one)
    qtbot.keyClick(queue.views[0], Qt.Key.Key_D)
    dialog = queue.dismiss_dialog
    assert dialog is not None and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # no reason, no dismissal
    dialog.reject()
    assert store.get(one).state == AlertState.NEW
    queue.detail.buttons["dismiss"].click()
    dialog = queue.dismiss_dialog
    assert dialog is not None
    dialog.set_reason("False alarm: authorised person")
    assert ok is not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    after = store.get(one)
    assert after.state == AlertState.DISMISSED and after.history[-1].note == "False alarm: authorised person"
    assert one not in win.map.alerts.marker_ids()  # a dismissed alert leaves the map


def test_a_restart_restores_the_queue_from_the_store(qtbot, store, data, audit) -> None:  # type: ignore[no-untyped-def]
    one = add_alert(store, data, 1)
    two = add_alert(store, data, 2, severity="high")
    win = window(qtbot, store, data)
    assert win.alert_queue is not None and win.alert_queue.select_alert(one)
    qtbot.keyClick(win.alert_queue.views[0], Qt.Key.Key_C)
    win.close()
    store.close_db()
    with AlertStore(data / "alerts.sqlite", audit=audit.append) as reopened:
        again = window(qtbot, reopened, data)
        queue = again.alert_queue
        assert queue is not None
        states = {queue.model.alert_at(r).id: queue.model.alert_at(r).state for r in range(queue.model.rowCount())}
        assert states == {one: AlertState.CONFIRMED, two: AlertState.NEW}
        assert queue.tabs.tabText(0) == "New (1)" and queue.tabs.tabText(1) == "Confirmed (1)"
        assert "waiting for a decision" in again.statusBar().currentMessage()
        again.close()


@pytest.mark.parametrize(
    ("role", "confirm", "arm"),
    [(Role.PILOT, False, True), (Role.OPERATOR, True, False), (Role.DISPATCHER, True, False), (Role.ADMIN, True, True)],
)
def test_the_role_decides_which_buttons_exist(qtbot, store, data, role: Role, confirm: bool, arm: bool) -> None:  # type: ignore[no-untyped-def]
    one = add_alert(store, data, 1)
    win = window(qtbot, store, data, Actor("kim", role))
    queue = win.alert_queue
    assert queue is not None
    assert queue.select_alert(one)
    assert queue.detail.buttons["confirm"].isVisible() is confirm
    assert queue.detail.buttons["dismiss"].isVisible() is confirm
    assert queue.detail.buttons["ack"].isVisible()  # every role that sees alerts may acknowledge
    assert win.buttons["Arm"].isVisible() is arm
    assert win.buttons["Take off"].isVisible() is arm
    qtbot.keyClick(queue.views[0], Qt.Key.Key_C)
    assert (store.get(one).state == AlertState.CONFIRMED) is confirm  # no button, no shortcut


def test_a_big_store_restores_in_one_reset_newest_first_and_bounded(qtbot, qtmodeltester, store, data) -> None:  # type: ignore[no-untyped-def]
    from console.alerts_dock import AlertsModel

    ids = [add_alert(store, data, n, snapshot=n % 10 == 0) for n in range(1, 131)]
    source = StoreAlerts(store, data)
    model = AlertsModel(source, max_rows=100)
    qtmodeltester.check(model)
    _, alerts = source.changes_since(0)
    added = model.upsert(alerts)
    assert [model.alert_at(r).id for r in range(model.rowCount())] == sorted(ids, reverse=True)[:100]
    assert len(added) == 100 and model.row_of(ids[0]) is None  # the oldest are left to the store
    newest = add_alert(store, data, 131)
    _, more = source.changes_since(max(a.version for a in alerts))
    assert [a.id for a in model.upsert(more)] == [newest]
    assert model.rowCount() == 100 and model.alert_at(0).id == newest and model.row_of(ids[30]) is None
