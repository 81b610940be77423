"""JSON responses that a route builds itself, for the hot work-order routes.

A route that returns a pydantic object lets FastAPI validate it again against `response_model` and, for a sync
route, does that validation in a second trip through the thread pool (a wait behind every queued request under
load).  A route that returns a `Response` skips both; `response_model` stays on the route for the OpenAPI
document, and the body is the same JSON pydantic would have written.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel, TypeAdapter


def model_json(model: BaseModel, *, status_code: int = 200, etag: int | None = None) -> Response:
    """`model` as a JSON response; `etag`: the record's version, sent as the ETag header."""
    headers = {"ETag": f'"{etag}"'} if etag is not None else None
    return Response(model.model_dump_json(), status_code=status_code, headers=headers, media_type="application/json")


def adapted_json(adapter: TypeAdapter[Any], data: Any, *, status_code: int = 200) -> Response:
    """`data` validated by `adapter` (once: from plain dicts) and written as a JSON response."""
    return Response(adapter.dump_json(adapter.validate_python(data)), status_code=status_code,
                    media_type="application/json")
