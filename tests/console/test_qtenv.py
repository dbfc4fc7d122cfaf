"""PySide6 windows work after ``import cv2`` (opencv-python bundles its own Qt 5)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from console.qtenv import sanitize_qt_env


def test_sanitize_drops_only_cv2_paths() -> None:
    env = {
        "QT_QPA_PLATFORM_PLUGIN_PATH": "/venv/lib/python3.11/site-packages/cv2/qt/plugins",
        "QT_QPA_FONTDIR": "/usr/share/fonts",
        "DISPLAY": ":99",
    }
    assert sanitize_qt_env(env) == ["QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert env == {"QT_QPA_FONTDIR": "/usr/share/fonts", "DISPLAY": ":99"}


@pytest.mark.gui
def test_window_shows_a_cv2_image_after_cv2_import(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QImage, QPixmap
    from PySide6.QtWidgets import QLabel

    img = np.zeros((120, 160, 3), np.uint8)
    cv2.rectangle(img, (40, 30), (120, 90), (0, 0, 255), -1)  # BGR red
    rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    qimg = QImage(rgb.data, 160, 120, 160 * 3, QImage.Format.Format_RGB888).copy()
    label = QLabel()
    label.setPixmap(QPixmap.fromImage(qimg))
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    grabbed = label.grab().toImage()
    assert grabbed.pixelColor(80, 60).red() == 255 and grabbed.pixelColor(80, 60).blue() == 0
    assert grabbed.pixelColor(5, 5).red() == 0


@pytest.mark.gui
def test_qt_bindings_keep_none_refcount_balanced(qtbot) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0 dropped one reference to None per void call on Python 3.11: the console
    aborted ("none_dealloc") within seconds of a live map. Pinned away from it; this keeps it so."""
    import sys

    from PySide6.QtCore import QPointF
    from PySide6.QtWidgets import QGraphicsScene, QGraphicsSimpleTextItem

    scene = QGraphicsScene()
    item = QGraphicsSimpleTextItem("x")
    scene.addItem(item)
    before = sys.getrefcount(None)
    for _ in range(5000):
        item.setVisible(True)
        item.setPos(QPointF(1.0, 2.0))
    assert sys.getrefcount(None) - before > -100


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"QT_QPA_PLATFORM": "offscreen"}, False),
        ({"DISPLAY": ":0"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "vnc"}, True),
    ],
)
def test_has_display(env: dict[str, str], expected: bool) -> None:
    from console.qtenv import has_display

    assert has_display(env) is expected
