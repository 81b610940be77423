"""Storage: SQLAlchemy 2 models, the engine/session factory and the Alembic migrations (runze.store.migrations).

Only `runze.ops` imports this package; the web service and the CLI go through `runze.ops`.
"""

from runze.store import telemetry_models  # noqa: F401  (registers the telemetry tables, issue 9)
from runze.store.base import Base
from runze.store.engine import make_engine, make_session_factory
from runze.store.incidents import Incident, IncidentEntry
from runze.store.networks import NetworkAsset, NetworkVersion
from runze.store.users import AuditEntry, User
from runze.store.work import Crew, CrewMember, WorkOrder, WorkOrderAsset

__all__ = [
    "AuditEntry", "Base", "Crew", "CrewMember", "Incident", "IncidentEntry", "NetworkAsset", "NetworkVersion",
    "User", "WorkOrder", "WorkOrderAsset", "make_engine", "make_session_factory",
]
