"""Transactions and pages shared by the use cases.

`unit_of_work` makes a use case atomic: it commits when the function returns and rolls back when it raises,
so a request that fails midway leaves nothing half-written.  A stale optimistic-lock write (SQLAlchemy's
StaleDataError) becomes `StaleVersion`, and a unique/foreign-key violation becomes `Conflict`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from runze.ops.errors import Conflict, StaleVersion

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


def unit_of_work(fn: Callable[P, R]) -> Callable[P, R]:
    """Commit on return, roll back on any exception.  The session is the first positional argument."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session: Session = args[0]  # type: ignore[assignment]
        try:
            result = fn(*args, **kwargs)
            session.commit()
            return result
        except StaleDataError as exc:
            session.rollback()
            raise StaleVersion(
                "someone else changed this record first; reload it and try again",
                message_zh="记录已被他人修改，请刷新后重试",
            ) from exc
        except IntegrityError as exc:
            session.rollback()
            raise Conflict(
                "the change conflicts with stored data (duplicate or still referenced)",
                message_zh="与已有数据冲突（重复或仍被引用）",
                details={"reason": str(exc.orig).splitlines()[0][:300]},
            ) from exc
        except BaseException:
            session.rollback()
            raise

    return wrapper


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(session: Session, query: Select[Any], *, limit: int, offset: int) -> Page[Any]:
    """One page of `query` and the total number of rows it matches.

    The total rides along as a window count (COUNT(*) OVER (), evaluated before LIMIT) in the page's own query:
    one round trip instead of two on every list request.  Only a page past the end (no row to carry it) asks
    a separate COUNT."""
    rows = session.execute(query.add_columns(func.count().over()).limit(limit).offset(offset)).unique().all()
    if rows:
        total = rows[0][1]
    elif offset == 0:
        total = 0
    else:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    return Page(items=[row[0] for row in rows], total=int(total), limit=limit, offset=offset)
