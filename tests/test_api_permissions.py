"""Every role on every route, driven by the permission table (runze.ops.auth.PERMISSIONS), so the two cannot drift.

For each route of the app the test finds the action its `Require` dependency checks, then calls it as every
role: a role that may do the action must get past the check (no 401/403), any other role must get 403 and
change nothing; without a token every protected route answers 401.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import APIRoute
from runze_api_fixtures import *  # noqa: F403
from sqlalchemy import func, select

from runze.ops import crews
from runze.ops import workorders as wo_ops
from runze.ops.auth import ACTIONS, PERMISSIONS, ROLES, SYSTEM, allowed
from runze.store import AuditEntry
from runze.web.app import API_PREFIX
from runze.web.deps import PUBLIC, Require
from runze.web.routes import ROUTERS

PUBLIC_PATHS = {("GET", "/api/health"), ("POST", "/api/auth/token")}


def _guards(dependant) -> list:
    found = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, Require) or dep.call is PUBLIC:
            found.append(dep.call)
        found.extend(_guards(dep))
    return found


def _api_routes(app) -> list[tuple[str, str, object]]:
    """(method, path, route) of every route of the mounted routers, checked against the app's OpenAPI paths."""
    routes = []
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in sorted(route.methods):
                routes.append((method, API_PREFIX + route.path, route))
    spec = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops}
    assert spec == {(m, p) for m, p, _ in routes}, "a route outside runze.web.routes.ROUTERS"
    return routes


def test_every_route_has_exactly_one_guard_and_every_action_is_used(api):
    used: set[str] = set()
    routes = _api_routes(api.app)
    assert len(routes) >= 20 and len(ROUTERS) >= 8
    for method, path, route in routes:
        assert path.startswith("/api/"), path
        guards = _guards(route.dependant)
        assert len(guards) == 1, f"{method} {path} has guards {guards}"
        if guards[0] is PUBLIC:
            assert (method, path) in PUBLIC_PATHS, f"{method} {path} is public but not meant to be"
        else:
            used.add(guards[0].action)
    used |= set(wo_ops.TARGET_ACTION.values())  # checked inside the transition use case
    assert used == set(ACTIONS), f"actions never checked: {set(ACTIONS) - used}"
    assert set(PERMISSIONS) == set(ROLES)


def _call(client, method: str, path: str):
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    if method in ("POST", "PATCH", "PUT"):
        if path == "/api/networks":
            return client.request(method, concrete, files={"inp": ("x.inp", b"[END]\n")})
        return client.request(method, concrete, json={})
    return client.request(method, concrete)


def _audit_count(api) -> int:
    with api.database.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_on_every_route(api, role):
    before = _audit_count(api)
    client = api.as_role(role)
    checked = 0
    for method, path, route in _api_routes(api.app):
        guard = _guards(route.dependant)[0]
        if guard is PUBLIC:
            continue
        response = _call(client, method, path)
        if allowed(role, guard.action):
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            assert response.json()["error"]["code"] == "forbidden"
            assert response.json()["error"]["details"] == {"role": role, "action": guard.action}
        checked += 1
    assert checked >= 20
    assert _audit_count(api) == before  # {} bodies are invalid: nobody wrote anything


def test_no_token_or_a_bad_token_is_401_on_every_protected_route(api):
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        for method, path, route in _api_routes(api.app):
            if _guards(route.dependant)[0] is PUBLIC:
                continue
            response = api.client.request(method, re.sub(r"\{[^}]+\}", "1", path), headers=headers,
                                          json={} if method in ("POST", "PATCH") else None)
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.json()["error"]["code"] == "not_authenticated"


PREVIOUS = {"dispatched": [], "on_site": ["dispatched"], "isolated": ["dispatched", "on_site"],
            "repaired": ["dispatched", "on_site", "isolated"],
            "restored": ["dispatched", "on_site", "isolated", "repaired"],
            "closed": ["dispatched", "on_site", "isolated", "repaired", "restored"], "cancelled": []}


@pytest.mark.parametrize("target", list(PREVIOUS))
def test_each_transition_target_by_every_role(api, target):
    with api.database.session() as session:
        crew_id = crews.create_crew(session, SYSTEM, name="班组", specialty="repair").id
    for role in ROLES:
        with api.database.session() as session:
            wo = wo_ops.create_work_order(session, SYSTEM, kind="emergency_repair", title="t", crew_id=crew_id,
                                          reported_at=datetime.now(UTC) - timedelta(hours=3))
            for step in PREVIOUS[target]:
                wo = wo_ops.transition(session, SYSTEM, wo.id, step, expected_version=wo.version)
        response = api.as_role(role).post(f"/api/workorders/{wo.id}/transitions",
                                          json={"to": target, "version": wo.version, "reason": "test"})
        may = allowed(role, "workorders:transition") and allowed(role, wo_ops.TARGET_ACTION[target])
        assert response.status_code == (200 if may else 403), (role, target, response.text)
        assert response.json()["status" if may else "error"] == (target if may else response.json()["error"])
