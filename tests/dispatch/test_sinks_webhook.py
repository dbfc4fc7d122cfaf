"""The JSON webhook sink: Standard Webhooks signatures, evidence, TLS, bad input."""

from __future__ import annotations

import base64
import hashlib
import http.server
import logging
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from dispatch.config import SinkConfig, resolve_secret
from dispatch.errors import DeliveryError, SinkConfigError
from dispatch.outbox import OutboxMessage
from dispatch.sinks.webhook import WebhookSink, sign, verify, webhook_body
from tests.dispatch.webhook_receiver import Receiver, free_port

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    key = resolve_secret(SECRET, "x")
    assert key is not None
    got = sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert got == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize(
    ("value", "env", "expect"),
    [
        ("plain-secret", {}, b"plain-secret"),
        ("env:DESK_SECRET_T", {"DESK_SECRET_T": "from-env"}, b"from-env"),
        ("env:DESK_SECRET_T", {"DESK_SECRET_T": SECRET}, base64.b64decode(SECRET[6:])),
        ("env:DESK_SECRET_UNSET", {}, SinkConfigError("environment variable DESK_SECRET_UNSET is not set")),
        ("whsec_not*base64", {}, SinkConfigError("must be base64")),
        (None, {}, None),
    ],
)
def test_secret_forms(value: str | None, env: dict[str, str], expect: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    if isinstance(expect, Exception):
        with pytest.raises(SinkConfigError, match=str(expect)) as ei:
            resolve_secret(value, "dispatch.sinks.desk.secret")
        assert "dispatch.sinks.desk.secret" in str(ei.value)
    else:
        assert resolve_secret(value, "dispatch.sinks.desk.secret") == expect


def test_verify_rejects_tampering_and_replays() -> None:
    key = b"k"
    sink = WebhookSink("d", SinkConfig(type="webhook", url="http://127.0.0.1:9/", secret="k"), Path("."))
    h = sink.headers_for("msg_1", b"{}")
    assert verify(key, h, b"{}") == "msg_1"
    with pytest.raises(ValueError, match="does not match"):
        verify(key, h, b'{"x":1}')
    with pytest.raises(ValueError, match="does not match"):
        verify(b"other", h, b"{}")
    with pytest.raises(ValueError, match="more than"):
        verify(key, {**h, "webhook-timestamp": "1000"}, b"{}")
    with pytest.raises(ValueError, match="missing header"):
        verify(key, {"webhook-id": "x"}, b"{}")


def _msg(evidence: list[dict[str, Any]] | None = None) -> OutboxMessage:
    after = {"id": 3, "kind": "loitering", "state": "confirmed", "evidence": evidence or []}
    payload = {
        "type": "new", "id": "msg_a_alert-3_1_d", "seq": 1, "sent_by": "lookout",
        "created_utc": "2026-06-01T12:00:00+00:00", "before": None, "after": after, "references": [],
    }  # fmt: skip
    return OutboxMessage(1, "d", "alert:3", 3, 1, "new", payload["id"], payload, 0.0, "pending", 1, None)


def test_evidence_is_linked_and_attached_up_to_the_cap(tmp_path: Path) -> None:
    small, big = b"\xff\xd8jpeg" * 10, b"\x00" * 5000
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "s.jpg").write_bytes(small)
    (tmp_path / "ev" / "c.mp4").write_bytes(big)
    ev = [
        {"kind": "snapshot", "path": "ev/s.jpg", "sha256": hashlib.sha256(small).hexdigest(), "size_bytes": len(small),
         "mime": "image/jpeg", "removed": False},
        {"kind": "clip", "path": "ev/c.mp4", "sha256": hashlib.sha256(big).hexdigest(), "size_bytes": len(big),
         "mime": "video/mp4", "removed": False},
        {"kind": "clip", "path": "../../etc/passwd", "sha256": "0", "size_bytes": 10, "mime": "x", "removed": False},
    ]  # fmt: skip
    cfg = SinkConfig(type="webhook", url="https://desk.example/h", attach_max_bytes=1000,
                     evidence_base_url="https://lookout.example/evidence/")  # fmt: skip
    body = webhook_body(_msg(ev), cfg, tmp_path)
    assert [e["url"] for e in body["after"]["evidence"]][:2] == [
        "https://lookout.example/evidence/ev/s.jpg", "https://lookout.example/evidence/ev/c.mp4"]  # fmt: skip
    (att,) = body["attachments"]  # the clip is over the cap; the path outside the data dir is never read
    assert att["path"] == "ev/s.jpg" and base64.b64decode(att["data_base64"]) == small


def test_plain_http_is_allowed_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dispatch.sinks.webhook"):
        WebhookSink("lan", SinkConfig(type="webhook", url="http://127.0.0.1:9/h", secret="s"), Path("."))
    assert any("plain http" in r.getMessage() for r in caplog.records)


def test_delivery_to_a_real_receiver_and_error_lines(tmp_path: Path) -> None:
    key = resolve_secret(SECRET, "x")
    assert key is not None
    r = Receiver(key).start()
    try:
        ok = WebhookSink("desk", SinkConfig(type="webhook", url=r.url, secret=SECRET), tmp_path)
        ok.deliver(_msg())
        ok.deliver(_msg())  # same id again: the receiver de-duplicates
        assert r.count() == 1 and r.duplicates == 1
        wrong = WebhookSink("desk", SinkConfig(type="webhook", url=r.url, secret="whsec_QUJD"), tmp_path)
        with pytest.raises(DeliveryError, match=r"HTTP 401.*dispatch.sinks.desk.secret") as ei:
            wrong.deliver(_msg())
        assert ei.value.permanent
        ok.close()
        wrong.close()
    finally:
        r.stop()
    down = WebhookSink("desk", SinkConfig(type="webhook", url=f"http://127.0.0.1:{free_port()}/h"), tmp_path)
    with pytest.raises(DeliveryError, match=r"cannot reach .* is the receiver running") as ei:
        down.deliver(_msg())
    assert ei.value.sink_down and not ei.value.permanent


def test_tls_certificate_is_verified(tmp_path: Path) -> None:
    """A receiver with a self-signed certificate is refused (verification is on), with one clear line."""
    cert, keyf = tmp_path / "c.pem", tmp_path / "k.pem"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(keyf),
                           "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], capture_output=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip("openssl cannot make a test certificate here")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # pragma: no cover - the handshake fails first
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, keyf)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        sink = WebhookSink("desk", SinkConfig(type="webhook", url=f"https://127.0.0.1:{srv.server_port}/h"), tmp_path)
        with pytest.raises(DeliveryError, match=r"TLS certificate .* not trusted"):
            sink.deliver(_msg())
    finally:
        srv.shutdown()
        srv.server_close()
