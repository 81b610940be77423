"""Schemathesis fuzzing of the app's own OpenAPI spec: no request, valid or not, may cause a 500, and every
successful answer must match its declared schema.  Small budget (a few examples per operation) to stay quick.
"""

from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from runze_api_fixtures import *  # noqa: F403
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from runze.ops import crews, networks
from runze.ops import workorders as wo_ops
from runze.ops.auth import SYSTEM

EXAMPLES_PER_OPERATION = 5  # ~60 operations (the analyses mount here too): ~30-60 s on the shared machine
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _seed(api) -> None:
    """A few records so that ids 1..3 exist and GET/PATCH on them reach the use cases, not only 404s."""
    from pathlib import Path

    import wntr

    net3 = (Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp").read_text()
    with api.database.session() as session:
        networks.import_network(session, SYSTEM, inp_text=net3, filename="Net3.inp")
        crew = crews.create_crew(session, SYSTEM, name="抢修一班", members=[{"name": "张强"}])
        for kind in ("emergency_repair", "meter_work", "valve_operation"):
            wo_ops.create_work_order(session, SYSTEM, kind=kind, title="t", crew_id=crew.id)


def _warm_up_solver() -> None:
    """The first solver call in a fresh checkout JIT-compiles the numba kernels (tens of seconds on a busy
    2-core machine), longer than the fuzzer's 10 s read timeout: compile them here, so the fuzz run measures
    the API and not the compiler (later runs load the kernels from numba's on-disk cache)."""
    from pathlib import Path

    import wntr

    import runze

    runze.simulate(Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp", duration=2 * 3600)


def test_fuzz_every_operation_without_server_errors(api):
    _seed(api)
    _warm_up_solver()
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    headers = api.headers("admin")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    started, calls = time.perf_counter(), 0
    for operation in operations:
        if operation.path == "/api/auth/token":
            continue  # a real password check per example (argon2) would spend the budget on hashing

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
    assert calls >= len(operations) * 2
    print(f"fuzz: {len(operations)} operations, {calls} requests, {time.perf_counter() - started:.1f} s")
