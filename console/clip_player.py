"""A small evidence clip player: OpenCV decodes, a ``QTimer`` paces, a ``QLabel`` shows.

QtMultimedia needs a media backend that is often missing on offscreen and minimal systems; the
clips are short (about 10 s of a 640 px feed), so decoding one frame per tick on the GUI thread is
cheap (a few ms) and works everywhere OpenCV reads the file. The clip loops until stopped.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from console.mapview import bgr_to_qimage

log = logging.getLogger(__name__)


class ClipPlayer(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.screen = QLabel("No clip yet")
        self.screen.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.screen.setMinimumSize(160, 90)
        self.screen.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.screen.setStyleSheet("background: #111; color: #bbb")
        self.play_button = QPushButton("Pause")
        self.play_button.setEnabled(False)
        self.play_button.clicked.connect(self.toggle)
        self.position = QLabel("")
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.play_button)
        controls.addWidget(self.position, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.screen, 1)
        lay.addLayout(controls)
        self._cap: cv2.VideoCapture | None = None
        self._path: Path | None = None
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.frames_shown = 0
        self.frame_count = 0

    @property
    def path(self) -> Path | None:
        return self._path

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def load(self, path: Path | None, *, placeholder: str = "No clip yet") -> bool:
        """Play ``path`` from the start (looping); None or an unreadable file shows ``placeholder``."""
        if path is not None and path == self._path and self._cap is not None:
            return True
        self.stop()
        if path is None or not path.is_file():
            self.screen.setText(placeholder)
            return False
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            cap.release()
            self.screen.setText(f"Cannot play {path.name} (OpenCV could not open it)")
            log.warning("clip %s: OpenCV could not open it", path)
            return False
        self._cap, self._path = cap, path
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.frames_shown = 0
        self._timer.start(int(1000 / (fps if 1 <= fps <= 60 else 10)))
        self.play_button.setEnabled(True)
        self.play_button.setText("Pause")
        self._tick()
        return True

    def toggle(self) -> None:
        if self._cap is None:
            return
        if self._timer.isActive():
            self._timer.stop()
            self.play_button.setText("Play")
        else:
            self._timer.start()
            self.play_button.setText("Pause")

    def stop(self) -> None:
        self._timer.stop()
        if self._cap is not None:
            self._cap.release()
        self._cap, self._path = None, None
        self.play_button.setEnabled(False)
        self.position.setText("")

    def _tick(self) -> None:
        cap = self._cap
        if cap is None:
            return
        ok, frame = cap.read()
        if not ok:  # end of the clip: loop
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = cap.read()
            if not ok:
                self.stop()
                self.screen.setText("The clip has no readable frames")
                return
        self.frames_shown += 1
        pos = int(cap.get(cv2.CAP_PROP_POS_FRAMES))
        self.position.setText(f"frame {pos}/{self.frame_count}" if self.frame_count else f"frame {pos}")
        pix = QPixmap.fromImage(bgr_to_qimage(frame))
        self.screen.setPixmap(
            pix.scaled(self.screen.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
        )
