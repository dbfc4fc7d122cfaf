"""The login dialog over a real ``dispatch.users.UserDirectory`` (users.json in tmp_path): the right
password logs in with the user's role, a wrong one is refused with a clear line and the dialog stays;
no users means the local admin without a dialog; a known actor (the demo's admin) skips it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from console.login import LoginDialog, choose_actor
from dispatch.roles import Actor, Role
from dispatch.users import UserDirectory

pytestmark = pytest.mark.gui


@pytest.fixture
def users(tmp_path: Path) -> UserDirectory:
    d = UserDirectory(tmp_path / "users.json")
    d.add("boss", Role.ADMIN, "admin-secret-1")
    d.add("ann", Role.OPERATOR, "correct horse")
    return d


def _login(qtbot, users: UserDirectory, name: str, password: str) -> LoginDialog:  # type: ignore[no-untyped-def]
    dialog = LoginDialog(users)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name_edit, name)
    qtbot.keyClicks(dialog.password_edit, password)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    return dialog


def test_the_right_password_logs_in_with_the_users_role(qtbot, users: UserDirectory) -> None:  # type: ignore[no-untyped-def]
    dialog = _login(qtbot, users, "ann", "correct horse")
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor == Actor("ann", Role.OPERATOR)
    assert dialog.error.text() == ""


@pytest.mark.parametrize(("name", "password"), [("ann", "wrong horse"), ("nobody", "correct horse"), ("ann", "")])
def test_a_wrong_password_is_refused_with_a_clear_line(qtbot, users: UserDirectory, name: str, password: str) -> None:  # type: ignore[no-untyped-def]
    dialog = _login(qtbot, users, name, password)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.actor is None
    assert "unknown user or wrong password" in dialog.error.text()
    assert dialog.password_edit.text() == ""  # typed again, never kept
    dialog.password_edit.setText("correct horse")
    dialog.name_edit.setText("ann")
    assert dialog.try_login() and dialog.actor == Actor("ann", Role.OPERATOR)


def test_an_empty_name_asks_for_it(qtbot, users: UserDirectory) -> None:  # type: ignore[no-untyped-def]
    dialog = _login(qtbot, users, "", "x")
    assert dialog.actor is None and "user name" in dialog.error.text() and dialog.attempts == 0


def test_no_users_means_the_local_admin_and_a_known_actor_skips_the_dialog(qtbot, tmp_path: Path,
                                                                           users: UserDirectory) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    empty = UserDirectory(tmp_path / "none" / "users.json")
    assert empty.is_empty()
    local = choose_actor(empty, None)
    assert local is not None and local.role == Role.ADMIN and local.name.startswith("local:")
    assert choose_actor(None, None) == local
    demo = Actor("demo-admin", Role.ADMIN)
    assert choose_actor(users, demo) is demo  # users exist, but the caller already knows who works


def test_with_users_the_console_asks_and_a_cancel_opens_nothing(qtbot, users: UserDirectory) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def answer(name: str, password: str) -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LoginDialog):  # not shown yet: try again shortly
            QTimer.singleShot(20, lambda: answer(name, password))
            return
        if not name:
            dialog.reject()
            return
        dialog.name_edit.setText(name)
        dialog.password_edit.setText(password)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(0, lambda: answer("ann", "correct horse"))
    assert choose_actor(users, None) == Actor("ann", Role.OPERATOR)
    QTimer.singleShot(0, lambda: answer("", ""))
    assert choose_actor(users, None) is None
