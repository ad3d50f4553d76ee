"""Who is talking: map a chat user to an employee, and find where to reach them."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.core.messages import Employee
from bot.core.settings import Settings
from bot.store import ChatAccount, Database, EmployeeRecord, utcnow

__all__ = ["IdentityService"]


class IdentityService:
    """Maps chat users to employees. Technicians come from settings or a channel's own group."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def resolve(
        self,
        channel: str,
        user_id: str,
        *,
        email: str,
        display_name: str = "",
        department: str = "",
        private_conversation: str | None = None,
        technician: bool = False,
    ) -> Employee:
        """Record that ``user_id`` on ``channel`` is ``email`` and return the employee.

        ``technician`` lets a channel add what it knows (a Slack user group);
        the ``HELPDESK_TECHNICIANS`` list always counts.
        """
        email = email.strip().lower()

        def upsert(session: Session) -> EmployeeRecord:
            record = session.exec(select(EmployeeRecord).where(EmployeeRecord.email == email)).first()
            if record is None:
                record = EmployeeRecord(email=email, display_name=display_name, department=department)
            else:
                record.display_name = display_name or record.display_name
                record.department = department or record.department
            session.add(record)
            account = session.exec(
                select(ChatAccount).where(ChatAccount.channel == channel, ChatAccount.user_id == user_id)
            ).first()
            if account is None:
                account = ChatAccount(channel=channel, user_id=user_id, email=email)
            account.email = email
            account.private_conversation = private_conversation or account.private_conversation
            account.updated_at = utcnow()
            session.add(account)
            return record

        record = await self.db.run(upsert)
        return self._employee(record, technician)

    async def lookup(self, email: str) -> Employee | None:
        """The employee with this email, if the bot has met them."""
        email = email.strip().lower()
        record = await self.db.run(
            lambda session: session.exec(select(EmployeeRecord).where(EmployeeRecord.email == email)).first()
        )
        return None if record is None else self._employee(record)

    async def known(self, channel: str, user_id: str) -> tuple[ChatAccount, Employee] | None:
        """The chat account ``user_id`` on ``channel`` and its employee, in one query; None if never resolved."""

        def find(session: Session) -> tuple[ChatAccount, EmployeeRecord] | None:
            row = session.exec(
                select(ChatAccount, EmployeeRecord)
                .join(EmployeeRecord, col(EmployeeRecord.email) == col(ChatAccount.email))
                .where(ChatAccount.channel == channel, ChatAccount.user_id == user_id)
            ).first()
            return None if row is None else (row[0], row[1])

        found = await self.db.run(find)
        return None if found is None else (found[0], self._employee(found[1]))

    async def email_of(self, channel: str, user_id: str) -> str | None:
        """The email recorded for ``user_id`` on ``channel``; None if the bot has not met them there."""
        account = await self._chat_account(channel, user_id)
        return account.email if account is not None else None

    async def private_conversation(self, channel: str, user_id: str) -> str | None:
        """The private chat between the bot and ``user_id`` on ``channel``, if one is recorded."""
        account = await self._chat_account(channel, user_id)
        return account.private_conversation if account is not None else None

    async def _chat_account(self, channel: str, user_id: str) -> ChatAccount | None:
        return await self.db.run(
            lambda session: session.exec(
                select(ChatAccount).where(ChatAccount.channel == channel, ChatAccount.user_id == user_id)
            ).first()
        )

    async def account(self, email: str) -> ChatAccount | None:
        """Where the employee last talked to the bot (their most recent chat account)."""
        email = email.strip().lower()
        return await self.db.run(
            lambda session: session.exec(
                select(ChatAccount).where(ChatAccount.email == email).order_by(col(ChatAccount.updated_at).desc())
            ).first()
        )

    def _employee(self, record: EmployeeRecord, technician: bool = False) -> Employee:
        return Employee(
            email=record.email,
            display_name=record.display_name,
            department=record.department,
            is_technician=technician or self.settings.is_technician(record.email),
            is_manager=self.settings.is_manager(record.email),
        )
