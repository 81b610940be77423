"""One error body for every failure: {"error": {"code", "message", "message_zh", "details"}}.

Use-case errors (runze.ops.errors) map to HTTP statuses here; FastAPI's request validation (422), Starlette's
HTTP errors (404 for unknown paths, 405 ...) and unexpected exceptions (500, logged) get the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from runze.ops import errors as ops_errors

log = logging.getLogger("runze.web")

STATUS_OF: list[tuple[type[ops_errors.OpsError], int]] = [
    (ops_errors.NotFound, 404),
    (ops_errors.Conflict, 409),  # IllegalTransition and StaleVersion too
    (ops_errors.VersionRequired, 428),
    (ops_errors.InvalidInput, 422),
    (ops_errors.AuthenticationFailed, 401),
    (ops_errors.PermissionDenied, 403),
]
HTTP_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
              422: "invalid_input", 428: "version_required", 500: "internal_error"}


def error_response(status: int, code: str, message: str, *, message_zh: str = "",
                   details: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "message_zh": message_zh, "details": details or {}}}
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def status_of(exc: ops_errors.OpsError) -> int:
    for cls, status in STATUS_OF:
        if isinstance(exc, cls):
            return status
    return 400


async def _ops_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ops_errors.OpsError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, exc.code, exc.message, message_zh=exc.message_zh, details=exc.details,
                          headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"location": list(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]
    first = problems[0] if problems else {"location": [], "message": "invalid request"}
    where = ".".join(str(p) for p in first["location"])
    return error_response(422, "invalid_input", f"{where}: {first['message']}" if where else first["message"],
                          message_zh="请求参数有误", details={"problems": problems})


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return error_response(exc.status_code, HTTP_CODES.get(exc.status_code, "error"), message,
                          headers=getattr(exc, "headers", None))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "internal_error", "internal error; the request changed nothing",
                          message_zh="服务器内部错误，本次请求未做任何修改")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ops_errors.OpsError, _ops_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


# documented on every route so that the OpenAPI spec names the error shape
def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    from runze.web.schemas.common import ErrorBody

    return {status: {"model": ErrorBody, "description": HTTP_CODES.get(status, "error")} for status in statuses}
