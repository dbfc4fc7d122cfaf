"""MAVLink2 message signing, per link.

The key comes from ``LinkConfig.signing_key``: 64 hex characters (the 32-byte secret), or
``env:VAR`` to read those 64 hex characters from the environment. With signing on, the link signs
everything it sends and drops incoming frames without a valid signature (counted as
``LinkStats.bad_signature``); only RADIO_STATUS from a local radio is accepted unsigned, like
ArduPilot does.
"""

from __future__ import annotations

import os
import re
from typing import Any

from flight._mav import mavlink
from flight.errors import SigningKeyError

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_ALLOWED_UNSIGNED = frozenset({mavlink.MAVLINK_MSG_ID_RADIO_STATUS})


def resolve_key(spec: str) -> bytes:
    """``"env:VAR"`` or 64 hex characters -> the 32-byte secret key."""
    text = spec.strip()
    if text.startswith("env:"):
        var = text[4:]
        if not var:
            raise SigningKeyError("'env:' needs a variable name")
        value = os.environ.get(var)
        if value is None:
            raise SigningKeyError(f"environment variable {var} is not set")
        text = value.strip()
    if not _HEX64.fullmatch(text):
        raise SigningKeyError(f"expected 64 hex characters, got {len(text)} characters")
    return bytes.fromhex(text)


def _allow_unsigned(mav: Any, msg_id: int) -> bool:
    return msg_id in _ALLOWED_UNSIGNED


def enable_signing(conn: Any, key: bytes, link_id: int = 0) -> None:
    """Sign outgoing frames of pymavlink connection ``conn`` and require signatures on incoming ones."""
    if len(key) != 32:
        raise SigningKeyError(f"key must be 32 bytes, got {len(key)}")
    conn.setup_signing(key, sign_outgoing=True, allow_unsigned_callback=_allow_unsigned, link_id=link_id)


def setup_signing_message(target_system: int, target_component: int, key: bytes,
                          initial_timestamp: int | None = None) -> Any:
    """SETUP_SIGNING carrying ``key`` and a MAVLink signing timestamp (10 µs units since 2015-01-01).

    ArduPilot stores the key and from then on ignores unsigned frames on every link except its
    first serial port (channel 0: USB on boards, TCP 5760 on SITL), and RADIO_STATUS.
    """
    if len(key) != 32:
        raise SigningKeyError(f"key must be 32 bytes, got {len(key)}")
    if initial_timestamp is None:
        import time

        initial_timestamp = int((time.time() - 1420070400) * 100_000)
    return mavlink.MAVLink_setup_signing_message(target_system, target_component, key, initial_timestamp)


def setup_signing(link: Any, key: str | bytes, sysid: int | None = None) -> None:
    """Give the vehicle a signing key with SETUP_SIGNING (sent unsigned: it may have none yet), then
    sign ``link`` (a ``flight.Link``) from now on. ``key``: 64 hex characters, ``env:VAR`` or 32 bytes."""
    raw = resolve_key(key) if isinstance(key, str) else key
    sid = link.default_sysid() if sysid is None else sysid
    link.send(setup_signing_message(sid, link.target_compid(sid), raw))
    link.start_signing(raw)


def key_from_passphrase(passphrase: str) -> bytes:
    """MAVProxy's ``signing setup PASSPHRASE`` key: SHA-256 of the passphrase (for interop)."""
    import hashlib

    return hashlib.sha256(passphrase.encode("utf-8")).digest()
