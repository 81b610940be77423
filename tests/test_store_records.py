"""Users, crews and incidents through the use cases (SQLite and PostgreSQL), each write audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from runze_db_fixtures import *  # noqa: F403
from sqlalchemy import select

from runze.ops import audit, crews, incidents, users
from runze.ops import workorders as wo_ops
from runze.ops.auth import SYSTEM, authenticate, create_access_token, user_from_token
from runze.ops.errors import AuthenticationFailed, Conflict, IllegalTransition, InvalidInput, StaleVersion
from runze.store import AuditEntry


def test_users_passwords_and_tokens(database, settings):
    with database.session() as session:
        user = users.create_user(session, SYSTEM, username="li", password="secret-123", role="network_engineer",
                                 settings=settings, display_name="李工")
        assert user.password_hash.startswith("$argon2id$") and "secret-123" not in user.password_hash
        assert authenticate(session, "li", "secret-123", settings).id == user.id
        for name, password in [("li", "wrong-pass"), ("nobody", "secret-123")]:
            with pytest.raises(AuthenticationFailed):
                authenticate(session, name, password, settings)
        token = create_access_token(user, settings)
        assert user_from_token(session, token, settings).id == user.id
        with pytest.raises(AuthenticationFailed):
            user_from_token(session, token + "x", settings)
        with pytest.raises(Conflict):
            users.create_user(session, SYSTEM, username="li", password="secret-123", role="viewer", settings=settings)
        with pytest.raises(InvalidInput):
            users.create_user(session, SYSTEM, username="x", password="short", role="viewer", settings=settings)
        with pytest.raises(InvalidInput):
            users.create_user(session, SYSTEM, username="y", password="long-enough", role="boss", settings=settings)
        users.update_user(session, SYSTEM, user.id, {"is_active": False, "role": "viewer"}, settings=settings)
        with pytest.raises(AuthenticationFailed):  # a disabled user's token stops working at once
            user_from_token(session, token, settings)
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [e.action for e in entries] == ["user.create", "user.update"]
        assert entries[1].before["role"] == "network_engineer" and entries[1].after["role"] == "viewer"
        assert all("password_hash" not in (e.before or {}) | (e.after or {}) for e in entries)


def test_crews_and_members(database):
    with database.session() as session:
        crew = crews.create_crew(session, SYSTEM, name="党员先锋队", specialty="general", is_vanguard=True,
                                 members=[{"name": "张强", "role": "leader", "is_party_member": True}])
        with pytest.raises(Conflict):
            crews.create_crew(session, SYSTEM, name="党员先锋队")
        crew = crews.add_member(session, SYSTEM, crew.id, {"name": "王伟"})
        assert [m.name for m in crew.members] == ["张强", "王伟"]
        crew = crews.remove_member(session, SYSTEM, crew.id, crew.members[0].id)
        crew = crews.update_crew(session, SYSTEM, crew.id, {"phone": "0734-8200000", "is_active": False})
    with database.session() as session:
        stored = crews.get_crew(session, crew.id)
        assert [m.name for m in stored.members] == ["王伟"] and not stored.is_active
        assert crews.list_crews(session, vanguard=True).total == 1
        with pytest.raises(InvalidInput, match="inactive"):  # an inactive crew gets no work
            wo_ops.create_work_order(session, SYSTEM, kind="meter_work", title="t", crew_id=crew.id)
        log = audit.list_entries(session, entity_type="crew", entity_id=str(crew.id))
        assert [e.action for e in log.items] == ["crew.update", "crew.remove_member", "crew.add_member", "crew.create"]


def test_incident_spanning_work_orders_with_a_timeline(database):
    t0 = datetime(2025, 6, 21, 13, 40, tzinfo=UTC)
    with database.session() as session:
        burst = wo_ops.create_work_order(session, SYSTEM, kind="emergency_repair", title="爆管", reported_at=t0)
        valves = wo_ops.create_work_order(session, SYSTEM, kind="valve_operation", title="调阀", reported_at=t0)
        inc = incidents.create_incident(session, SYSTEM, title="暴雨夜", kind="weather", severity=1, started_at=t0)
        incidents.add_entry(session, SYSTEM, inc.id, kind="alarm", text="原水浊度超标", at=t0)
        incidents.add_entry(session, SYSTEM, inc.id, kind="action", text="先锋队出动", at=t0 + timedelta(hours=2),
                            work_order_ids=[burst.id, valves.id])
        with pytest.raises(InvalidInput, match="do not exist"):
            incidents.add_entry(session, SYSTEM, inc.id, kind="note", text="x", work_order_ids=[999999])
        with pytest.raises(InvalidInput, match="entry kind"):
            incidents.add_entry(session, SYSTEM, inc.id, kind="gossip", text="x")
        inc = incidents.get_incident(session, inc.id)
        with pytest.raises(StaleVersion):
            incidents.close_incident(session, SYSTEM, inc.id, expected_version=inc.version + 1)
        with pytest.raises(InvalidInput, match="before"):
            incidents.close_incident(session, SYSTEM, inc.id, expected_version=inc.version,
                                     ended_at=t0 - timedelta(hours=1))
        inc = incidents.close_incident(session, SYSTEM, inc.id, expected_version=inc.version,
                                       ended_at=t0 + timedelta(hours=13))
        with pytest.raises(IllegalTransition):
            incidents.close_incident(session, SYSTEM, inc.id, expected_version=inc.version)
    with database.session() as session:
        inc = incidents.get_incident(session, inc.id)
        assert [e.kind for e in inc.entries] == ["alarm", "action"]
        assert sorted(w.id for w in inc.entries[1].work_orders) == sorted([burst.id, valves.id])
        assert sorted(w.id for w in inc.work_orders) == sorted([burst.id, valves.id])
        assert (inc.ended_at - inc.started_at) == timedelta(hours=13) and inc.status == "closed"
        assert incidents.list_incidents(session, kind="weather", since=t0, until=t0 + timedelta(seconds=1)).total == 1
        assert incidents.list_incidents(session, since=t0 + timedelta(seconds=1)).total == 0
