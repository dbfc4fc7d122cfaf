"""Start the console: ``run(services)`` creates the QApplication and the main window.

``screenshot`` + ``quit_after_s`` let scripts (and the docs) capture a real window under Xvfb.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from console.errors import ConsoleError
from console.qtenv import has_display, sanitize_qt_env
from console.services import ConsoleServices

if TYPE_CHECKING:
    from console.main_window import MainWindow
    from dispatch.roles import Actor

log = logging.getLogger(__name__)


def check_display(quit_after_s: float | None) -> None:
    """An interactive console needs a screen; scripted runs (``quit_after_s``) may run offscreen."""
    if quit_after_s is None and not has_display():
        raise ConsoleError(
            "no display (DISPLAY is not set): run it in a desktop session, or headless with "
            "`xvfb-run -a lookout demo --quit-after 60 --screenshot demo.png`"
        )


def run(
    services: ConsoleServices,
    *,
    quit_after_s: float | None = None,
    screenshot: Path | None = None,
    on_login: Callable[[Actor], None] | None = None,
    on_window: Callable[[MainWindow], None] | None = None,
) -> int:
    """Ask who is working (``console.login``: no users -> local admin), then open the window as them.

    ``on_login(actor)`` lets the caller act as that user elsewhere (e.g. audit flight commands as them);
    ``on_window(window)`` runs once the window is shown (scripted tours, e.g. ``scripts/screenshots``).
    Returns 1 when the login is cancelled.
    """
    check_display(quit_after_s)
    sanitize_qt_env()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from console.login import choose_actor
    from console.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    app.setApplicationName("Lookout")
    actor = choose_actor(services.users, services.actor)
    if actor is None:
        log.warning("login cancelled; the console did not open")
        return 1
    services.actor = actor
    if on_login is not None:
        on_login(actor)
    window = MainWindow(services, actor=actor)
    window.show()
    if on_window is not None:
        on_window(window)
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
