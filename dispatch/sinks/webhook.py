"""JSON webhook sink: an HTTP POST signed as Standard Webhooks specifies.

Headers: ``webhook-id`` (the message id: the same on every retry, so the receiver de-duplicates),
``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature`` =
``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")). The key is the secret's bytes; a
``whsec_`` secret is base64-decoded first (the spec's form); ``env:VAR`` reads the variable.

Body (UTF-8 JSON, Frigate's event shape): ``{"type": "new"|"update"|"end"|"test", "id", "seq",
"sent_by", "created_utc", "before": {...}|null, "after": {alert..., "response": {...}},
"attachments": [...]}``. Evidence entries get a ``url`` when ``evidence_base_url`` is set; files up
to ``attach_max_bytes`` (in total) ride along base64-encoded in ``attachments``.

TLS certificates are verified (the system store); plain ``http://`` works and is warned about once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dispatch.config import SinkConfig, resolve_secret
from dispatch.errors import DeliveryError
from dispatch.outbox import OutboxMessage
from dispatch.sinks.base import evidence_file

log = logging.getLogger(__name__)

USER_AGENT = "Lookout-dispatch/1"


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks ``webhook-signature`` value for one message."""
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def verify(key: bytes, headers: Mapping[str, str], body: bytes, *, tolerance_s: float = 300.0) -> str:
    """Check a received webhook; returns its ``webhook-id``. Raises ``ValueError`` saying why not.

    For receivers (the demo desk, tests): any of the space-separated ``v1,`` signatures may match;
    the timestamp must be within ``tolerance_s`` of now (replay protection).
    """
    low = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, ts, sigs = low["webhook-id"], low["webhook-timestamp"], low["webhook-signature"]
    except KeyError as exc:
        raise ValueError(f"missing header {exc.args[0]}") from None
    if abs(time.time() - int(ts)) > tolerance_s:
        raise ValueError(f"webhook-timestamp {ts} is more than {tolerance_s:g} s from now")
    want = sign(key, msg_id, int(ts), body)
    if not any(hmac.compare_digest(want, s) for s in sigs.split()):
        raise ValueError("webhook-signature does not match (wrong secret or altered body)")
    return msg_id


def webhook_body(msg: OutboxMessage, cfg: SinkConfig, data_dir: Path) -> dict[str, Any]:
    p = msg.payload
    after = p.get("after")
    body: dict[str, Any] = {k: p.get(k) for k in ("type", "id", "seq", "sent_by", "created_utc", "before", "after")}
    if not isinstance(after, dict) or not after.get("evidence"):
        return body
    base = (cfg.evidence_base_url or "").rstrip("/")
    evidence, attachments, budget = [], [], cfg.attach_max_bytes or 0
    for ref in after["evidence"]:
        ref = dict(ref)
        if base and not ref.get("removed"):
            ref["url"] = f"{base}/{ref['path']}"
        evidence.append(ref)
        size = int(ref.get("size_bytes", 0))
        if budget and size <= budget and (path := evidence_file(data_dir, ref)) is not None:
            data = path.read_bytes()
            attachments.append({
                "path": ref["path"], "mime": ref.get("mime"), "sha256": ref.get("sha256"),
                "size_bytes": len(data), "data_base64": base64.b64encode(data).decode("ascii"),
            })  # fmt: skip
            budget -= len(data)
    body["after"] = {**after, "evidence": evidence}
    if attachments:
        body["attachments"] = attachments
    return body


class WebhookSink:
    """POSTs each message as signed JSON to ``url`` (one keep-alive connection, used by one sender thread)."""

    def __init__(self, name: str, cfg: SinkConfig, data_dir: Path) -> None:
        if cfg.url is None:
            raise ValueError("webhook sink without url")  # the config model already refuses this
        self.name = name
        self.cfg = cfg
        self.data_dir = Path(data_dir)
        self.key = resolve_secret(cfg.secret, f"dispatch.sinks.{name}.secret")
        self._url = urlsplit(cfg.url)
        self._target = (self._url.path or "/") + (f"?{self._url.query}" if self._url.query else "")
        self._conn: http.client.HTTPConnection | None = None
        if self._url.scheme == "http":
            log.warning("sink %s: %s is plain http (not encrypted); use it only on this machine or a trusted LAN",
                        name, cfg.url)  # fmt: skip
        if self.key is None:
            log.warning("sink %s: no secret; messages go unsigned (set dispatch.sinks.%s.secret)", name, name)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            host, port = self._url.hostname or "", self._url.port
            if self._url.scheme == "https":
                ctx = ssl.create_default_context()  # certificate and host name checked
                self._conn = http.client.HTTPSConnection(host, port, timeout=self.cfg.timeout_s, context=ctx)
            else:
                self._conn = http.client.HTTPConnection(host, port, timeout=self.cfg.timeout_s)
        return self._conn

    def headers_for(self, msg_id: str, body: bytes) -> dict[str, str]:
        ts = int(time.time())
        headers = {"content-type": "application/json", "user-agent": USER_AGENT,
                   "webhook-id": msg_id, "webhook-timestamp": str(ts)}  # fmt: skip
        if self.key is not None:
            headers["webhook-signature"] = sign(self.key, msg_id, ts, body)
        return headers

    def deliver(self, msg: OutboxMessage) -> None:
        body = json.dumps(webhook_body(msg, self.cfg, self.data_dir), ensure_ascii=False, separators=(",", ":"))
        self.post(msg.msg_id, body.encode("utf-8"))

    def post(self, msg_id: str, body: bytes, content_type: str = "application/json") -> None:
        """One signed POST; raises ``DeliveryError`` with one line saying what happened."""
        headers = self.headers_for(msg_id, body)
        headers["content-type"] = content_type
        for reuse in (True, False):
            conn = self._connection()
            try:
                conn.request("POST", self._target, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read(65536)
                status, reason = resp.status, resp.reason
                if resp.will_close:
                    self._drop()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop()
                if reuse:
                    continue  # a kept-alive connection the server closed: once more on a new one
                raise DeliveryError(f"sink {self.name}: {self.cfg.url} closed the connection ({exc})",
                                    sink_down=True) from None  # fmt: skip
            except ssl.SSLCertVerificationError as exc:
                self._drop()
                why = f"TLS certificate of {self.cfg.url} not trusted ({exc.verify_message}); fix the receiver's"
                raise DeliveryError(f"sink {self.name}: {why}", sink_down=True) from None
            except TimeoutError:
                self._drop()
                raise DeliveryError(f"sink {self.name}: {self.cfg.url} did not answer within "
                                    f"{self.cfg.timeout_s:g} s", sink_down=True) from None  # fmt: skip
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                why = f"cannot reach {self.cfg.url} ({getattr(exc, 'strerror', None) or exc}); is the receiver running?"
                raise DeliveryError(f"sink {self.name}: {why}", sink_down=True) from None
        if 200 <= status < 300:
            return
        if status in (401, 403):
            raise DeliveryError(f"sink {self.name}: {self.cfg.url} refused the message (HTTP {status} {reason}); "
                                f"check that dispatch.sinks.{self.name}.secret matches the receiver's",
                                permanent=True)  # fmt: skip
        if status in (408, 425, 429) or status >= 500:
            raise DeliveryError(f"sink {self.name}: {self.cfg.url} answered HTTP {status} {reason}; will retry")
        raise DeliveryError(f"sink {self.name}: {self.cfg.url} answered HTTP {status} {reason}; "
                            "not retried (fix the receiver or the url, then retry the dead letter)",
                            permanent=True)  # fmt: skip

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        self._drop()
