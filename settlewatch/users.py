"""Users of the review app: names, roles and argon2 password hashes in the `users` table.

Roles nest: a viewer reads, an officer also reviews, an admin also manages sources and users.
The API token and the session stamp are derived from the password hash (a secret the server
alone holds, salted per user), so setting a new password revokes both without extra columns.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, select, update

from settlewatch.errors import UsageError
from settlewatch.store.schema import users

Role = Literal["admin", "officer", "viewer"]
ROLES: tuple[Role, ...] = ("viewer", "officer", "admin")  # each can do what the previous can
MIN_PASSWORD = 8
RESERVED = frozenset({"system"})  # the pipeline's own reviews are written as "system"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_TOKEN = re.compile(r"^sw_(\d+)_([0-9a-f]{64})$")
_HASHER = PasswordHasher()


# Verifying against this keeps an unknown name as slow as a wrong password (no user probing).
@cache
def _dummy_hash() -> str:
    # Hashed on first use, not at import: argon2 costs ~0.25 s, paid by every CLI start.
    return _HASHER.hash("settlewatch-no-such-user")


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    disabled: bool
    password_hash: str
    created_at: dt.datetime

    def can(self, role: Role) -> bool:
        """Does this user have ``role`` or a stronger one?"""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(role)

    @property
    def session_stamp(self) -> str:
        """Changes when the password does: old session cookies stop working."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise UsageError(f"--role {role!r} is not a role (fix: one of admin, officer, viewer)")
    return role


def check_name(name: str) -> str:
    if not _NAME.match(name) or name.lower() in RESERVED:
        raise UsageError(
            f"user name {name!r} is not allowed (fix: 1-64 letters, digits, '_', '.', '@' or "
            "'-', starting with a letter or digit; 'system' is reserved)"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"password is too short (fix: use at least {MIN_PASSWORD} characters)")
    return password


def _user(row: object) -> User:
    r = row._mapping  # type: ignore[attr-defined]
    return User(
        r["id"], r["name"], r["role"], bool(r["disabled"]), r["password_hash"], r["created_at"]
    )


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    return _user(row) if row is not None else None


def get_user_by_id(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    return _user(row) if row is not None else None


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(select(users).order_by(users.c.name))]


def add_user(conn: Connection, name: str, role: str, password: str, now: dt.datetime) -> User:
    """Create a user; an existing name is an error (use set_password / set_role)."""
    check_name(name)
    role = check_role(role)
    check_password(password)
    if get_user(conn, name) is not None:
        raise UsageError(f"user {name!r} already exists (fix: choose another name)")
    conn.execute(
        users.insert().values(
            name=name,
            role=role,
            password_hash=_HASHER.hash(password),
            disabled=False,
            created_at=now,
        )
    )
    user = get_user(conn, name)
    assert user is not None
    return user


def _require(conn: Connection, name: str) -> User:
    user = get_user(conn, name)
    if user is None:
        raise UsageError(f"no user {name!r} (fix: create it with `settlewatch users add`)")
    return user


def set_password(conn: Connection, name: str, password: str) -> None:
    _require(conn, name)
    check_password(password)
    conn.execute(
        update(users).where(users.c.name == name).values(password_hash=_HASHER.hash(password))
    )


def set_role(conn: Connection, name: str, role: str) -> None:
    _require(conn, name)
    conn.execute(update(users).where(users.c.name == name).values(role=check_role(role)))


def set_disabled(conn: Connection, name: str, disabled: bool) -> None:
    _require(conn, name)
    conn.execute(update(users).where(users.c.name == name).values(disabled=disabled))


def verify(conn: Connection, name: str, password: str) -> User | None:
    """The user when the name and password match and the account is enabled, else None."""
    user = get_user(conn, name)
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or user.disabled:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        conn.execute(
            update(users).where(users.c.id == user.id).values(password_hash=_HASHER.hash(password))
        )
        user = get_user(conn, name)
    return user


def api_token(user: User) -> str:
    """The user's API token: `Authorization: Bearer <token>`; a new password revokes it."""
    mac = hmac.new(user.password_hash.encode(), b"settlewatch-api-token-v1", hashlib.sha256)
    return f"sw_{user.id}_{mac.hexdigest()}"


def user_for_token(conn: Connection, token: str) -> User | None:
    m = _TOKEN.match(token.strip())
    if not m:
        return None
    user = get_user_by_id(conn, int(m[1]))
    if user is None or user.disabled:
        return None
    return user if hmac.compare_digest(api_token(user), token.strip()) else None
