"""Approvals end to end: an employee asks for a reset, technicians decide in their conversation."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Bot
from bot.core.messages import Employee
from bot.nlu import EmbeddedParser
from bot.store import Approval, AuditEntry
from tests.support import Chat, Clock, button, texts

ANN, TOM, TIA, BOB = "ann@city.example", "tom@city.example", "tia@city.example", "bob@city.example"


async def ask_for_reset(chat: Chat, who: str = ANN) -> str:
    """``who`` asks for a reset and confirms; returns the Approve button id posted to technicians."""
    lines = await chat.say(who, "I forgot my password")
    lines = await chat.click(who, button(lines, "Yes"))
    card = [line for line in lines if line["to"] == "technicians"]
    assert len(card) == 1 and "Approval needed" in card[0]["text"]
    return button(card, "Approve")


def audit(bot: Bot) -> list[tuple[str, str, str]]:
    """(actor, action, outcome) of every audit row, in order."""
    rows = bot.db.call(lambda s: s.exec(select(AuditEntry).order_by(AuditEntry.id)).all())
    return [(r.actor, r.action, r.outcome) for r in rows]


def approval_status(bot: Bot) -> str:
    """The status of the only approval."""
    rows = bot.db.call(lambda s: s.exec(select(Approval)).all())
    assert len(rows) == 1
    return rows[0].status


async def test_granted_then_done_by_hand(chat: Chat, bot: Bot) -> None:
    """A technician approves; the card updates in place, a task appears, Done tells the employee once."""
    approve = await ask_for_reset(chat)
    lines = await chat.click(TOM, approve)
    update = next(line for line in lines if line.get("replaces") == "approval:1")
    assert "Approved by tom@city.example" in update["text"] and update["buttons"] == []
    assert "approved by tom@city.example" in texts(lines, to=ANN)
    done = button(lines, "Done")
    lines = await chat.click(TIA, done)
    assert any(line.get("replaces") == "accounts-task:1" for line in lines)
    assert "is done" in texts(lines, to=ANN)
    again = await chat.click(TOM, done)
    assert "not open any more" in texts(again) and texts(again, to=ANN) == ""
    assert approval_status(bot) == "done"
    assert (ANN, "approval.request:reset_password", "pending") in audit(bot)
    assert (TOM, "approval.approved:reset_password", "approved") in audit(bot)
    assert (TIA, "accounts.reset_password", "done") in audit(bot)


async def test_denied(chat: Chat, bot: Bot) -> None:
    """A denial is shown on the card and told to the employee; a second click changes nothing."""
    approve = await ask_for_reset(chat)
    lines = await chat.click(TOM, approve.replace(":approve", ":deny"))
    assert "Denied by tom@city.example" in texts(lines, to="technicians")
    assert "not approved" in texts(lines, to=ANN)
    late = await chat.click(TIA, approve)
    assert "already denied by tom@city.example" in texts(late)
    assert approval_status(bot) == "denied"
    assert (TOM, "approval.denied:reset_password", "denied") in audit(bot)


async def test_expired(chat: Chat, bot: Bot, clock: Clock) -> None:
    """Past HELPDESK_APPROVAL_TTL the request expires, the employee gets a ticket, and a late click is refused."""
    approve = await ask_for_reset(chat)
    clock.advance(minutes=31)
    expired = await bot.expire_approvals()
    assert expired == 1
    lines = chat.lines
    assert any(line.get("replaces") == "approval:1" and "Expired" in line["text"] for line in lines)
    assert "opened ticket HELP-1" in texts(lines, to=ANN)
    late = await chat.click(TOM, approve)
    assert "already expired" in texts(late)
    assert approval_status(bot) == "expired"
    assert ("system", "approval.expire:reset_password", "expired") in audit(bot)
    assert await bot.expire_approvals() == 0


async def test_expiry_noticed_on_click(chat: Chat, bot: Bot, clock: Clock) -> None:
    """A decision after the deadline, before any sweep ran, expires the request instead of approving it."""
    await ask_for_reset(chat)
    clock.advance(hours=2)
    decision = await bot.approvals.decide(1, Employee(email=TOM, is_technician=True), True)
    assert not decision.accepted and decision.expired_now
    assert decision.reason == "This request has expired."
    assert approval_status(bot) == "expired"


async def test_self_approval_refused(chat: Chat, bot: Bot) -> None:
    """A technician cannot approve their own request; another technician can."""
    approve = await ask_for_reset(chat, who=TOM)
    lines = await chat.click(TOM, approve)
    assert "cannot decide on your own request" in texts(lines)
    assert lines[0]["private"] is True
    assert approval_status(bot) == "pending"
    assert (TOM, "approval.approved:reset_password", "refused") in audit(bot)
    lines = await chat.click(TIA, approve)
    assert "Approved by tia@city.example" in texts(lines, to="technicians")


async def test_non_technician_refused(chat: Chat, bot: Bot) -> None:
    """An employee who is not a technician cannot approve, even someone else's request."""
    approve = await ask_for_reset(chat)
    lines = await chat.click(BOB, approve)
    assert "Only technicians" in texts(lines)
    assert approval_status(bot) == "pending"
    assert (BOB, "approval.approved:reset_password", "refused") in audit(bot)


async def test_reset_for_someone_else(chat: Chat, bot: Bot) -> None:
    """An employee may not ask for another person's reset; a technician may, and the target may not approve."""
    lines = await chat.say(ANN, "please reset the password for bob@city.example")
    assert "only reset or unlock your own account" in texts(lines)
    assert (ANN, "accounts.denied", "refused") in audit(bot)
    lines = await chat.say(TOM, "reset password for tia@city.example")
    lines = await chat.click(TOM, button(lines, "Yes"))
    approve = button(lines, "Approve")
    assert "tia@city.example" in texts(lines, to="technicians")
    refused = await chat.click(TIA, approve)
    assert "own request" in texts(refused)
    assert approval_status(bot) == "pending"


async def test_survives_a_restart(chat: Chat, bot: Bot, parser: EmbeddedParser, clock: Clock) -> None:
    """A pending approval decided after a restart still reaches the employee."""
    approve = await ask_for_reset(chat)
    bot.close()
    fresh = Bot(bot.settings, nlu=parser, clock=clock)
    fresh.start()
    try:
        again = Chat(fresh)
        lines = await again.click(TOM, approve)
        assert "approved by tom@city.example" in texts(lines, to=ANN)
    finally:
        fresh.close()
