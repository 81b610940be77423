"""Store basics on SQLite and PostgreSQL: migrations, restart persistence, UTC times, append-only audit log,
optimistic locking at the database level."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from runze_db_fixtures import *  # noqa: F403
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm.exc import StaleDataError

from runze.ops import audit, users
from runze.ops import workorders as wo_ops
from runze.ops.auth import SYSTEM
from runze.ops.database import migrate, open_database, schema_state
from runze.store import AuditEntry, WorkOrder
from runze.store.migrate import downgrade, upgrade
from runze.store.users import AuditLogIsAppendOnly

TABLES = {"users", "audit_entries", "crews", "crew_members", "work_orders", "work_order_assets", "incidents",
          "incident_entries", "incident_work_orders", "incident_entry_work_orders", "network_versions",
          "network_assets", "alembic_version"}


def test_migrations_create_every_table_and_go_down_and_up(database):
    tables = set(inspect(database.engine).get_table_names())
    assert TABLES <= tables  # later migrations (telemetry, reports ...) add their own
    current, head = schema_state(database)
    assert current == head and head is not None
    downgrade(database.engine, "base")
    assert set(inspect(database.engine).get_table_names()) == {"alembic_version"}
    upgrade(database.engine)
    upgrade(database.engine)  # idempotent
    assert set(inspect(database.engine).get_table_names()) == tables


def test_init_from_nothing_on_a_new_sqlite_file(tmp_path):
    from runze_db_fixtures import make_settings

    db = open_database(make_settings(), f"sqlite:///{tmp_path / 'sub' / 'dir' / 'new.db'}")
    assert migrate(db) == schema_state(db)[1]
    db.dispose()
    assert (tmp_path / "sub" / "dir" / "new.db").exists()


def test_data_survives_a_restart(settings, database):
    with database.session() as session:
        user = users.create_user(session, SYSTEM, username="wang", password="long-enough", role="dispatcher",
                                 settings=settings)
        wo = wo_ops.create_work_order(session, SYSTEM, kind="meter_work", title="水表更换",
                                      reported_at=datetime(2025, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8))))
    database.dispose()
    again = open_database(settings)  # a new engine: nothing cached in this process
    try:
        with again.session() as session:
            stored = session.get(WorkOrder, wo.id)
            assert stored is not None and stored.title == "水表更换"
            assert stored.reported_at == datetime(2025, 3, 1, 1, 30, tzinfo=UTC)
            assert stored.reported_at.utcoffset() == timedelta(0)
            assert users.get_user(session, user.id).username == "wang"
            assert [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
                "user.create", "workorder.create"]
    finally:
        again.dispose()


def test_naive_times_are_refused(database):
    with database.session() as session:
        session.add(WorkOrder(kind="meter_work", title="x", reported_at=datetime(2025, 1, 1, 8, 0)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_audit_log_refuses_orm_update_and_delete(database):
    with database.session() as session:
        audit.record(session, SYSTEM, "test", "thing", 1, after={"a": 1})
        session.commit()
        entry = session.scalars(select(AuditEntry)).one()
        entry.action = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            session.commit()
        session.rollback()
        session.delete(entry)
        with pytest.raises(AuditLogIsAppendOnly):
            session.commit()
        session.rollback()
        assert session.scalars(select(AuditEntry.action)).all() == ["test"]


@pytest.mark.parametrize("sql", ["UPDATE audit_entries SET action = 'rewritten'", "DELETE FROM audit_entries"])
def test_audit_log_refuses_raw_sql_update_and_delete(database, sql):
    with database.session() as session:
        audit.record(session, SYSTEM, "test", "thing", 1)
        session.commit()
    with database.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(sql))
        conn.rollback()
        assert conn.execute(text("SELECT action FROM audit_entries")).scalars().all() == ["test"]


def test_audit_module_offers_no_way_to_change_entries():
    public = {name for name in dir(audit) if not name.startswith("_")}
    assert not {n for n in public if any(w in n.lower() for w in ("update", "delete", "remove", "edit", "purge"))}


def test_stale_write_from_a_second_session_updates_nothing(database):
    with database.session() as session:
        wo = wo_ops.create_work_order(session, SYSTEM, kind="meter_work", title="original")
    first, second = database.sessions(), database.sessions()
    try:
        a, b = first.get(WorkOrder, wo.id), second.get(WorkOrder, wo.id)
        a.title, b.title = "first writer", "second writer"
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()
        second.rollback()
    finally:
        first.close()
        second.close()
    with database.session() as session:
        stored = session.get(WorkOrder, wo.id)
        assert (stored.title, stored.version) == ("first writer", 2)
