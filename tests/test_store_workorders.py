"""The work-order state machine, step times, durations, optimistic locking and atomicity (SQLite and PostgreSQL).

The expected transitions are written out here independently of runze.ops.workorders, so that a change to the
code's table that is not also a deliberate change to this spec fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from runze_db_fixtures import *  # noqa: F403
from sqlalchemy import func, select

from runze.ops import audit, crews
from runze.ops import workorders as wo_ops
from runze.ops.auth import SYSTEM, Actor
from runze.ops.errors import (
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleVersion,
    VersionRequired,
)
from runze.store import AuditEntry, WorkOrder, WorkOrderAsset

REPAIR = {"emergency_repair", "planned_repair"}
ALL_STATES = ["reported", "dispatched", "on_site", "isolated", "repaired", "restored", "closed", "cancelled"]


def expected_legal(kind: str, status: str, isolated: bool) -> set[str]:
    """The spec, stated independently of the code."""
    cancel = {"cancelled"}
    return {
        "reported": {"dispatched"} | cancel,
        "dispatched": {"on_site"} | cancel,
        "on_site": ({"isolated"} if kind in REPAIR else {"isolated", "repaired"}) | cancel,
        "isolated": {"repaired"} | cancel,
        "repaired": ({"restored"} if isolated else {"closed"}) | cancel,
        "restored": {"closed"} | cancel,
        "closed": set(),
        "cancelled": set(),
    }[status]


@pytest.mark.parametrize("kind", wo_ops.KINDS)
def test_every_transition_of_the_table(kind):
    assert list(wo_ops.STATES) == ALL_STATES
    for status in ALL_STATES:
        for isolated in (False, True):
            for target in ALL_STATES:
                why = wo_ops.refusal(kind, status, target, isolated=isolated, has_crew=True, reason="r")
                legal = target in expected_legal(kind, status, isolated)
                assert (why is None) == legal, (kind, status, isolated, target, why)
                if why is not None:
                    assert why[0] and why[1]  # a reason in English and Chinese


def test_guards_on_crew_and_cancel_reason():
    assert wo_ops.refusal("meter_work", "reported", "dispatched", isolated=False, has_crew=False, reason=None)
    for status in wo_ops.OPEN_STATES:
        assert wo_ops.refusal("meter_work", status, "cancelled", isolated=False, has_crew=True, reason="  ")


def _paths(kind: str) -> list[list[str]]:
    full = ["dispatched", "on_site", "isolated", "repaired", "restored", "closed"]
    return [full] if kind in REPAIR else [full, ["dispatched", "on_site", "repaired", "closed"]]


def _audit_count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.fixture
def crew_id(database):
    with database.session() as session:
        return crews.create_crew(session, SYSTEM, name="抢修一班", specialty="repair").id


@pytest.mark.parametrize("kind", wo_ops.KINDS)
def test_walk_every_path_and_refuse_every_illegal_step(database, crew_id, kind):
    t0 = datetime.now(UTC) - timedelta(days=1)
    for path in _paths(kind):
        with database.session() as session:
            wo = wo_ops.create_work_order(session, SYSTEM, kind=kind, title="t", reported_at=t0)
            at = t0
            for step in path:
                status = wo.status
                for target in ALL_STATES:
                    if target in expected_legal(kind, status, wo.isolated_at is not None):
                        continue
                    before_audit, before_version = _audit_count(session), wo.version
                    with pytest.raises(IllegalTransition) as err:
                        wo_ops.transition(session, SYSTEM, wo.id, target, expected_version=wo.version,
                                          crew_id=crew_id, reason="r")
                    assert err.value.details == {"from": status, "to": target, "kind": kind}
                    wo = wo_ops.get_work_order(session, wo.id)
                    assert (wo.status, wo.version, _audit_count(session)) == (status, before_version, before_audit)
                at += timedelta(minutes=30)
                wo = wo_ops.transition(session, SYSTEM, wo.id, step, expected_version=wo.version, at=at,
                                       crew_id=crew_id)
                assert wo.status == step and getattr(wo, f"{step}_at") == at
            assert wo.status == "closed" and wo_ops.legal_next(kind, "closed", isolated=True) == []
            assert wo.version == len(path) + 1


@pytest.mark.parametrize("status_index", range(6))
def test_cancel_from_every_open_state(database, crew_id, status_index):
    path = ["dispatched", "on_site", "isolated", "repaired", "restored"][:status_index]
    with database.session() as session:
        wo = wo_ops.create_work_order(session, SYSTEM, kind="emergency_repair", title="t",
                                      reported_at=datetime.now(UTC) - timedelta(hours=8))
        for step in path:
            wo = wo_ops.transition(session, SYSTEM, wo.id, step, expected_version=wo.version, crew_id=crew_id)
        with pytest.raises(IllegalTransition, match="reason"):
            wo_ops.transition(session, SYSTEM, wo.id, "cancelled", expected_version=wo.version)
        wo = wo_ops.transition(session, SYSTEM, wo.id, "cancelled", expected_version=wo.version, reason="重复报修")
        assert (wo.status, wo.cancel_reason) == ("cancelled", "重复报修")
        for target in ALL_STATES:
            with pytest.raises(IllegalTransition, match="cancelled"):
                wo_ops.transition(session, SYSTEM, wo.id, target, expected_version=wo.version, reason="r")


def test_step_times_and_durations(database, crew_id):
    t0 = datetime(2025, 7, 1, 15, 0, tzinfo=UTC)
    with database.session() as session:
        wo = wo_ops.create_work_order(session, SYSTEM, kind="emergency_repair", title="DN300 爆管", reported_at=t0)
        with pytest.raises(IllegalTransition, match="crew"):
            wo_ops.transition(session, SYSTEM, wo.id, "dispatched", expected_version=1)
        steps = [("dispatched", 10), ("on_site", 45), ("isolated", 70), ("repaired", 250), ("restored", 280),
                 ("closed", 400)]
        for target, minutes in steps:
            wo = wo_ops.transition(session, SYSTEM, wo.id, target, expected_version=wo.version, crew_id=crew_id,
                                   at=t0 + timedelta(minutes=minutes))
    with database.session() as session:
        wo = wo_ops.get_work_order(session, wo.id)
        assert all(getattr(wo, f"{s}_at").utcoffset() == timedelta(0) for s, _ in steps)
        assert wo_ops.durations(wo) == {"time_to_dispatch_s": 600.0, "time_to_site_s": 2700.0,
                                        "time_without_water_s": 210 * 60.0, "repair_s": 205 * 60.0,
                                        "total_s": 400 * 60.0}
        assert wo.crew_id == crew_id


def test_step_times_must_follow_each_other_and_not_be_in_the_future(database, crew_id):
    t0 = datetime.now(UTC) - timedelta(hours=2)
    with database.session() as session:
        wo = wo_ops.create_work_order(session, SYSTEM, kind="meter_work", title="t", reported_at=t0,
                                      crew_id=crew_id)
        with pytest.raises(InvalidInput, match="before the previous step"):
            wo_ops.transition(session, SYSTEM, wo.id, "dispatched", expected_version=1, at=t0 - timedelta(minutes=1))
        with pytest.raises(InvalidInput, match="future"):
            wo_ops.transition(session, SYSTEM, wo.id, "dispatched", expected_version=1,
                              at=datetime.now(UTC) + timedelta(hours=1))
        with pytest.raises(InvalidInput, match="offset"):
            wo_ops.transition(session, SYSTEM, wo.id, "dispatched", expected_version=1, at=datetime(2025, 1, 1))
        assert wo_ops.get_work_order(session, wo.id).status == "reported"


def test_target_state_needs_the_right_permission(database, crew_id):
    crew_member = Actor(id=None, username="crew1", role="crew")
    with database.session() as session:
        wo = wo_ops.create_work_order(session, SYSTEM, kind="meter_work", title="t", crew_id=crew_id,
                                      reported_at=datetime.now(UTC) - timedelta(hours=1))
        with pytest.raises(PermissionDenied):  # dispatching is the dispatch centre's decision
            wo_ops.transition(session, crew_member, wo.id, "dispatched", expected_version=1)
        wo = wo_ops.transition(session, SYSTEM, wo.id, "dispatched", expected_version=1)
        wo = wo_ops.transition(session, crew_member, wo.id, "on_site", expected_version=wo.version)
        wo = wo_ops.transition(session, crew_member, wo.id, "repaired", expected_version=wo.version)
        with pytest.raises(PermissionDenied):
            wo_ops.transition(session, crew_member, wo.id, "closed", expected_version=wo.version)
        assert wo_ops.get_work_order(session, wo.id).status == "repaired"


def test_versions_are_required_and_checked(database):
    with database.session() as session:
        wo = wo_ops.create_work_order(session, SYSTEM, kind="meter_work", title="v1")
        with pytest.raises(VersionRequired):
            wo_ops.update_work_order(session, SYSTEM, wo.id, {"title": "x"}, expected_version=None)
        wo = wo_ops.update_work_order(session, SYSTEM, wo.id, {"title": "v2"}, expected_version=1)
        assert wo.version == 2
        with pytest.raises(StaleVersion) as err:
            wo_ops.update_work_order(session, SYSTEM, wo.id, {"title": "lost"}, expected_version=1)
        assert err.value.details == {"sent_version": 1, "current_version": 2}
        assert wo_ops.get_work_order(session, wo.id).title == "v2"


def test_a_failure_midway_leaves_nothing(database, crew_id, monkeypatch):
    with database.session() as session:
        wo = wo_ops.create_work_order(session, SYSTEM, kind="emergency_repair", title="t", crew_id=crew_id,
                                      reported_at=datetime.now(UTC) - timedelta(hours=1))
        audits = _audit_count(session)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full while writing the audit entry")

    monkeypatch.setattr(audit, "record", boom)  # the last step of every write: everything before it is flushed
    with database.session() as session:
        with pytest.raises(RuntimeError):
            wo_ops.transition(session, SYSTEM, wo.id, "dispatched", expected_version=1)
        with pytest.raises(RuntimeError):
            wo_ops.create_work_order(session, SYSTEM, kind="meter_work", title="half")
        with pytest.raises(RuntimeError):
            wo_ops.update_work_order(session, SYSTEM, wo.id, {"title": "half", "priority": 1}, expected_version=1)
    monkeypatch.undo()
    with database.session() as session:
        stored = session.get(WorkOrder, wo.id)
        assert (stored.status, stored.version, stored.title, stored.dispatched_at) == ("reported", 1, "t", None)
        assert session.scalar(select(func.count()).select_from(WorkOrder)) == 1
        assert session.scalar(select(func.count()).select_from(WorkOrderAsset)) == 0
        assert _audit_count(session) == audits


def test_pages_count_orders_not_joined_rows(database):
    """A page's total rides on a window count and its assets on a join: orders with several assets must still
    make pages of `limit` distinct orders, the total must be the number of orders, past-the-end pages too."""
    with database.session() as session:
        for i in range(9):  # assets straight into the table (the use case would want a network version)
            wo = wo_ops.create_work_order(session, SYSTEM, kind="leak_investigation", title=f"听漏 {i}")
            session.add_all(WorkOrderAsset(work_order_id=wo.id, category="link", asset_id=f"P{i}-{k}")
                            for k in range(i % 4))
            session.commit()
        session.expunge_all()
        seen = []
        for offset in (0, 4, 8):
            page = wo_ops.list_work_orders(session, limit=4, offset=offset)
            assert page.total == 9
            seen += [w.id for w in page.items]
            assert all(len(w.assets) == int(w.title.split()[-1]) % 4 for w in page.items)
        assert len(seen) == len(set(seen)) == 9
        assert wo_ops.list_work_orders(session, limit=4, offset=20).total == 9
        assert wo_ops.list_work_orders(session, kind=["meter_work"]).total == 0


def _as_reading(wo: WorkOrder) -> dict:
    """What the row path must give for a mapped order (the API's readings come from the row path)."""
    data = {key: getattr(wo, key) for key in wo_ops.READ_KEYS}
    data["crew_name"] = wo.crew.name if wo.crew is not None else None
    data["assets"] = [{"category": a.category, "asset_id": a.asset_id} for a in wo.assets]
    return data


def test_row_readings_match_the_mapped_orders(database):
    """read_work_order / list_work_order_reads (Core rows, autocommit session) give what the ORM loads: columns,
    crew name, assets in order, pages, totals (past the end too) and every filter."""
    with database.session() as session:
        crew = crews.create_crew(session, SYSTEM, name="抢修一班")
        t0 = datetime(2025, 7, 1, tzinfo=UTC)
        for i in range(9):
            wo = wo_ops.create_work_order(session, SYSTEM, kind=wo_ops.KINDS[i % 3], title=f"单 {i}",
                                          reported_at=t0 + timedelta(hours=i), crew_id=crew.id if i % 2 else None)
            session.add_all(WorkOrderAsset(work_order_id=wo.id, category="node" if k % 2 else "link",
                                           asset_id=f"A{9 - k}") for k in range(i % 4))
            session.commit()
    filters = [{}, {"status": ["reported"]}, {"kind": [wo_ops.KINDS[1], wo_ops.KINDS[2]]}, {"crew_id": crew.id},
               {"since": t0 + timedelta(hours=2), "until": t0 + timedelta(hours=7)}, {"kind": ["meter_work"]}]
    with database.session() as orm, database.reads() as rows:
        for where in filters:
            for offset in (0, 4, 8, 20):
                expected = wo_ops.list_work_orders(orm, limit=4, offset=offset, **where)
                got = wo_ops.list_work_order_reads(rows, limit=4, offset=offset, **where)
                assert (got.total, got.limit, got.offset) == (expected.total, 4, offset), where
                assert got.items == [_as_reading(w) for w in expected.items], (where, offset)
        for wo in wo_ops.list_work_orders(orm, limit=50).items:
            assert wo_ops.read_work_order(rows, wo.id) == _as_reading(wo)
        with pytest.raises(NotFound):
            wo_ops.read_work_order(rows, 999999)
