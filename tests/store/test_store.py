"""The store on SQLite and PostgreSQL: migrations, event dedup, conversation state, approvals, tickets."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, col, select

from bot.core.errors import UserFacingError
from bot.core.messages import Employee, Turn
from bot.core.pending import ConfirmPending, SlotPending, decode_pending
from bot.engine.conversations import ConversationStore
from bot.integrations.tickets import LocalTicketQueue
from bot.services.approvals import ApprovalService
from bot.services.audit import AuditLog
from bot.store import Approval, AuditEntry, ConversationState, Database
from bot.store.database import MIGRATIONS
from tests.support import Clock

TTL = timedelta(minutes=30)
EMPLOYEE = Employee("emma@city.example", "Emma")
TOM = Employee("tom@city.example", "Tom", is_technician=True)
TIA = Employee("tia@city.example", "Tia", is_technician=True)


def _audit_rows(db: Database) -> list[AuditEntry]:
    """Every audit row, oldest first."""
    return db.call(lambda session: list(session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()))


def _service(db: Database, clock: Clock) -> ApprovalService:
    return ApprovalService(db, AuditLog(db), TTL, clock)


async def _request(service: ApprovalService, requester: Employee = EMPLOYEE, action: str = "reset_password"
) -> Approval:
    return await service.create(
        skill="accounts", action=action, summary=f"Reset the password of {requester.email}",
        requester=requester, channel="console", conversation=requester.email,
        details=[("Account", requester.email)], data={"kind": "password"},
    )


# Migrations -------------------------------------------------------------------


def test_migrations_create_every_table(migrated_from_empty: Database) -> None:
    """After ``migrate`` every table of the models exists, plus Alembic's version table."""
    tables = set(inspect(migrated_from_empty.engine).get_table_names())
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrations_match_the_models(migrated_from_empty: Database) -> None:
    """Alembic's autogenerate comparison finds nothing to add: the migrations and the models agree."""
    with migrated_from_empty.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrate_twice_is_harmless(migrated_from_empty: Database) -> None:
    """``helpdesk db upgrade`` on an up-to-date database changes nothing and keeps the data."""
    migrated_from_empty.call(lambda session: session.add(AuditEntry(actor="a", action="x", outcome="ok")))
    migrated_from_empty.migrate()
    migrated_from_empty.migrate()
    assert [row.actor for row in _audit_rows(migrated_from_empty)] == ["a"]
    with migrated_from_empty.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    assert current == ScriptDirectory(str(MIGRATIONS)).get_current_head()


# Processed events ----------------------------------------------------------------


async def test_first_time_rejects_a_repeated_event(database: Database) -> None:
    """An event id is new once per channel; the same id on another channel is a different event."""
    store = ConversationStore(database)
    assert await store.first_time("slack", "Ev001") is True
    assert await store.first_time("slack", "Ev001") is False
    assert await store.first_time("teams", "Ev001") is True
    assert await store.first_time("slack", "Ev002") is True
    assert await store.first_time("teams", "Ev001") is False


# Conversation state ----------------------------------------------------------------


async def test_conversation_state_survives_a_restart(database: Database) -> None:
    """Pending JSON, the last intent and the miss count read back intact through a new Database."""
    turn = Turn(channel="console", user_id="emma@city.example", conversation_id="C1")
    waiting = SlotPending("tickets", "open_ticket", "summary",
                          {"system": "vpn", "urgency": "high", "tags": ["a", "b"], "n": 3, "ok": True})
    pending = {"kind": "slot", "skill": "tickets", "intent": "open_ticket", "awaiting": "summary",
               "slots": {"system": "vpn", "urgency": "high", "tags": ["a", "b"], "n": 3, "ok": True}}
    await ConversationStore(database).save(turn, pending=waiting, last_intent="open_ticket", misses=1)

    restarted = Database(database.url)
    try:
        state = await ConversationStore(restarted).load(turn)
        assert state.pending == pending
        assert decode_pending(state.pending) == waiting
        assert state.last_intent == "open_ticket"
        assert state.misses == 1
        other = await ConversationStore(restarted).load(
            Turn(channel="console", user_id="emma@city.example", conversation_id="C2")
        )
        assert other.pending == {} and other.misses == 0
        # Leaving a field out leaves it alone; pending=None clears the pending step.
        await ConversationStore(restarted).save(turn, misses=2)
        assert (await ConversationStore(restarted).load(turn)).pending == pending
        await ConversationStore(restarted).save(turn, pending=None)
        state = await ConversationStore(database).load(turn)
        assert state.pending == {} and state.misses == 2 and state.last_intent == "open_ticket"
    finally:
        restarted.close()


async def test_a_pending_step_stored_before_the_typed_values_still_loads(database: Database) -> None:
    """A row written as the old string-keyed dict (no ``data``, no ``slots``) reads as its typed value."""
    turn = Turn(channel="console", user_id="emma@city.example", conversation_id="C1")
    store = ConversationStore(database)
    await store.save(turn, misses=0)
    old = {"kind": "confirm", "skill": "tickets", "action": "file", "nonce": "ab12cd34"}

    def write(session: Session) -> None:
        row = session.exec(select(ConversationState)).one()
        row.pending = old
        session.add(row)

    await database.run(write)
    assert decode_pending((await store.load(turn)).pending) == ConfirmPending("tickets", "file", {}, "ab12cd34")


# Approvals ------------------------------------------------------------------------


async def test_create_stores_a_pending_approval_and_audits_it(database: Database, clock: Clock) -> None:
    """A new approval is pending, expires after the TTL, keeps its details, and is audited."""
    service = _service(database, clock)
    approval = await _request(service)
    assert approval.id is not None
    stored = await service.get(approval.id)
    assert stored is not None
    assert stored.status == "pending"
    assert stored.requester == EMPLOYEE.email and stored.target == EMPLOYEE.email
    assert stored.details == [["Account", EMPLOYEE.email]] and stored.data == {"kind": "password"}
    assert stored.expires_at == clock.now + TTL
    assert [a.id for a in await service.pending()] == [approval.id]
    [row] = _audit_rows(database)
    assert (row.actor, row.action, row.outcome) == (EMPLOYEE.email, "approval.request:reset_password", "pending")
    assert f"#{approval.id}" in row.detail


async def test_two_concurrent_decisions_accept_exactly_one(database: Database, clock: Clock) -> None:
    """Approve and deny clicked at once by two technicians: one wins and the row says which."""
    service = _service(database, clock)
    approval = await _request(service)
    assert approval.id is not None
    approve, deny = await asyncio.gather(
        service.decide(approval.id, TOM, True), service.decide(approval.id, TIA, False)
    )
    accepted = [d for d in (approve, deny) if d.accepted]
    assert len(accepted) == 1
    winner = accepted[0]
    loser = deny if winner is approve else approve
    assert loser.reason  # the loser is told why
    row = await service.get(approval.id)
    assert row is not None
    expected_status, expected_by = ("approved", TOM.email) if winner is approve else ("denied", TIA.email)
    assert (row.status, row.decided_by) == (expected_status, expected_by)
    assert row.decided_at == clock.now
    decisions = [r for r in _audit_rows(database) if r.action.startswith(("approval.approved:", "approval.denied:"))]
    assert [(r.actor, r.outcome) for r in decisions] == [(expected_by, expected_status)]
    assert await service.pending() == []


async def test_a_decided_approval_cannot_be_decided_again(database: Database, clock: Clock) -> None:
    """A second click after a decision is refused and names who decided."""
    service = _service(database, clock)
    approval = await _request(service)
    assert approval.id is not None
    assert (await service.decide(approval.id, TOM, False)).accepted
    again = await service.decide(approval.id, TIA, True)
    assert not again.accepted
    assert "already denied by tom@city.example" in again.reason
    assert (await service.get(approval.id)).status == "denied"  # type: ignore[union-attr]
    assert (await service.decide(9999, TOM, True)).approval is None


async def test_self_approval_and_non_technicians_are_refused_and_audited(database: Database, clock: Clock) -> None:
    """A technician cannot approve their own request, an employee cannot approve at all; both are audited."""
    service = _service(database, clock)
    own = await _request(service, requester=TOM)
    assert own.id is not None
    mine = await service.decide(own.id, TOM, True)
    assert not mine.accepted and "own request" in mine.reason
    other = await service.decide(own.id, EMPLOYEE, True)
    assert not other.accepted and "Only technicians" in other.reason
    assert (await service.get(own.id)).status == "pending"  # type: ignore[union-attr]
    refused = [(r.actor, r.outcome) for r in _audit_rows(database) if r.outcome == "refused"]
    assert refused == [(TOM.email, "refused"), (EMPLOYEE.email, "refused")]
    assert (await service.decide(own.id, TIA, True)).accepted


async def test_expire_due_expires_only_overdue_rows_and_only_once(database: Database, clock: Clock) -> None:
    """Only approvals past their time expire, each exactly once, with one audit row each."""
    service = _service(database, clock)
    early = await _request(service, action="reset_password")
    clock.advance(minutes=20)
    late = await _request(service, action="unlock_account")
    decided = await _request(service, action="reset_password")
    assert early.id and late.id and decided.id
    assert (await service.decide(decided.id, TOM, True)).accepted

    clock.advance(minutes=9)  # early is 29 minutes old: nothing is due
    assert await service.expire_due() == []
    clock.advance(minutes=1)  # early is exactly 30 minutes old: due
    expired = await service.expire_due()
    assert [a.id for a in expired] == [early.id]
    assert expired[0].status == "expired" and expired[0].decided_by is None
    assert await service.expire_due() == []
    assert (await service.get(late.id)).status == "pending"  # type: ignore[union-attr]
    assert (await service.get(decided.id)).status == "approved"  # type: ignore[union-attr]

    clock.advance(hours=1)
    assert [a.id for a in await service.expire_due()] == [late.id]
    assert await service.expire_due() == []
    expiries = [r for r in _audit_rows(database) if r.outcome == "expired"]
    assert [(r.actor, r.action) for r in expiries] == [
        ("system", "approval.expire:reset_password"), ("system", "approval.expire:unlock_account"),
    ]


async def test_deciding_an_overdue_approval_expires_it(database: Database, clock: Clock) -> None:
    """A click after the deadline is refused, and that click is the one that expires the row."""
    service = _service(database, clock)
    approval = await _request(service)
    assert approval.id is not None
    clock.advance(minutes=31)
    decision = await service.decide(approval.id, TOM, True)
    assert not decision.accepted and decision.expired_now
    assert decision.approval is not None and decision.approval.status == "expired"
    again = await service.decide(approval.id, TIA, True)
    assert not again.accepted and not again.expired_now
    assert "already expired" in again.reason


async def test_complete_works_once_and_only_after_approval(database: Database, clock: Clock) -> None:
    """``complete`` moves approved to done once; pending or denied requests cannot be completed."""
    service = _service(database, clock)
    approved = await _request(service)
    denied = await _request(service)
    assert approved.id and denied.id
    assert await service.complete(approved.id, TOM.email) is False  # still pending
    assert (await service.decide(approved.id, TOM, True)).accepted
    assert (await service.decide(denied.id, TOM, False)).accepted
    assert await service.complete(approved.id, TIA.email) is True
    assert await service.complete(approved.id, TIA.email) is False
    assert await service.complete(denied.id, TIA.email) is False
    done = await service.get(approved.id)
    assert done is not None and done.status == "done"
    assert done.decided_by == TOM.email  # completing does not rewrite who approved
    assert (await service.get(denied.id)).status == "denied"  # type: ignore[union-attr]


# Built-in tickets -----------------------------------------------------------------


async def test_local_ticket_queue(database: Database, clock: Clock) -> None:
    """Keys count up, lookups ignore case, lists are per reporter, comments and status changes stick."""
    queue = LocalTicketQueue(database, "HELP", clock)
    first = await queue.create(reporter="Emma@City.example", summary="VPN drops", system="vpn", urgency="high")
    clock.advance(minutes=1)
    second = await queue.create(reporter="emma@city.example", summary="Printer jam", system="printer",
                                urgency="whenever")
    other = await queue.create(reporter="omar@city.example", summary="VPN slow", system="vpn")
    assert [first.key, second.key, other.key] == ["HELP-1", "HELP-2", "HELP-3"]
    assert first.reporter == "emma@city.example" and first.status == "open" and first.is_open
    assert second.urgency == "normal"  # unknown urgencies fall back

    found = await queue.get(" help-1 ")
    assert found is not None and found.summary == "VPN drops" and found.urgency == "high"
    assert await queue.get("HELP-99") is None

    assert [t.key for t in await queue.list_for("EMMA@city.example")] == ["HELP-2", "HELP-1"]
    assert [t.key for t in await queue.list_for("omar@city.example")] == ["HELP-3"]
    assert [t.key for t in await queue.list_open()] == ["HELP-1", "HELP-2", "HELP-3"]

    vpn = await queue.find_open("emma@city.example", "vpn")
    assert vpn is not None and vpn.key == "HELP-1"
    assert await queue.find_open("emma@city.example", "email") is None
    assert await queue.find_open("emma@city.example", "") is None

    assert first.last_comment is None
    clock.advance(minutes=5)
    await queue.comment("help-1", "Tom@City.example", "Looking into it")
    commented = await queue.comment("HELP-1", "tom@city.example", "Fixed the tunnel config")
    assert commented.last_comment == "Fixed the tunnel config"
    assert commented.updated_at == clock.now
    assert (await queue.get("HELP-1")).last_comment == "Fixed the tunnel config"  # type: ignore[union-attr]

    assigned = await queue.update("HELP-2", assignee="TIA@city.example", status="in progress")
    assert assigned.assignee == "tia@city.example" and assigned.is_open
    closed = await queue.update("HELP-1", status="closed")
    assert closed.status == "closed" and not closed.is_open
    assert [t.key for t in await queue.list_for("emma@city.example")] == ["HELP-2"]
    assert [t.key for t in await queue.list_for("emma@city.example", open_only=False)] == ["HELP-2", "HELP-1"]
    assert await queue.find_open("emma@city.example", "vpn") is None
    assert [t.key for t in await queue.list_open()] == ["HELP-2", "HELP-3"]

    with pytest.raises(UserFacingError, match="HELP-404"):
        await queue.comment("HELP-404", "tom@city.example", "hello?")
