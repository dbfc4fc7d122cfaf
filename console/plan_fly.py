"""The plan view's Fly box: Upload (with progress), Start, Pause, Resume for the checked drones.

Each call goes to ``console.services.MissionActions`` (``lookout.wiring.FleetActions``) on a
``QThreadPool`` worker, one drone after the other; results come back by signal to the status line.
The box never decides whether a plan may be uploaded: the plan view tells it (``set_state``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QProgressBar, QPushButton

from missions.types import Plan

log = logging.getLogger(__name__)


class _Signals(QObject):
    progress = Signal(int, int, int)  # sysid, done, total (done -1: that drone has the whole plan)
    done = Signal(str)
    failed = Signal(str)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        self.fn()


class FlyBox(QGroupBox):
    upload_requested = Signal()
    uploaded = Signal(int)  # sysid
    message = Signal(str)

    def __init__(self, actions: Any) -> None:
        super().__init__("Fly")
        self.actions = actions
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one command at a time, in the order given
        self.signals = _Signals(self)
        self.signals.progress.connect(self._progress)
        self.signals.done.connect(self.say)
        self.signals.failed.connect(self.fail)
        g = QGridLayout(self)
        self.buttons: dict[str, QPushButton] = {}
        self._targets: list[int] = []
        slots = (("Upload", self.upload_requested.emit), ("Start", lambda: self.each("start", "start_mission")),
                 ("Pause", lambda: self.each("pause", "pause_mission")),
                 ("Resume", lambda: self.each("resume", "resume_mission")))  # fmt: skip
        for n, (name, slot) in enumerate(slots):
            b = QPushButton(name)
            b.clicked.connect(slot)
            self.buttons[name] = b
            g.addWidget(b, 0, n)
        self.buttons["Pause"].setToolTip("hold position (BRAKE); Resume continues the mission (AUTO)")
        self.progress = QProgressBar()
        self.progress.setFormat("not uploaded")
        self.progress.setValue(0)
        g.addWidget(self.progress, 1, 0, 1, 4)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        g.addWidget(self.status, 2, 0, 1, 4)

    def allow(self, upload: bool, fly: bool) -> None:
        """Show only what the logged-in role may do (the flight commands refuse the rest anyway)."""
        self.buttons["Upload"].setVisible(upload)
        for name in ("Start", "Pause", "Resume"):
            self.buttons[name].setVisible(fly)

    def set_state(self, blocked: str, targets: Sequence[int], show: bool) -> None:
        """``blocked``: why Upload is disabled ("" = enabled); ``targets``: the checked drones."""
        self._targets = list(targets)
        up = self.buttons["Upload"]
        up.setEnabled(not blocked)
        up.setToolTip(blocked or f"upload to {', '.join(f'#{s}' for s in targets)}")
        flyable = self.actions is not None and bool(targets) and hasattr(self.actions, "start_mission")
        for name in ("Start", "Pause", "Resume"):
            self.buttons[name].setEnabled(flyable)
        if blocked and show:
            self.status.setText(f"Upload blocked: {blocked}")
        elif not blocked:
            self.status.setText("Ready to upload.")

    def upload(self, plan: Plan, targets: Sequence[int]) -> None:
        actions, ids, sig = self.actions, list(targets), self.signals
        total = len(plan.mission.items) + len(plan.fence) + len(plan.rally)
        self.progress.setRange(0, total)
        self.progress.setFormat("%v/%m items")
        self.progress.setValue(0)
        self.say(f"uploading {total} items to {', '.join(f'#{s}' for s in ids)}…")

        def work() -> None:
            for sysid in ids:
                try:
                    actions.upload_plan(sysid, plan, lambda d, t, s=sysid: sig.progress.emit(s, d, t))
                except Exception as exc:  # every failure is shown, per drone; the others still get the plan
                    sig.failed.emit(f"#{sysid} upload: {exc}")
                    continue
                sig.done.emit(f"#{sysid}: plan uploaded ({total} items)")
                sig.progress.emit(sysid, -1, total)

        self.pool.start(_Job(work))

    def each(self, label: str, method: str) -> None:
        actions, ids, sig = self.actions, list(self._targets), self.signals
        if actions is None or not ids:
            return
        self.say(f"{label} {', '.join(f'#{s}' for s in ids)}…")

        def work() -> None:
            for sysid in ids:
                try:
                    getattr(actions, method)(sysid)
                except Exception as exc:  # shown to the pilot, per drone
                    sig.failed.emit(f"#{sysid} {label}: {exc}")
                else:
                    sig.done.emit(f"#{sysid} {label}: done")

        self.pool.start(_Job(work))

    def _progress(self, sysid: int, done: int, total: int) -> None:
        if done < 0:
            self.uploaded.emit(sysid)
            return
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    def fail(self, text: str) -> None:
        log.warning("%s", text)
        self.status.setText(f"<span style='color:#d32f2f'>{text}</span>")
        self.message.emit(text)

    def shutdown(self) -> None:
        self.pool.waitForDone(5000)
