"""Roles, the permission table (role → allowed actions), password hashing and access tokens.

The permission table is the single source of truth: the web layer asks `require(action)` on every route, and
the tests walk this table so that what a role may do cannot drift from what the service enforces.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from runze.ops.errors import AuthenticationFailed, PermissionDenied
from runze.settings import Settings
from runze.store import User

ROLES = (
    "admin",
    "dispatcher",
    "network_engineer",
    "crew",
    "customer_service",
    "party_secretary",
    "viewer",
)
ROLE_LABELS = {
    "admin": "系统管理员 / administrator",
    "dispatcher": "调度员 / dispatcher",
    "network_engineer": "管网工程师 / network engineer",
    "crew": "抢修班组 / crew",
    "customer_service": "客服 / customer service",
    "party_secretary": "党支部书记 / party secretary",
    "viewer": "只读 / viewer",
}

READ_ACTIONS = frozenset({"auth:me", "workorders:read", "crews:read", "incidents:read", "networks:read",
                          "analysis:read", "telemetry:read"})  # analysis:read: map, simulation, overview (dashboard)
READ_ACTIONS = READ_ACTIONS | {"connections:read", "party:read", "reports:read"}  # issue 8
ACTIONS = frozenset(
    READ_ACTIONS
    | {
        "users:read",
        "users:manage",
        "crews:manage",
        "workorders:create",
        "workorders:update",
        "workorders:transition",  # route-level; the target state needs one of the two below as well
        "workorders:progress",  # on_site, isolated, repaired, restored: what a crew reports
        "workorders:dispatch",  # dispatched, closed, cancelled: the dispatch centre's decisions
        "incidents:manage",
        "incidents:log",
        "networks:import",
        "audit:read",
        "outage:plan",  # dashboard: plan a shut-off on a pipe (runze.analysis.isolation)
        "dispatch:whatif",  # dashboard: run a dispatch what-if (runze.analysis.dispatch)
        "leaks:run",  # dashboard: run a leak detection demonstration (runze.analysis.leaks)
        "alarms:manage",  # acknowledge and link telemetry alarms (issue 9)
        "connections:manage",  # 报装 applications and their steps (issue 8)
        "party:manage",  # branches, members, posts, activities, competitions (issue 8)
        "party:log",  # members on work orders and incidents, vanguard call-outs (issue 8)
        "reports:manage",  # book a month's volumes and turbidity samples for the monthly report (issue 8)
    }
)

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": ACTIONS,
    "dispatcher": READ_ACTIONS
    | {
        "crews:manage",
        "workorders:create",
        "workorders:update",
        "workorders:transition",
        "workorders:progress",
        "workorders:dispatch",
        "incidents:manage",
        "incidents:log",
        "outage:plan",
        "dispatch:whatif",
        "leaks:run",
        "alarms:manage",
        "party:log",
        "reports:manage",
    },
    "network_engineer": READ_ACTIONS | {"workorders:create", "networks:import", "incidents:log", "outage:plan",
                                        "dispatch:whatif", "leaks:run", "reports:manage"},
    "crew": READ_ACTIONS | {"workorders:transition", "workorders:progress", "incidents:log", "party:log"},
    "customer_service": READ_ACTIONS | {"workorders:create", "incidents:log", "connections:manage"},
    "party_secretary": READ_ACTIONS | {"crews:manage", "audit:read", "party:manage", "party:log"},
    "viewer": READ_ACTIONS,
}
assert set(PERMISSIONS) == set(ROLES) and all(a <= ACTIONS for a in PERMISSIONS.values())


def allowed(role: str, action: str) -> bool:
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}")
    return action in PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: recorded in the audit log.  id None: the system (CLI, demo loader)."""

    id: int | None
    username: str
    role: str

    def require(self, action: str) -> None:
        if not allowed(self.role, action):
            raise PermissionDenied(
                f"role {self.role!r} may not {action}",
                message_zh=f"角色 {self.role} 无权执行 {action}",
                details={"role": self.role, "action": action},
            )


SYSTEM = Actor(id=None, username="system", role="admin")


def actor_of(user: User) -> Actor:
    return Actor(id=user.id, username=user.username, role=user.role)


# ---- passwords ------------------------------------------------------------------------------------------
_hashers: dict[tuple[int, int], PasswordHasher] = {}
# argon2 takes `argon2_memory_kib` (64 MiB by default) per hash: a burst of logins on the server's 40 worker
# threads would need 2.5 GiB, so at most this many hashes run at once and the rest wait their turn
_HASH_SLOTS = threading.BoundedSemaphore(4)


def _hasher(settings: Settings) -> PasswordHasher:
    key = (settings.argon2_time_cost, settings.argon2_memory_kib)
    if key not in _hashers:
        _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return _hashers[key]


def hash_password(password: str, settings: Settings) -> str:
    with _HASH_SLOTS:
        return _hasher(settings).hash(password)


def verify_password(password_hash: str, password: str, settings: Settings) -> bool:
    try:
        with _HASH_SLOTS:
            return _hasher(settings).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_BAD_LOGIN = AuthenticationFailed("wrong user name or password", message_zh="用户名或密码错误")


def authenticate(session: Session, username: str, password: str, settings: Settings) -> User:
    user = session.query(User).filter_by(username=username).one_or_none()
    if user is None:
        hash_password(password, settings)  # same work as a real check: do not reveal which names exist
        raise _BAD_LOGIN
    if not verify_password(user.password_hash, password, settings) or not user.is_active:
        raise _BAD_LOGIN
    return user


# ---- tokens ---------------------------------------------------------------------------------------------
def create_access_token(user: User, settings: Settings, *, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "name": user.username,
        "role": user.role,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=settings.jwt_algorithm)


def _verified_claims(token: str, settings: Settings) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[settings.jwt_algorithm])
        int(claims["sub"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise AuthenticationFailed(
            "invalid or expired token", message_zh="令牌无效或已过期", details={"reason": str(exc)}
        ) from exc
    return claims


def _active_user(session: Session, claims: dict[str, Any]) -> User:
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.is_active:
        raise AuthenticationFailed("the token's user no longer exists or is disabled", message_zh="用户不存在或已停用")
    return user


def user_from_token(session: Session, token: str, settings: Settings) -> User:
    """The active user a token names.  The role is read from the database, so a role change applies at once."""
    return _active_user(session, _verified_claims(token, settings))


def actor_from_token(session: Session, token: str, settings: Settings) -> tuple[Actor, float]:
    """The actor a token names and the token's expiry (epoch seconds), read from the database."""
    claims = _verified_claims(token, settings)
    return actor_of(_active_user(session, claims)), float(claims.get("exp", 0))


# ---- the actor cache of the web service -----------------------------------------------------------------
# Every API request names its user by token.  Looking the user up costs a database round trip and a worker
# thread per request; the cache keeps the answer for `ttl_s` seconds.  A change of role or a disabled account
# (users.update_user) empties the cache of this process at once; other worker processes (and the CLI) are
# seen within `ttl_s`.
_users_generation = 0
_generation_lock = threading.Lock()


def users_changed() -> None:
    """Called after any change of a user's role or state: cached actors are no longer trusted."""
    global _users_generation
    with _generation_lock:
        _users_generation += 1


class ActorCache:
    """token → (actor, valid until); thread-safe enough for the event loop (dict operations are atomic)."""

    def __init__(self, ttl_s: float = 2.0, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Actor, float, int]] = {}

    def get(self, token: str) -> Actor | None:
        hit = self._entries.get(token)
        if hit is None:
            return None
        actor, until, generation = hit
        if generation != _users_generation or time.time() >= until:
            self._entries.pop(token, None)
            return None
        return actor

    def put(self, token: str, actor: Actor, expires_at: float, generation: int) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude but bounded; a full cache of live tokens refills in ttl_s
        self._entries[token] = (actor, min(time.time() + self.ttl_s, expires_at), generation)


def users_generation() -> int:
    """Read before a lookup; an entry stored under an older generation is never served."""
    return _users_generation
