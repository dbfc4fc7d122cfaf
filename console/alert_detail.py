"""One alert opened: its snapshot, its clip, what/where/when, its history, and the operator's decision.

The panel shows a domain ``dispatch.types.Alert``; decisions leave as signals (``acknowledge``,
``confirm``, ``dismiss(reason)``) that the queue turns into store calls. Dismissing needs a reason,
asked by ``DismissDialog``. Buttons the logged-in role may not use are hidden, not just disabled.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from console.clip_player import ClipPlayer
from console.events import kind_text

if TYPE_CHECKING:
    from dispatch.types import Alert, EvidenceRef

log = logging.getLogger(__name__)
DISMISS_REASONS = (
    "False alarm: nobody there",
    "False alarm: authorised person",
    "Duplicate of another alert",
    "Not a police matter",
)
SEVERITY_CSS = {"high": "#c62828", "medium": "#ef6c00", "low": "#546e7a"}


def evidence_of(alert: Alert, kind: str) -> EvidenceRef | None:
    """The newest evidence of ``kind`` ("snapshot" | "clip") of ``alert`` still on disk."""
    return alert.snapshot if kind == "snapshot" else alert.clip if kind == "clip" else None


def local_path(evidence_path: Callable[[EvidenceRef], Path], ref: EvidenceRef | None) -> Path | None:
    """The file of ``ref`` on this machine, or None (no ref, or a path the source refuses)."""
    if ref is None:
        return None
    try:
        return evidence_path(ref)
    except Exception as exc:  # a refused path (outside the data dir) shows as missing evidence
        log.warning("evidence %s: %s", ref.path, exc)
        return None


class DismissDialog(QDialog):
    """Asks why an alert is dismissed; OK stays disabled until there is a reason."""

    def __init__(self, alert: Alert, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Dismiss alert #{alert.id}")
        self.alert_id = alert.id
        self.reason_box = QComboBox()
        self.reason_box.setEditable(True)
        self.reason_box.addItems(("", *DISMISS_REASONS))
        self.reason_box.setCurrentIndex(0)
        self.reason_box.lineEdit().setPlaceholderText("Why is this not an incident? (choose or type)")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Dismiss")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason_box.currentTextChanged.connect(self._check)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Dismiss alert #{alert.id}: {kind_text(alert.kind)} on {alert.feed}. Reason:"))
        lay.addWidget(self.reason_box)
        lay.addWidget(self.buttons)
        self._check()

    def reason(self) -> str:
        return self.reason_box.currentText().strip()

    def set_reason(self, text: str) -> None:
        self.reason_box.setEditText(text)

    def _check(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.reason()))


class AlertDetail(QWidget):
    acknowledge_requested = Signal(int)
    confirm_requested = Signal(int)
    dismiss_requested = Signal(int)

    def __init__(self, evidence_path: Callable[[EvidenceRef], Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._evidence_path = evidence_path
        self.alert: Alert | None = None
        self.title = QLabel("Select an alert to see its evidence")
        self.title.setWordWrap(True)
        self.snapshot = QLabel("No snapshot")
        self.snapshot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.snapshot.setMinimumSize(160, 90)
        self.snapshot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.snapshot.setStyleSheet("background: #111; color: #bbb")
        self.clip = ClipPlayer()
        media = QHBoxLayout()
        media.setContentsMargins(0, 0, 0, 0)
        media.addWidget(self.snapshot, 1)
        media.addWidget(self.clip, 1)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for key, text, tip, signal in (
            ("ack", "Acknowledge (A)", "I have seen it and am looking (shortcut A)", self.acknowledge_requested),
            ("confirm", "Confirm (C)", "It is a real incident (shortcut C)", self.confirm_requested),
            ("dismiss", "Dismiss… (D)", "Not an incident: asks for a reason (shortcut D)", self.dismiss_requested),
        ):
            btn = QPushButton(text)
            btn.setToolTip(tip)
            btn.setEnabled(False)
            btn.clicked.connect(lambda _=False, s=signal: self.alert is not None and s.emit(self.alert.id))
            self.buttons[key] = btn
            row.addWidget(btn)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.title)
        lay.addLayout(media, 3)
        lay.addWidget(self.info, 2)
        lay.addLayout(row)
        self._snapshot_pix: QPixmap | None = None

    def allow(self, action: str, allowed: bool) -> None:
        """Show or hide the button of ``action`` ("ack" | "confirm" | "dismiss") for the logged-in role."""
        self.buttons[action].setVisible(allowed)

    def show_alert(self, alert: Alert | None) -> None:
        self.alert = alert
        if alert is None:
            self.title.setText("Select an alert to see its evidence")
            self.info.setText("")
            self.snapshot.clear()
            self.snapshot.setText("No snapshot")
            self._snapshot_pix = None
            self.clip.load(None, placeholder="No clip")
            for btn in self.buttons.values():
                btn.setEnabled(False)
            return
        colour = SEVERITY_CSS.get(alert.severity, "#000")
        self.title.setText(
            f"<b style='color:{colour}'>#{alert.id} {html.escape(kind_text(alert.kind))}</b> "
            f"({html.escape(alert.severity)}) on <b>{html.escape(alert.feed)}</b>: {alert.state.value.upper()}"
        )
        self._show_snapshot(alert)
        clip = evidence_of(alert, "clip")
        self.clip.load(local_path(self._evidence_path, clip), placeholder="Clip is being recorded…")
        self.info.setText(_info_html(alert))
        state = alert.state.value
        self.buttons["ack"].setEnabled(state == "new")
        self.buttons["confirm"].setEnabled(state in ("new", "acknowledged"))
        self.buttons["dismiss"].setEnabled(state in ("new", "acknowledged"))

    def _show_snapshot(self, alert: Alert) -> None:
        ref = evidence_of(alert, "snapshot")
        path = local_path(self._evidence_path, ref)
        pix = QPixmap(str(path)) if path is not None and path.is_file() else QPixmap()
        self._snapshot_pix = None if pix.isNull() else pix
        if self._snapshot_pix is None:
            self.snapshot.clear()
            self.snapshot.setText("No snapshot" if ref is None else f"Snapshot missing: {ref.path}")
        else:
            self._fit_snapshot()

    def has_snapshot(self) -> bool:
        return self._snapshot_pix is not None

    def _fit_snapshot(self) -> None:
        if self._snapshot_pix is not None:
            self.snapshot.setPixmap(self._snapshot_pix.scaled(
                self.snapshot.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            ))  # fmt: skip

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # Qt's signature
        super().resizeEvent(event)
        self._fit_snapshot()


def _info_html(alert: Alert) -> str:
    span = f"{alert.t_start_utc:%Y-%m-%d %H:%M:%S}–{alert.t_end_utc:%H:%M:%S} UTC"
    if alert.position is not None:
        p = alert.position
        where = f"{p.lat_deg:.6f}, {p.lon_deg:.6f} (± {p.accuracy_m:.0f} m)"
    else:
        where = "no position (the camera has no reference points or pose)"
    lines = [
        html.escape(alert.summary),
        f"<b>When:</b> {span}" + (f" · seen {alert.count}×" if alert.count > 1 else ""),
        f"<b>Where:</b> {where}" + (f" · zone {html.escape(alert.zone)}" if alert.zone else ""),
        f"<b>Tracks:</b> {', '.join(str(t) for t in alert.track_ids) or '–'}",
    ]
    for ref in alert.evidence:
        gone = " (removed by retention)" if ref.removed else ""
        lines.append(f"<b>{html.escape(ref.kind)}:</b> {html.escape(ref.path)}{gone} · sha256 {ref.sha256[:12]}…")
    for t in alert.history[-4:]:
        note = f": {html.escape(t.note)}" if t.note else ""
        lines.append(f"{t.t_utc:%H:%M:%S} {html.escape(t.user)} {t.from_state} → {t.to_state}{note}")
    return "<br>".join(lines)
