"""Qt start-up hygiene shared by every Qt entry point (the console, the demo, GUI tests).

``import cv2`` (opencv-python bundles Qt 5) sets ``QT_QPA_PLATFORM_PLUGIN_PATH`` and ``QT_QPA_FONTDIR``
to folders inside ``cv2/qt``. PySide6 6.12 tolerates that (it falls back to its own plugins), but
it logs font warnings, and a different OpenCV build could ship an incompatible plugin there. We
therefore drop those two variables before the first ``QApplication`` is created, in whichever
order cv2 and Qt were imported. Without a display we fall back to ``offscreen``, which is what the
tests use; a real desktop keeps ``xcb``/``wayland``.
"""

from __future__ import annotations

import os

_CV2_QT_VARS = ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")


def has_display(environ: dict[str, str] | None = None) -> bool:
    """True when a window can be seen: X11/Wayland, or a Qt platform chosen explicitly by the user."""
    env = os.environ if environ is None else environ
    return bool(
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM", "") not in ("", "offscreen")
    )


def sanitize_qt_env(environ: dict[str, str] | None = None) -> list[str]:
    """Remove cv2's Qt 5 plugin/font paths; return the names removed."""
    env = os.environ if environ is None else environ
    removed = []
    for var in _CV2_QT_VARS:
        value = env.get(var, "")
        if value and f"{os.sep}cv2{os.sep}" in value:
            del env[var]
            removed.append(var)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return removed
