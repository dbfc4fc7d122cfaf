"""CAP 1.2 sink: new / update / cancel documents through the real outbox, valid against the OASIS XSD."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatch.config import DispatchConfig, SinkConfig, UnitConfig
from dispatch.desk import DispatchDesk
from dispatch.roles import Actor
from dispatch.sinks.cap import cap_document
from dispatch.store import AlertStore
from tests.dispatch.webhook_receiver import Receiver, wait_for

etree = pytest.importorskip("lxml.etree", reason="lxml is needed to validate CAP against its XSD")

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
ADMIN = Actor.local_admin()


def _xsd() -> Path:
    env = os.environ.get("LOOKOUT_CAP_XSD")
    path = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "standards" / "cap12.xsd"
    if not path.is_file():
        pytest.skip(f"CAP 1.2 schema not found at {path} (set LOOKOUT_CAP_XSD to its path)")
    return path


@pytest.fixture(scope="module")
def schema() -> Any:
    return etree.XMLSchema(etree.parse(str(_xsd())))


def _valid(schema: Any, doc: bytes) -> Any:
    tree = etree.fromstring(doc)
    assert schema.validate(tree), schema.error_log
    return tree


def test_new_update_cancel_validate_and_reference_each_other(
    tmp_path: Path, schema: Any, inputs: Callable[..., Any], evidence: Callable[..., Any]
) -> None:
    data = tmp_path / "data"
    snap = evidence(data, "evidence/2026-06-01/e1/snapshot.jpg", b"\xff\xd8 a jpeg")
    out = tmp_path / "cap"
    r = Receiver(b"cap-secret").start()
    sink = SinkConfig(type="cap", dir=str(out), url=r.url, secret="cap-secret", backoff_base_s=0.05, backoff_max_s=0.2)
    cfg = DispatchConfig(sinks={"cap": sink}, node="lookout-test")
    units = {"car1": UnitConfig(callsign="CAR 1", lat_deg=52.1, lon_deg=4.3)}
    desk = DispatchDesk(data / "alerts.sqlite", cfg, units, {}, data_dir=data)
    try:
        with AlertStore(data / "alerts.sqlite", on_change=desk.on_change) as store:
            desk.start_sender()
            a = store.ingest(inputs("e1", snapshot=snap))
            store.confirm(a.id, ADMIN)
            desk.dispatch(a.id, "car1")
            store.close(a.id, ADMIN)
            assert wait_for(lambda: r.count() == 3 and len(list(out.glob("*.xml"))) == 3)
    finally:
        desk.close()
        r.stop()
    assert r.content_types == {"application/cap+xml"}
    assert not list(out.glob(".cap-*"))  # temp files renamed into place, none left
    docs = [_valid(schema, p.read_bytes()) for p in sorted(out.glob("*.xml"))]
    types = [d.findtext("cap:msgType", namespaces=NS) for d in docs]
    assert types == ["Alert", "Update", "Cancel"]
    ids = [d.findtext("cap:identifier", namespaces=NS) for d in docs]
    sent = [d.findtext("cap:sent", namespaces=NS) for d in docs]
    refs = docs[2].findtext("cap:references", namespaces=NS).split()
    assert refs == [f"lookout-test,{ids[0]},{sent[0]}", f"lookout-test,{ids[1]},{sent[1]}"]
    res = docs[0].find("cap:info/cap:resource", NS)
    assert res.findtext("cap:digest", namespaces=NS) == hashlib.sha1(b"\xff\xd8 a jpeg").hexdigest()
    assert res.findtext("cap:mimeType", namespaces=NS) == "image/jpeg"
    assert docs[0].findtext("cap:info/cap:area/cap:circle", namespaces=NS) == "52.100000,4.300000 0.007"
    params = {p.findtext("cap:valueName", namespaces=NS): p.findtext("cap:value", namespaces=NS)
              for p in docs[1].findall("cap:info/cap:parameter", NS)}  # fmt: skip
    assert params["lookout:response_unit"] == "car1" and params["lookout:response_target_min"] == "5"
    assert {x.decode() if isinstance(x, bytes) else x for x in r.accepted} == set(ids)


def test_test_message_and_zone_polygon_validate(schema: Any) -> None:
    payload = {"type": "test", "id": "msg_x_test_1_cap", "created_utc": "2026-06-01T12:00:00.123+00:00",
               "after": {"kind": "test", "severity": "low", "summary": "Lookout test message"}}  # fmt: skip
    doc = _valid(schema, cap_document(payload, sender="lookout"))
    assert doc.findtext("cap:status", namespaces=NS) == "Test"
    assert doc.findtext("cap:sent", namespaces=NS) == "2026-06-01T12:00:00-00:00"
    payload = {"type": "update", "id": "m2", "created_utc": "2026-06-01T12:00:00+00:00",
               "references": [{"msg_id": "m1", "created_utc": "2026-06-01T11:59:00+00:00"}],
               "after": {"id": 4, "kind": "zone_entry", "severity": "medium", "state": "confirmed", "zone": "pier",
                         "position": None, "evidence": []}}  # fmt: skip
    doc = _valid(schema, cap_document(payload, sender="lookout", zone_polygons={"pier": [(52.0, 4.0), (52.0, 4.1),
                                                                                         (52.1, 4.1)]}))  # fmt: skip
    assert doc.findtext("cap:info/cap:area/cap:polygon", namespaces=NS).count(",") == 4  # closed ring
    assert doc.findtext("cap:references", namespaces=NS) == "lookout,m1,2026-06-01T11:59:00-00:00"
