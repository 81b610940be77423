"""Network upload over HTTP, the audit log's read-only API, and the CLI: `runze init [--demo]`, `runze users
create`, then logging in to the API on that database."""

from __future__ import annotations

import json
from pathlib import Path

import wntr
from fastapi.testclient import TestClient
from runze_api_fixtures import *  # noqa: F403
from runze_db_fixtures import make_settings
from typer.testing import CliRunner

from runze.cli.main import app as cli_app
from runze.ops.database import open_database
from runze.web import create_app

NET3 = Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"


def test_upload_list_and_read_network_versions(api):
    eng = api.as_role("network_engineer")
    sidecar = {"format": "runze-sidecar", "version": 1, "dmas": {"D1": {"name": "一区", "nodes": ["10", "15"]}}}
    r = eng.post("/api/networks", files={"inp": ("Net3.inp", NET3.read_bytes(), "text/plain"),
                                         "sidecar": ("Net3.json", json.dumps(sidecar).encode(), "application/json")},
                 data={"comment": "first survey"})
    assert r.status_code == 201, r.text
    v = r.json()
    assert (v["name"], v["number"], v["has_sidecar"], v["summary"]["pipes"]) == ("Net3", 1, True, 117)
    pipes = eng.get(f"/api/networks/{v['id']}/assets", params={"kind": "pipe", "limit": 500}).json()
    assert pipes["total"] == 117 and all(p["length_m"] > 0 for p in pipes["items"])
    d1 = eng.get(f"/api/networks/{v['id']}/assets", params={"dma": "D1"}).json()
    assert sorted(a["asset_id"] for a in d1["items"] if a["category"] == "node") == ["10", "15"]
    assert eng.get(f"/api/networks/{v['id']}/inp").content == NET3.read_bytes()  # byte for byte (CRLF kept)

    bad = NET3.read_text().replace("[PIPES]", "[PIPES]\nP-BAD 10 NO-SUCH-NODE 100 12 100 0 Open", 1)
    r = eng.post("/api/networks", files={"inp": ("bad.inp", bad.encode(), "text/plain")})
    assert r.status_code == 422 and r.json()["error"]["details"]["file"] == "bad.inp"
    assert r.json()["error"]["details"]["line"] is not None
    assert eng.get("/api/networks").json()["total"] == 1  # the bad file left nothing
    assert api.as_role("dispatcher").post("/api/networks", files={"inp": ("x.inp", b"")}).status_code == 403


def test_audit_log_has_no_write_route(api):
    spec = api.app.openapi()["paths"]
    audit_paths = {p: set(ops) for p, ops in spec.items() if p.startswith("/api/audit")}
    assert audit_paths == {"/api/audit": {"get"}}
    admin = api.as_role("admin")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert admin.request(method, "/api/audit").status_code == 405
        assert admin.request(method, "/api/audit/1").status_code in (404, 405)


def test_cli_init_demo_users_create_and_login(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    result = runner.invoke(cli_app, ["init", "--demo", "--db", url])
    assert result.exit_code == 0, result.output
    assert "work orders" in result.output
    result = runner.invoke(cli_app, ["init", "--demo", "--db", url])  # not twice into the same database
    assert result.exit_code == 2 and "empty" in result.output
    monkeypatch.setenv("RUNZE_PASSWORD", "a-strong-password")
    result = runner.invoke(cli_app, ["users", "create", "zhao", "--role", "dispatcher", "--db", url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli_app, ["users", "create", "qian", "--role", "emperor", "--db", url])
    assert result.exit_code == 2 and "unknown role" in result.output
    result = runner.invoke(cli_app, ["users", "create", "sun", "--role", "viewer", "--db",
                                     f"sqlite:///{tmp_path / 'never-initialised.db'}"])
    assert result.exit_code == 2 and "runze init" in result.output

    settings = make_settings(url).model_copy(update={"argon2_time_cost": 3, "argon2_memory_kib": 65536})
    db = open_database(settings)
    try:
        client = TestClient(create_app(settings, database=db))
        token = client.post("/api/auth/token", data={"username": "zhao", "password": "a-strong-password"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        orders = client.get("/api/workorders", headers=headers, params={"limit": 500}).json()
        assert orders["total"] > 1000
        kinds = {w["kind"] for w in orders["items"]}
        assert len(kinds) >= 5
        storm = client.get("/api/incidents", headers=headers, params={"kind": "weather"}).json()["items"]
        assert len(storm) == 1
        full = client.get(f"/api/incidents/{storm[0]['id']}", headers=headers).json()
        assert full["duration_s"] == 13 * 3600 and len(full["work_order_ids"]) == 3 and len(full["entries"]) >= 5
        closed = client.get("/api/workorders", headers=headers, params={"status": "closed", "kind": "planned_repair",
                                                                        "limit": 200}).json()["items"]
        without_water = [w["durations"]["time_without_water_s"] for w in closed]
        assert closed and all(0 < s < 8 * 3600 for s in without_water)
    finally:
        db.dispose()
