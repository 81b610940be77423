"""Schemas shared by every resource: the page envelope and the error body."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="rows matching the filters, all pages together")
    limit: int
    offset: int


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. illegal_transition, stale_version")
    message: str
    message_zh: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    error: ErrorDetail


class ORMModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def page_of(model: type[BaseModel], page: Any) -> dict[str, Any]:
    """A `runze.ops` Page as the API's page envelope."""
    return {
        "items": [model.model_validate(item) for item in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
    }
