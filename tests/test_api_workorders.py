"""Work orders over HTTP: the whole life, refusals with reasons (409), optimistic locking with two clients,
filters and pages, the shared error body, login with the OAuth2 form."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from runze_api_fixtures import *  # noqa: F403
from runze_api_fixtures import PASSWORD


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _crew(api) -> int:
    r = api.as_role("dispatcher").post("/api/crews", json={"name": "抢修一班", "specialty": "repair", "members": [
        {"name": "张强", "role": "leader", "is_party_member": True}, {"name": "李伟"}]})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_login_with_the_oauth2_form_and_use_the_token(api):
    r = api.client.post("/api/auth/token", data={"username": "u_dispatcher", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.json()["role"] == "dispatcher" and "workorders:dispatch" in me.json()["permissions"]
    bad = api.client.post("/api/auth/token", data={"username": "u_dispatcher", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "not_authenticated"


def test_life_of_an_emergency_repair_over_http(api):
    crew_id = _crew(api)
    service, dispatcher, crew = api.as_role("customer_service"), api.as_role("dispatcher"), api.as_role("crew")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)
    r = service.post("/api/workorders", json={"kind": "emergency_repair", "title": "DN300 爆管 · 建设路",
                                              "reported_at": _iso(t0), "address": "建设路12号"})
    assert r.status_code == 201, r.text
    wo = r.json()
    assert (wo["status"], wo["version"], wo["code"], r.headers["etag"]) == ("reported", 1, f"WO{wo['id']:07d}", '"1"')
    assert wo["next_states"] == ["dispatched", "cancelled"]
    url = f"/api/workorders/{wo['id']}/transitions"

    r = dispatcher.post(url, json={"to": "on_site", "version": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_transition"
    assert "cannot go from reported to on_site" in r.json()["error"]["message"]
    assert r.json()["error"]["message_zh"]
    r = dispatcher.post(url, json={"to": "dispatched", "version": 1})
    assert r.status_code == 409 and "crew" in r.json()["error"]["message"]

    steps = [(dispatcher, "dispatched", 10), (crew, "on_site", 40), (crew, "isolated", 60), (crew, "repaired", 200),
             (crew, "restored", 230), (dispatcher, "closed", 300)]
    version = 1
    for client, target, minutes in steps:
        if target == "repaired":
            r = client.post(url, json={"to": "closed", "version": version})  # crews may not close
            assert r.status_code == 403
        body = {"to": target, "at": _iso(t0 + timedelta(minutes=minutes)), "crew_id": crew_id}
        r = client.post(url, json=body, headers={"If-Match": f'"{version}"'})  # the version as If-Match
        assert r.status_code == 200, r.text
        version += 1
        assert r.json()["status"] == target and r.json()["version"] == version
    done = api.as_role("viewer").get(f"/api/workorders/{wo['id']}").json()
    assert done["durations"] == {"time_to_dispatch_s": 600.0, "time_to_site_s": 2400.0,
                                 "time_without_water_s": 170 * 60.0, "repair_s": 160 * 60.0, "total_s": 300 * 60.0}
    assert done["crew_name"] == "抢修一班" and done["next_states"] == []
    assert datetime.fromisoformat(done["isolated_at"]) == t0 + timedelta(minutes=60)
    r = dispatcher.post(url, json={"to": "cancelled", "version": version, "reason": "x"})
    assert r.status_code == 409 and "closed" in r.json()["error"]["message"]

    log = api.as_role("admin").get("/api/audit", params={"entity_type": "work_order", "entity_id": wo["id"]}).json()
    assert [e["action"] for e in reversed(log["items"])] == ["workorder.create"] + [
        f"workorder.{t}" for _, t, _ in steps]
    assert log["items"][0]["actor_name"] == "u_dispatcher" and log["items"][0]["before"]["status"] == "restored"


def test_versions_if_match_and_stale_writes(api):
    d = api.as_role("dispatcher")
    wo = d.post("/api/workorders", json={"kind": "meter_work", "title": "水表"}).json()
    url = f"/api/workorders/{wo['id']}"
    r = d.patch(url, json={"title": "no version"})
    assert r.status_code == 428 and r.json()["error"]["code"] == "version_required"
    assert d.patch(url, json={"title": "v2"}, headers={"If-Match": 'W/"1"'}).json()["version"] == 2
    r = d.patch(url, json={"title": "stale", "version": 1})
    assert r.status_code == 409 and r.json()["error"]["code"] == "stale_version"
    assert r.json()["error"]["details"] == {"sent_version": 1, "current_version": 2}
    r = d.patch(url, json={"title": "bad"}, headers={"If-Match": "abc"})
    assert r.status_code == 422
    assert d.get(url).json()["title"] == "v2"


@pytest.mark.parametrize("rounds", [12])
def test_two_clients_updating_one_work_order_lose_no_update(api_on, rounds):
    """Two dispatchers edit the same order at the same moment, many times: each round exactly one wins, the
    other gets 409 and retries on the fresh copy; in the end every accepted change is there."""
    a, b = api_on.as_role("dispatcher"), api_on.as_role("admin")
    wo = a.post("/api/workorders", json={"kind": "planned_repair", "title": "t", "description": ""}).json()
    url = f"/api/workorders/{wo['id']}"
    accepted: list[str] = []
    conflicts = 0

    def append_line(client, tag: str, barrier: threading.Barrier, out: dict) -> None:
        current = client.get(url).json()
        barrier.wait()  # both have read the same version before either writes
        r = client.patch(url, json={"description": current["description"] + tag + "\n",
                                    "version": current["version"]})
        out[tag] = r

    for i in range(rounds):
        barrier, out = threading.Barrier(2), {}
        threads = [threading.Thread(target=append_line, args=(c, f"{name}{i}", barrier, out))
                   for c, name in ((a, "a"), (b, "b"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in out.values())
        assert codes == [200, 409], codes  # both read the same version: exactly one may write
        for tag, r in out.items():
            if r.status_code == 200:
                accepted.append(tag)
            else:
                assert r.json()["error"]["code"] == "stale_version"
                conflicts += 1
                retry_from = (a if tag.startswith("a") else b).get(url).json()
                r2 = (a if tag.startswith("a") else b).patch(url, json={
                    "description": retry_from["description"] + tag + "\n", "version": retry_from["version"]})
                assert r2.status_code == 200
                accepted.append(tag)
    final = a.get(url).json()
    lines = final["description"].splitlines()
    assert sorted(lines) == sorted(accepted) and len(lines) == 2 * rounds  # no lost update
    assert final["version"] == 1 + 2 * rounds
    assert conflicts == rounds


def test_list_filters_and_pages(api):
    d = api.as_role("dispatcher")
    base = datetime(2025, 5, 1, tzinfo=UTC)
    kinds = ["meter_work", "leak_investigation", "meter_work", "valve_operation", "meter_work"]
    ids = [d.post("/api/workorders", json={"kind": k, "title": f"wo{i}",
                                           "reported_at": _iso(base + timedelta(days=i))}).json()["id"]
           for i, k in enumerate(kinds)]
    crew_id = _crew(api)
    d.post(f"/api/workorders/{ids[0]}/transitions", json={"to": "dispatched", "version": 1, "crew_id": crew_id})
    page = d.get("/api/workorders", params={"limit": 2, "offset": 0}).json()
    assert page["total"] == 5 and [w["id"] for w in page["items"]] == [ids[4], ids[3]]
    assert [w["id"] for w in d.get("/api/workorders", params={"limit": 2, "offset": 4}).json()["items"]] == [ids[0]]
    assert d.get("/api/workorders", params={"kind": "meter_work"}).json()["total"] == 3
    assert d.get("/api/workorders", params={"kind": ["valve_operation", "leak_investigation"]}).json()["total"] == 2
    assert [w["id"] for w in d.get("/api/workorders", params={"status": "dispatched"}).json()["items"]] == [ids[0]]
    assert d.get("/api/workorders", params={"crew_id": crew_id}).json()["total"] == 1
    window = {"since": _iso(base + timedelta(days=1)), "until": _iso(base + timedelta(days=3))}
    assert [w["id"] for w in d.get("/api/workorders", params=window).json()["items"]] == [ids[2], ids[1]]
    assert d.get("/api/workorders", params={"since": "2025-05-01T00:00:00"}).status_code == 422  # no offset


def test_error_bodies_share_one_shape(api):
    d = api.as_role("dispatcher")
    cases = [
        (d.get("/api/workorders/999"), 404, "not_found"),
        (d.get("/api/no-such-thing"), 404, "not_found"),
        (d.post("/api/workorders", json={"kind": "tea_ceremony", "title": ""}), 422, "invalid_input"),
        (d.post("/api/workorders", content=b"{not json", headers={"content-type": "application/json"}), 422,
         "invalid_input"),
        (d.get("/api/workorders", params={"limit": 0}), 422, "invalid_input"),
        (d.get("/api/workorders/99999999999999"), 422, "invalid_input"),
        (d.delete("/api/workorders/1"), 405, "method_not_allowed"),
        (api.as_role("viewer").post("/api/workorders", json={}), 403, "forbidden"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "message_zh", "details"}
        assert body["error"]["code"] == code and body["error"]["message"]
    problems = cases[2][0].json()["error"]["details"]["problems"]
    assert {tuple(p["location"]) for p in problems} >= {("body", "kind"), ("body", "title")}


def test_incident_over_http(api):
    d = api.as_role("dispatcher")
    wo = d.post("/api/workorders", json={"kind": "emergency_repair", "title": "暴雨夜 爆管"}).json()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=14)
    inc = d.post("/api/incidents", json={"title": "暴雨夜", "kind": "weather", "severity": 1,
                                         "started_at": _iso(t0)}).json()
    r = api.as_role("crew").post(f"/api/incidents/{inc['id']}/entries", json={
        "kind": "action", "text": "先锋队出动", "at": _iso(t0 + timedelta(hours=2)), "work_order_ids": [wo["id"]]})
    assert r.status_code == 201 and r.json()["author_name"] == "u_crew"
    r = d.post(f"/api/incidents/{inc['id']}/close", json={"version": inc["version"],
                                                           "ended_at": _iso(t0 + timedelta(hours=13))})
    assert r.status_code == 200, r.text
    got = api.as_role("viewer").get(f"/api/incidents/{inc['id']}").json()
    assert got["duration_s"] == 13 * 3600 and got["work_order_ids"] == [wo["id"]]
    assert got["entries"][0]["work_order_ids"] == [wo["id"]]
    assert api.as_role("viewer").get("/api/incidents", params={"status": "closed"}).json()["total"] == 1


def test_a_request_that_fails_midway_leaves_nothing(api, monkeypatch):
    from runze.ops import audit

    d = api.as_role("dispatcher")
    wo = d.post("/api/workorders", json={"kind": "meter_work", "title": "before"}).json()

    def boom(*args, **kwargs):
        raise RuntimeError("lost the database connection")

    monkeypatch.setattr(audit, "record", boom)  # fails after the change itself was flushed
    for response in (d.post("/api/workorders", json={"kind": "meter_work", "title": "half"}),
                     d.patch(f"/api/workorders/{wo['id']}", json={"title": "half", "version": 1}),
                     d.post("/api/crews", json={"name": "半个班组"})):
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert "lost the database" not in response.text  # no internals leak to the client
    monkeypatch.undo()
    listing = d.get("/api/workorders").json()
    assert listing["total"] == 1 and listing["items"][0]["title"] == "before" and listing["items"][0]["version"] == 1
    assert d.get("/api/crews").json()["total"] == 0
