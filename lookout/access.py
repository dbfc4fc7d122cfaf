"""Who is working, and may they: the composition root's login and permission helpers.

``resolve_actor(data_dir, user, password_source)``: with no users set up (no ``<data>/users.json``)
everyone is the local admin; once a user exists, every action needs ``--user NAME`` (or
``LOOKOUT_USER``) and that user's password (``LOOKOUT_PASSWORD``, else a prompt when stdin is a
terminal). ``authorize(actor, action, audit, subject)`` refuses an action the role may not take,
auditing the refusal. The CLI commands and the console both use these two functions.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dispatch.errors import AuthError
from dispatch.roles import Actor, require
from dispatch.users import UserDirectory

PASSWORD_ENV = "LOOKOUT_PASSWORD"
USER_ENV = "LOOKOUT_USER"

PasswordSource = Callable[[str], str]


def users_path(data_dir: Path) -> Path:
    return Path(data_dir) / "users.json"


def env_or_prompt(prompt: str, env: str = PASSWORD_ENV) -> PasswordSource:
    """A password source: ``$env`` if set, else a hidden prompt on a terminal, else a clear ``AuthError``."""

    def source(name: str) -> str:
        value = os.environ.get(env)
        if value is not None:
            return value
        if sys.stdin is not None and sys.stdin.isatty():
            return getpass.getpass(prompt.format(name=name))
        raise AuthError(f"password for {name}: set {env} or run in a terminal to be asked; nothing was done")

    return source


def default_password_source() -> PasswordSource:
    return env_or_prompt("Password for {name}: ")


def resolve_actor(
    data_dir: Path,
    user: str | None,
    password_source: PasswordSource | None = None,
    *,
    audit: Callable[..., Any] | None = None,
) -> Actor:
    """The acting user (see the module docstring); ``AuthError`` with one line when it cannot be established.

    With ``audit``, a failed login (unknown user or wrong password) is audited as ``login.failed``.
    """
    directory = UserDirectory(users_path(data_dir))
    user = user or os.environ.get(USER_ENV) or None
    if directory.is_empty():
        if user:
            raise AuthError(
                f"--user {user}: no users are set up in {directory.path}; run without --user (you act as the "
                "local admin) or add users with `lookout users add NAME --role R`"
            )
        return Actor.local_admin()
    if not user:
        raise AuthError(
            f"users are set up in {directory.path}: say who you are with --user NAME (or {USER_ENV}); "
            f"the password comes from {PASSWORD_ENV} or a prompt"
        )
    source = password_source or default_password_source()
    password = source(user)
    try:
        return directory.authenticate(user, password)
    except AuthError:
        if audit is not None:
            audit(user, "login.failed", f"user {user}", users=str(directory.path))
        raise


def authorize(actor: Actor, action: str, audit: Callable[..., Any] | None, subject: str = "") -> None:
    """Refuse ``action`` unless ``actor``'s role may take it: the refusal is audited, then ``PermissionDenied``."""
    require(actor, action, audit, subject)
