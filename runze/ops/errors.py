"""Errors of the use cases; the web layer maps each class to an HTTP status and the shared error body.

Each error carries a stable `code`, an English message, a Chinese message and `details` (a JSON-able dict)
so that clients can show the user what went wrong and where.
"""

from __future__ import annotations

from typing import Any


class OpsError(Exception):
    code = "error"

    def __init__(self, message: str, *, message_zh: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh
        self.details = details or {}


class NotFound(OpsError):
    code = "not_found"


class Conflict(OpsError):
    """The request is valid but the current state forbids it (illegal transition, duplicate name)."""

    code = "conflict"


class IllegalTransition(Conflict):
    code = "illegal_transition"


class StaleVersion(Conflict):
    """The client's copy is older than the stored one (optimistic locking)."""

    code = "stale_version"


class VersionRequired(OpsError):
    """A change to a versioned record sent without the version it was based on (body `version` or If-Match)."""

    code = "version_required"


class InvalidInput(OpsError):
    """Input that is well-formed but wrong (unknown asset id, bad .inp file, time out of order)."""

    code = "invalid_input"


class AuthenticationFailed(OpsError):
    code = "not_authenticated"


class PermissionDenied(OpsError):
    code = "forbidden"


def not_found(entity: str, entity_id: Any) -> NotFound:
    return NotFound(
        f"{entity} {entity_id} does not exist",
        message_zh=f"{_ZH_ENTITY.get(entity, entity)} {entity_id} 不存在",
        details={"entity": entity, "id": entity_id},
    )


_ZH_ENTITY = {
    "user": "用户",
    "crew": "班组",
    "crew member": "班组成员",
    "work order": "工单",
    "incident": "事件",
    "network version": "管网版本",
}
