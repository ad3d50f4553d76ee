"""Password reset and unlock requests: their rows, the daily limit, the cool-down and one-time codes.

A one-time code has 6 digits, lasts 10 minutes and allows 3 tries. Only its
salted scrypt hash is stored; the code itself goes to the employee's
alternate address and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.store import AccountRequest, Database

__all__ = ["CODE_TRIES", "CODE_TTL", "AccountRequests", "CodeCheck"]

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
CODE_TRIES = 3
FAILED = ("failed", "locked_out")
"""Statuses that start the cool-down: the directory failed, or the code was wrong three times."""
COUNTED = ("new", "waiting", "approved", "running", "done", "failed", "locked_out", "expired_code", "denied",
           "expired")
"""Every request the employee confirmed counts against the daily limit, however it ended."""

CodeCheck = Literal["ok", "wrong", "expired", "locked_out", "gone"]


def _hash(code: str, salt: bytes) -> str:
    return hashlib.scrypt(code.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32).hex()


class AccountRequests:
    """Reads and writes ``account_request`` rows."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def create(self, *, requester: str, target: str, action: str, method: str) -> AccountRequest:
        """A new request in status ``new``."""
        now = self.clock()
        row = AccountRequest(requester=requester, target=target, action=action, method=method,
                             created_at=now, updated_at=now)

        def add(session: Session) -> AccountRequest:
            session.add(row)
            session.flush()
            session.refresh(row)
            return row

        return await self.db.run(add)

    async def get(self, request_id: int) -> AccountRequest | None:
        """One request by id."""
        return await self.db.run(lambda session: session.get(AccountRequest, request_id))

    async def update(self, request_id: int, **values: Any) -> bool:
        """Change some columns of a request; False if there is no such request."""
        return await self._change(request_id, values)

    async def finish(self, request_id: int, status: str, *, only_from: tuple[str, ...], **values: Any) -> bool:
        """Move a request to ``status`` only if it is in one of ``only_from`` (so nothing happens twice)."""
        return await self._change(request_id, {**values, "status": status}, only_from)

    async def _change(self, request_id: int, values: dict[str, Any], only_from: tuple[str, ...] | None = None
                      ) -> bool:
        now = self.clock()

        def change(session: Session) -> bool:
            row = session.get(AccountRequest, request_id, with_for_update=True)
            if row is None or (only_from is not None and row.status not in only_from):
                return False
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            session.add(row)
            return True

        return await self.db.run(change)

    async def resets_today(self, target: str) -> int:
        """How many password resets for ``target`` were asked for in the last 24 hours."""
        since = self.clock() - timedelta(days=1)
        return await self.db.run(lambda session: session.exec(
            select(func.count()).select_from(AccountRequest).where(
                AccountRequest.target == target, AccountRequest.action == "reset_password",
                col(AccountRequest.status).in_(COUNTED), col(AccountRequest.created_at) >= since)
        ).one())

    async def cooling_down_until(self, target: str, cooldown: timedelta) -> datetime | None:
        """When ``target`` may ask again after a recent failure, or None if they may now."""
        since = self.clock() - cooldown

        def latest(session: Session) -> datetime | None:
            row = session.exec(
                select(AccountRequest).where(AccountRequest.target == target, col(AccountRequest.status).in_(FAILED),
                                             col(AccountRequest.updated_at) >= since)
                .order_by(col(AccountRequest.updated_at).desc())
            ).first()
            return None if row is None else row.updated_at + cooldown

        return await self.db.run(latest)

    async def last_done(self, target: str) -> datetime | None:
        """When the bot last reset ``target``'s password."""
        row = await self.db.run(lambda session: session.exec(
            select(AccountRequest).where(AccountRequest.target == target, AccountRequest.action == "reset_password",
                                         AccountRequest.status == "done")
            .order_by(col(AccountRequest.updated_at).desc())).first())
        return None if row is None else row.updated_at

    async def issue_code(self, request_id: int) -> str:
        """A fresh 6-digit code for the request; only its hash is kept."""
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_bytes(16)
        await self.update(request_id, code_hash=_hash(code, salt), code_salt=salt.hex(),
                          code_expires_at=self.clock() + CODE_TTL, code_attempts=0, status="waiting")
        return code

    async def check_code(self, request_id: int, code: str) -> tuple[CodeCheck, int]:
        """Check a typed code: (outcome, tries left). Three wrong tries lock the request out."""
        now = self.clock()
        typed = "".join(ch for ch in code if ch.isdigit())

        def check(session: Session) -> tuple[CodeCheck, int]:
            row = session.get(AccountRequest, request_id, with_for_update=True)
            if row is None or row.status != "waiting" or not row.code_hash or not row.code_salt:
                return "gone", 0
            row.updated_at = now
            if row.code_expires_at is None or now >= row.code_expires_at:
                row.status, row.code_hash = "expired_code", None
                session.add(row)
                return "expired", 0
            if len(typed) == CODE_DIGITS and hmac.compare_digest(_hash(typed, bytes.fromhex(row.code_salt)),
                                                                 row.code_hash):
                row.code_hash, row.status = None, "approved"
                session.add(row)
                return "ok", CODE_TRIES - row.code_attempts
            row.code_attempts += 1
            left = CODE_TRIES - row.code_attempts
            if left <= 0:
                row.status, row.code_hash, row.failure = "locked_out", None, "code"
            session.add(row)
            return ("locked_out" if left <= 0 else "wrong"), max(left, 0)

        return await self.db.run(check)
