"""The web service's actor cache: a token's user is looked up once per `actor_cache_seconds`, and a change of
role or a disabled account made through the service applies to the very next request."""

from __future__ import annotations

import time

from runze_api_fixtures import *  # noqa: F403
from sqlalchemy import update

from runze.ops.auth import SYSTEM, ActorCache, users_changed, users_generation
from runze.store import User


def test_role_change_and_disabling_apply_to_the_next_request(api):
    dispatcher = api.as_role("dispatcher")
    admin = api.as_role("admin")
    body = {"kind": "leak_investigation", "title": "听漏", "address": "建设路"}
    assert dispatcher.post("/api/workorders", json=body).status_code == 201  # cached now
    r = admin.patch(f"/api/users/{api.user_ids['dispatcher']}", json={"role": "viewer"})
    assert r.status_code == 200, r.text
    r = dispatcher.post("/api/workorders", json=body)
    assert r.status_code == 403 and r.json()["error"]["details"]["role"] == "viewer"
    assert admin.patch(f"/api/users/{api.user_ids['dispatcher']}", json={"is_active": False}).status_code == 200
    assert dispatcher.get("/api/workorders").status_code == 401


def test_a_change_made_outside_the_service_is_seen_within_the_ttl(api):
    """Another process (the CLI, another worker) changes the database directly: the cache serves the old
    role for at most `actor_cache_seconds`, then reads the new one."""
    api.app.state.actor_cache = ActorCache(ttl_s=0.5)
    crew = api.as_role("crew")
    assert crew.get("/api/workorders").status_code == 200
    with api.database.session() as session:
        session.execute(update(User).where(User.id == api.user_ids["crew"]).values(is_active=False))
        session.commit()
    assert crew.get("/api/workorders").status_code == 200  # still cached: the documented window
    time.sleep(0.6)
    assert crew.get("/api/workorders").status_code == 401


def test_cache_entries_expire_and_are_dropped_by_a_users_change():
    cache = ActorCache(ttl_s=60)
    gen = users_generation()
    cache.put("t", SYSTEM, expires_at=time.time() + 3600, generation=gen)
    assert cache.get("t") is SYSTEM
    users_changed()
    assert cache.get("t") is None
    # an entry looked up before a change but stored after it is never served
    cache.put("t", SYSTEM, expires_at=time.time() + 3600, generation=gen)
    assert cache.get("t") is None
    cache.put("t", SYSTEM, expires_at=time.time() - 1, generation=users_generation())  # token already expired
    assert cache.get("t") is None
    off = ActorCache(ttl_s=0)
    off.put("t", SYSTEM, expires_at=time.time() + 3600, generation=users_generation())
    assert off.get("t") is None
