"""Storage: SQLAlchemy 2 models, the engine/session factory and the Alembic migrations (runze.store.migrations).

Only `runze.ops` imports this package; the web service and the CLI go through `runze.ops`.
"""

from runze.store import (  # noqa: F401  (imported to register their tables on the metadata)
    connections_models,  # issue 8: new connections
    jobs_models,  # dashboard analysis jobs shared by the workers
    party_models,  # issue 8: party building
    report_models,  # issue 8: monthly report inputs
    telemetry_models,  # issue 9: telemetry
)
from runze.store.base import Base
from runze.store.engine import make_engine, make_session_factory
from runze.store.incidents import Incident, IncidentEntry
from runze.store.jobs_models import AnalysisJob
from runze.store.networks import NetworkAsset, NetworkVersion
from runze.store.users import AuditEntry, User
from runze.store.work import Crew, CrewMember, WorkOrder, WorkOrderAsset

__all__ = [
    "AnalysisJob", "AuditEntry", "Base", "Crew", "CrewMember", "Incident", "IncidentEntry", "NetworkAsset",
    "NetworkVersion", "User", "WorkOrder", "WorkOrderAsset", "make_engine", "make_session_factory",
]
