"""The append-only audit log: who did what to whom, and how it ended."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.store import AuditEntry, Database

__all__ = ["AuditLog"]


class AuditLog:
    """Writes and reads audit rows. Callers must never pass a secret in ``detail``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, actor: str, action: str, *, target: str = "", outcome: str = "ok", detail: str = ""
    ) -> None:
        """Append one row."""
        entry = AuditEntry(actor=actor, action=action, target=target, outcome=outcome, detail=detail[:2000])
        await self.db.run(lambda session: session.add(entry))

    def tail(self, limit: int = 20) -> list[AuditEntry]:
        """The newest ``limit`` rows, oldest first."""

        def newest(session: Session) -> list[AuditEntry]:
            rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
            return list(reversed(rows))

        return self.db.call(newest)
