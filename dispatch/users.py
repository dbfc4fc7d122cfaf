"""``UserDirectory``: users, roles and password hashes in ``<data>/users.json``.

Passwords are never stored: each user has ``scrypt`` (n=2**14, r=8, p=1, 16-byte random salt) of
their password, compared in constant time. The file is rewritten whole to a temp name, fsynced,
then ``os.replace``d (readable by its owner only), so a crash leaves the old or the new directory,
never half of one. No file (or no users in it) means no users are set up: Lookout runs as the
local admin.

File format (``version`` 1)::

    {"version": 1, "users": {"ana": {"role": "admin", "hash": "scrypt$16384$8$1$<salt hex>$<hash hex>",
                                      "created_utc": "2026-..."}}}
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.errors import AuthError, UserError
from dispatch.roles import Actor, Role

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    created_utc: str


def hash_password(password: str, *, salt: bytes | None = None, n: int = _N, r: int = _R, p: int = _P) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Constant-time comparison of ``password`` against a ``hash_password`` string."""
    try:
        algo, n, r, p, salt_hex, digest_hex = stored.split("$")
        if algo != "scrypt":
            return False
        digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r),
                                p=int(p), maxmem=64 * 1024 * 1024, dklen=len(digest_hex) // 2)  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, bytes.fromhex(digest_hex))


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-password", salt=b"\0" * 16)


class UserDirectory:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    # ---- file --------------------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{self.path}: cannot read the user directory ({exc})") from None
        try:
            data = json.loads(text)
            users = data["users"]
            if not isinstance(users, dict) or data.get("version") != 1:
                raise ValueError("unexpected layout")
            for name, u in users.items():
                Role(u["role"])
                if not isinstance(name, str) or not isinstance(u["hash"], str):
                    raise ValueError(f"bad entry {name!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"{self.path}: not a Lookout user directory ({exc}); restore it from a backup or move it aside "
                "(with no users, Lookout runs as the local admin)"
            ) from None
        return users

    def _save(self, users: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"version": 1, "users": users}, indent=2, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".users.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # ---- API ---------------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self._load()

    def list(self) -> list[User]:
        return [User(name, Role(u["role"]), str(u.get("created_utc", ""))) for name, u in sorted(self._load().items())]

    def get(self, name: str) -> User | None:
        u = self._load().get(name)
        return None if u is None else User(name, Role(u["role"]), str(u.get("created_utc", "")))

    def add(self, name: str, role: Role | str, password: str) -> User:
        """Add a user (``UserError`` for a taken or malformed name, an unknown role, a short password)."""
        if not NAME_RE.match(name):
            raise UserError(f"user name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                            "or digit")  # fmt: skip
        try:
            role = Role(role)
        except ValueError:
            raise UserError(f"role {role!r}: must be one of {', '.join(r.value for r in Role)}") from None
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password for {name}: at least {MIN_PASSWORD} characters")
        users = self._load()
        if name in users:
            raise UserError(f"user {name} already exists in {self.path}; remove it first to change it")
        if not users and role != Role.ADMIN:
            raise UserError(
                f"the first user must be an admin (--role admin): once a user exists every action needs one, "
                f"and only an admin can add the others (asked for {name} as {role})"
            )
        created = datetime.now(UTC).isoformat(timespec="seconds")
        users[name] = {"role": str(role), "hash": hash_password(password), "created_utc": created}
        self._save(users)
        return User(name, role, created)

    def remove(self, name: str) -> None:
        users = self._load()
        if name not in users:
            raise UserError(f"no user {name} in {self.path}; `lookout users list` shows them")
        rest = {k: v for k, v in users.items() if k != name}
        if rest and not any(v["role"] == Role.ADMIN for v in rest.values()):
            raise UserError(f"{name} is the last admin; add another admin first (nobody could manage users)")
        self._save(rest)

    def authenticate(self, name: str, password: str) -> Actor:
        """The user's ``Actor``; ``AuthError`` (one line, same for unknown user and wrong password) otherwise."""
        u = self._load().get(name)
        ok = check_password(password, u["hash"] if u else _dummy_hash())  # same work for unknown names
        if u is None or not ok:
            raise AuthError(f"user {name}: unknown user or wrong password ({self.path}); nothing was done")
        return Actor(name, Role(u["role"]))
