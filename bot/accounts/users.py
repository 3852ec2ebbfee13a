"""Users of the consoles, their roles and passwords (argon2id, argon2-cffi's
defaults: RFC 9106's second recommended parameter set). A hash made with
older parameters is upgraded at the next successful login."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.audit import audit
from bot.db.schema import console_users
from bot.texts import staff

ROLES = ("admin", "agent")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases take the same time.
_DUMMY = _hasher.hash("not a password of anyone")


class AccountError(ValueError):
    """A username, role or password that cannot be accepted; the message says which."""


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    role: str

    def may(self, role: str) -> bool:
        """An admin may do what an agent may; an agent only that."""
        return self.role == role or self.role == "admin"


class Accounts:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create(
        self, username: str, password: str, role: str, display_name: str = "", actor: str = "system"
    ) -> Account:
        if not USERNAME.match(username):
            raise AccountError(staff.ACCOUNT_USERNAME)
        if role not in ROLES:
            raise AccountError(staff.ACCOUNT_ROLE.format(roles=" / ".join(ROLES)))
        if len(password) < MIN_PASSWORD:
            raise AccountError(staff.ACCOUNT_PASSWORD.format(n=MIN_PASSWORD))
        hashed = await asyncio.to_thread(_hasher.hash, password)  # ~50 ms of CPU: off the event loop
        try:
            async with self.engine.begin() as conn:
                row = await conn.execute(
                    insert(console_users)
                    .values(username=username, display_name=display_name or username, password_hash=hashed, role=role)
                    .returning(console_users.c.id)
                )
                new_id = int(row.scalar_one())
                await audit(conn, actor, "account.create", username, role=role)
        except IntegrityError as exc:
            raise AccountError(staff.ACCOUNT_EXISTS.format(username=username)) from exc
        return Account(new_id, username, display_name or username, role)

    async def set_password(self, username: str, password: str, actor: str = "system") -> int:
        """→ the account's id: its live logins must end (``ConsoleSessions.end_all``)."""
        if len(password) < MIN_PASSWORD:
            raise AccountError(staff.ACCOUNT_PASSWORD.format(n=MIN_PASSWORD))
        hashed = await asyncio.to_thread(_hasher.hash, password)
        return await self._change(username, actor, "account.password", password_hash=hashed)

    async def deactivate(self, username: str, actor: str = "system") -> int:
        """The account can no longer log in (kept for the audit log); → its id, whose logins must end."""
        return await self._change(username, actor, "account.deactivate", active=False)

    async def _change(self, username: str, actor: str, action: str, **values: object) -> int:
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(console_users)
                .where(console_users.c.username == username)
                .values(**values)
                .returning(console_users.c.id)
            )
            account_id = done.scalar_one_or_none()
            if account_id is None:
                raise AccountError(staff.ACCOUNT_MISSING.format(username=username))
            await audit(conn, actor, action, username)
        return int(account_id)

    async def verify(self, username: str, password: str) -> Account | None:
        """The account when the password is right and the account active; else None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(console_users).where(console_users.c.username == username))).first()
        stored = row.password_hash if row is not None else _DUMMY
        try:
            await asyncio.to_thread(_hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        values: dict[str, object] = {"last_login_at": datetime.now(UTC)}
        if _hasher.check_needs_rehash(stored):
            values["password_hash"] = await asyncio.to_thread(_hasher.hash, password)
        async with self.engine.begin() as conn:
            await conn.execute(update(console_users).where(console_users.c.id == row.id).values(**values))
        return Account(int(row.id), row.username, row.display_name, row.role)

    async def get(self, account_id: int) -> Account | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(console_users).where(console_users.c.id == account_id))).first()
        if row is None or not row.active:
            return None
        return Account(int(row.id), row.username, row.display_name, row.role)
