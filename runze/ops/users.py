"""Users: create, read, change role/name/password, enable/disable (never delete: the audit log names them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from runze.ops import audit
from runze.ops._tx import Page, paginate, unit_of_work
from runze.ops.auth import ROLES, Actor, hash_password, users_changed
from runze.ops.errors import Conflict, InvalidInput, not_found
from runze.settings import Settings
from runze.store import User

MIN_PASSWORD_LENGTH = 8


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(
            f"unknown role {role!r}", message_zh=f"未知角色 {role}", details={"field": "role", "allowed": list(ROLES)}
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            message_zh=f"密码至少 {MIN_PASSWORD_LENGTH} 位",
            details={"field": "password"},
        )


@unit_of_work
def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: str,
    settings: Settings,
    display_name: str = "",
) -> User:
    _check_role(role)
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(
            f"user name {username!r} is taken", message_zh=f"用户名 {username} 已存在", details={"field": "username"}
        )
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password, settings),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, after=audit.snapshot(user))
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def list_users(
    session: Session, *, role: str | None = None, active: bool | None = None, limit: int = 50, offset: int = 0
) -> Page[User]:
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active == active)
    return paginate(session, query, limit=limit, offset=offset)


def update_user(
    session: Session, actor: Actor, user_id: int, changes: dict[str, Any], *, settings: Settings
) -> User:
    """Apply `changes` (display_name, role, is_active, password); unknown keys are refused."""
    try:
        return _update_user(session, actor, user_id, changes, settings=settings)
    finally:  # after the commit (or the rollback): a cached actor must not outlive the old role
        users_changed()


@unit_of_work
def _update_user(
    session: Session, actor: Actor, user_id: int, changes: dict[str, Any], *, settings: Settings
) -> User:
    user = get_user(session, user_id)
    if not changes:  # nothing to do, nothing to audit
        return user
    before = audit.snapshot(user)
    unknown = set(changes) - {"display_name", "role", "is_active", "password"}
    if unknown:
        raise InvalidInput(f"cannot change {sorted(unknown)}", details={"fields": sorted(unknown)})
    if "role" in changes:
        _check_role(changes["role"])
        user.role = changes["role"]
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "is_active" in changes:
        if actor.id == user.id and not changes["is_active"]:
            raise Conflict("you cannot disable your own account", message_zh="不能停用自己的账号")
        user.is_active = bool(changes["is_active"])
    if "password" in changes:
        _check_password(changes["password"])
        user.password_hash = hash_password(changes["password"], settings)
    session.flush()
    after = audit.snapshot(user, extra={"password_changed": "password" in changes})
    audit.record(session, actor, "user.update", "user", user.id, before=before, after=after)
    return user
