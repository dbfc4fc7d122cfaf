"""``lookout users add NAME --role R | list | remove NAME``: who may use Lookout (``<data>/users.json``).

With no users, Lookout runs as one local admin. The first user must be an admin; once a user
exists, every action needs one (``--user NAME``, password from ``LOOKOUT_PASSWORD`` or a prompt)
and only an admin manages users. The new user's password comes from ``LOOKOUT_NEW_PASSWORD``, else
(for the first user, when nobody has to log in) ``LOOKOUT_PASSWORD``, else a prompt asked twice.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from dispatch.errors import AuthError, UserError
from dispatch.roles import Role
from dispatch.users import UserDirectory
from lookout.access import PASSWORD_ENV, authorize, resolve_actor, users_path
from lookout.commands.alerts import add_user_option
from lookout.context import Context

NEW_PASSWORD_ENV = "LOOKOUT_NEW_PASSWORD"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="add, list, remove users and their roles",
                       description=(__doc__ or "").replace("``", ""),
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add_user_option(p, top=True)
    acts = p.add_subparsers(dest="users_action", metavar="ACTION", required=True)
    add = acts.add_parser("add", help="add a user with a role")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role], help="what the user may do")
    acts.add_parser("list", help="users and roles (never passwords)")
    rm = acts.add_parser("remove", help="remove a user")
    rm.add_argument("name")
    for a in acts.choices.values():
        add_user_option(a)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    directory = UserDirectory(users_path(ctx.data_dir))
    first = directory.is_empty()
    audit = ctx.audit().append
    actor = resolve_actor(ctx.data_dir, getattr(args, "user", None), audit=audit)
    authorize(actor, "users.manage", audit, f"users {args.users_action}")
    if args.users_action == "list":
        if first:
            print(f"no users in {directory.path}: everyone acts as the local admin")
        for u in directory.list():
            print(f"{u.name:<24} {u.role:<11} added {u.created_utc}")
        return 0
    if args.users_action == "add":
        password = _new_password(args.name, first)
        user = directory.add(args.name, args.role, password)
        audit(actor.name, "users.add", f"user {user.name}", role=str(user.role))
        print(f"user {user.name} added as {user.role} in {directory.path}")
        if first:
            print("users are set up now: every lookout action needs --user NAME and its password")
        return 0
    directory.remove(args.name)
    audit(actor.name, "users.remove", f"user {args.name}")
    print(f"user {args.name} removed from {directory.path}")
    if directory.is_empty():
        print("no users left: everyone acts as the local admin again")
    return 0


def _new_password(name: str, first: bool) -> str:
    value = os.environ.get(NEW_PASSWORD_ENV)
    if value is None and first:
        value = os.environ.get(PASSWORD_ENV)
    if value is not None:
        return value
    if not (sys.stdin is not None and sys.stdin.isatty()):
        raise AuthError(
            f"new password for {name}: set {NEW_PASSWORD_ENV} (or {PASSWORD_ENV} for the first user) or run in a "
            "terminal to be asked; nothing was done"
        )
    one = getpass.getpass(f"New password for {name}: ")
    if one != getpass.getpass(f"Repeat the password for {name}: "):
        raise UserError(f"new password for {name}: the two entries differ; nothing was done")
    return one
