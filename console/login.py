"""Who is working: the login dialog, shown when users are set up (``lookout users add``).

With no users the console runs as the local admin (``Actor.local_admin()``, as Frigate does with auth
off); a caller that already knows the actor (the demo's admin) skips the dialog. A wrong name or
password keeps the dialog open with one clear line; nothing else changes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from console.services import UserSource

if TYPE_CHECKING:
    from dispatch.roles import Actor

log = logging.getLogger(__name__)


class LoginDialog(QDialog):
    def __init__(self, users: UserSource, parent: QWidget | None = None, title: str = "Lookout") -> None:
        super().__init__(parent)
        self.users = users
        self.actor: Actor | None = None
        self.attempts = 0
        self.setWindowTitle(f"{title}: who is working?")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("user name")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText("password")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d32f2f; font-weight: bold")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Log in")
        self.buttons.accepted.connect(self.try_login)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Password", self.password_edit)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Log in with your Lookout user (an admin adds users with `lookout users add`)."))
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)

    def try_login(self) -> bool:
        """Check the name and password; accept the dialog on success, say why not otherwise."""
        name = self.name_edit.text().strip()
        if not name:
            self.error.setText("Enter your user name.")
            return False
        self.attempts += 1
        try:
            actor = self.users.authenticate(name, self.password_edit.text())
        except Exception as exc:  # DispatchError's clear line (wrong password, unknown user, broken file)
            log.info("login refused for %r: %s", name, exc)
            self.error.setText(f"Login refused: {exc}")
            self.password_edit.clear()
            self.password_edit.setFocus()
            return False
        self.actor = actor
        self.error.setText("")
        self.accept()
        return True


def choose_actor(users: UserSource | None, known: Actor | None, parent: QWidget | None = None) -> Actor | None:
    """The actor the console works as: ``known``; else the login dialog when users exist; else the local
    admin. None when the user cancelled the login."""
    from dispatch.roles import Actor

    if known is not None:
        return known
    if users is None or users.is_empty():
        return Actor.local_admin()
    dialog = LoginDialog(users, parent)
    return dialog.actor if dialog.exec() == QDialog.DialogCode.Accepted else None
