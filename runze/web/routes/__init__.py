"""The API's routers, mounted under /api by `runze.web.app.create_app` in this order.

Analyses (simulate, dispatch, outage, leaks) are mounted by adding their router to ROUTERS as they land;
each must guard every route with `require(action)` (runze.web.deps) and add its actions to the permission
table in runze.ops.auth.
"""

from __future__ import annotations

from fastapi import APIRouter

from runze.web.routes import (
    analysis_dispatch,
    analysis_leaks,
    analysis_network,
    analysis_outage,
    audit,
    auth,
    crews,
    health,
    incidents,
    networks,
    telemetry,
    users,
    workorders,
)

ROUTERS: list[APIRouter] = [
    health.router,
    auth.router,
    users.router,
    crews.router,
    workorders.router,
    incidents.router,
    networks.router,
    audit.router,
    telemetry.router,
    analysis_network.router,  # dashboard: map, simulation, overview (issue 10)
    analysis_outage.router,
    analysis_dispatch.router,
    analysis_leaks.router,  # 漏损: leak detection runs
    # analyses mount here: simulate.router, dispatch.router, outage.router, leaks.router
]

# issue 8: 报装 / 获得用水, 党建+业务, the monthly report
from runze.web.routes import connections, party, reports  # noqa: E402

ROUTERS += [connections.router, party.router, reports.router]
