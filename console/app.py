"""Start the console: ``run(services)`` creates the QApplication and the main window.

``screenshot`` + ``quit_after_s`` let scripts (and the docs) capture a real window under Xvfb.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path

from console.errors import ConsoleError
from console.qtenv import has_display, sanitize_qt_env
from console.services import ConsoleServices

log = logging.getLogger(__name__)


def check_display(quit_after_s: float | None) -> None:
    """An interactive console needs a screen; scripted runs (``quit_after_s``) may run offscreen."""
    if quit_after_s is None and not has_display():
        raise ConsoleError(
            "no display (DISPLAY is not set): run it in a desktop session, or headless with "
            "`xvfb-run -a lookout demo --quit-after 60 --screenshot demo.png`"
        )


def run(services: ConsoleServices, *, quit_after_s: float | None = None, screenshot: Path | None = None) -> int:
    check_display(quit_after_s)
    sanitize_qt_env()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from console.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Lookout")
    window = MainWindow(services)
    window.show()
    # Let Ctrl-C in the terminal close the window cleanly (Qt blocks Python's handler otherwise).
    signal.signal(signal.SIGINT, lambda *_: window.close())
    keepalive = QTimer()
    keepalive.timeout.connect(lambda: None)
    keepalive.start(250)
    if quit_after_s is not None:

        def finish() -> None:
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                window.grab().save(str(screenshot))
                log.info("screenshot saved to %s", screenshot)
            window.close()

        QTimer.singleShot(int(quit_after_s * 1000), finish)
    return int(app.exec())
