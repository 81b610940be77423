"""/api/telemetry over HTTP: readings in time order, alarms listed, acknowledged (dispatcher yes, viewer no) and
linked to an incident; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from runze_api_fixtures import *  # noqa: F403

from runze.ops import incidents
from runze.ops import telemetry as ops
from runze.ops.auth import SYSTEM
from runze.telemetry.messages import Message

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=CST)


def _ingest(api, points) -> None:  # noqa: ANN001
    now = datetime.now(UTC)
    msgs = [Message(f"runze/readings/{sid}", json.dumps({"t": (T0 + timedelta(minutes=m)).isoformat(), "v": v,
                                                          "unit": "MPa"}).encode(), now) for sid, m, v in points]
    with api.database.session() as session:
        ops.ingest_messages(session, msgs)


def test_readings_and_alarm_lifecycle_over_http(api_on):
    api = api_on
    _ingest(api, [("PL001", 10, 0.30), ("PL001", 0, 0.31), ("PL001", 5, 0.12)])
    viewer, dispatcher = api.as_role("viewer"), api.as_role("dispatcher")
    body = viewer.get("/api/telemetry/readings", params={"sensor_id": "PL001"}).json()
    assert (body["kind"], body["unit"]) == ("pressure", "MPa")
    assert [r["value"] for r in body["readings"]] == [0.31, 0.12, 0.30]
    assert datetime.fromisoformat(body["readings"][0]["t"]) == T0
    since = (T0 + timedelta(minutes=5)).isoformat()
    part = viewer.get("/api/telemetry/readings", params={"sensor_id": "PL001", "since": since}).json()
    assert [r["value"] for r in part["readings"]] == [0.12, 0.30]
    missing = viewer.get("/api/telemetry/readings", params={"sensor_id": "NOPE"})
    assert missing.status_code == 404 and missing.json()["error"]["message_zh"]
    assert [s["sensor_id"] for s in viewer.get("/api/telemetry/sensors").json()] == ["PL001"]

    alarms = viewer.get("/api/telemetry/alarms", params={"status": "attention"}).json()
    assert alarms["total"] == 1
    alarm = alarms["items"][0]
    assert (alarm["rule_id"], alarm["status"], alarm["raise_value"]) == ("pressure_low", "cleared_unacknowledged",
                                                                         0.12)
    assert viewer.post(f"/api/telemetry/alarms/{alarm['id']}/ack", json={}).status_code == 403
    acked = dispatcher.post(f"/api/telemetry/alarms/{alarm['id']}/ack", json={})
    assert acked.status_code == 200 and acked.json()["status"] == "cleared"
    assert acked.json()["acknowledged_by"] == "u_dispatcher"
    assert viewer.get("/api/telemetry/alarms", params={"status": "attention"}).json()["total"] == 0
    with api.database.session() as session:
        inc = incidents.create_incident(session, SYSTEM, title="暴雨夜三水厂取水受限", kind="weather")
    linked = dispatcher.post(f"/api/telemetry/alarms/{alarm['id']}/link", json={"incident_id": inc.id})
    assert linked.status_code == 200 and linked.json()["incident_id"] == inc.id
    bad = dispatcher.post(f"/api/telemetry/alarms/{alarm['id']}/link", json={"incident_id": 999999})
    assert bad.status_code == 422
    assert dispatcher.post("/api/telemetry/alarms/999999/ack", json={}).status_code == 404
    assert viewer.get("/api/telemetry/alarms", params={"status": "nonsense"}).status_code == 422
