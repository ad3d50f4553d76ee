"""The built-in queue worked from chat: technicians list, take, comment and resolve; the employee is told."""

from __future__ import annotations

from sqlmodel import select

from bot.app import Bot
from bot.core.messages import Turn
from bot.store import Ticket, TicketComment
from tests.support import Chat, button, texts

ANN, BOB, TOM = "ann@city.example", "bob@city.example", "tom@city.example"


async def _open(chat: Chat, user: str, text: str) -> None:
    lines = await chat.say(user, text)
    await chat.click(user, button(lines, "Submit"))


def _comments(bot: Bot) -> list[TicketComment]:
    return list(bot.db.call(lambda s: s.exec(select(TicketComment).order_by(TicketComment.id)).all()))


async def test_technician_works_the_queue(chat: Chat, bot: Bot) -> None:
    """The queue lists open tickets with Take buttons; taking and resolving each tell the employee."""
    await _open(chat, ANN, "the printer on the 2nd floor prints blank pages")
    await _open(chat, BOB, "my second monitor flickers all day")
    lines = await chat.say(TOM, "show me the open tickets")
    queue = texts(lines, to=TOM)
    assert "Open tickets (2)" in queue and "HELP-1 (open)" in queue and "HELP-2 (open)" in queue
    lines = await chat.click(TOM, button(lines, "Take HELP-1"))
    assert "HELP-1 is yours now (in progress)" in texts(lines, to=TOM)
    told = texts(lines, to=ANN)
    assert "Update on your ticket HELP-1" in told and "Status: open → in progress" in told
    assert "Assignee: tom@city.example" in told
    lines = await chat.say(TOM, "resolve HELP-1: replaced the drum unit")
    told = texts(lines, to=ANN)
    assert "Status: in progress → resolved" in told and "replaced the drum unit" in told
    assert "HELP-1" not in texts(await chat.say(TOM, "ticket queue"))
    ticket = bot.db.call(lambda s: s.exec(select(Ticket).where(Ticket.key == "HELP-1")).one())
    assert (ticket.status, ticket.assignee) == ("resolved", TOM)


async def test_employees_cannot_take_or_resolve(chat: Chat, bot: Bot) -> None:
    """Taking and resolving are for technicians; an employee asking for the queue sees only their own."""
    await _open(chat, ANN, "outlook wont open my calendar")
    assert "Only technicians can take tickets" in texts(await chat.say(BOB, "take HELP-1"))
    assert "Only technicians can resolve" in texts(await chat.say(ANN, "close HELP-1"))
    lines = await chat.say(BOB, "show me the open tickets")
    assert "HELP-1" not in texts(lines)
    assert bot.db.call(lambda s: s.exec(select(Ticket)).one()).status == "open"


async def test_comments_from_both_sides(chat: Chat, bot: Bot) -> None:
    """The employee's comment goes to the technicians; a technician's comment goes to the employee."""
    await _open(chat, ANN, "my laptop fan is very loud and the laptop gets hot")
    lines = await chat.say(ANN, "add to HELP-1: it is louder when I am on teams calls")
    assert "Added your comment to HELP-1" in texts(lines, to=ANN)
    assert "ann@city.example added to HELP-1: it is louder" in texts(lines, to="technicians")
    assert "Update on your ticket" not in texts(lines)
    lines = await chat.say(TOM, "comment on HELP-1: I will swap it tomorrow at 9")
    assert "New comment from tom@city.example: I will swap it tomorrow at 9" in texts(lines, to=ANN)
    assert "can't find a ticket of yours" in texts(await chat.say(BOB, "add to HELP-1: me too"))
    assert [c.author for c in _comments(bot)] == [ANN, TOM]


async def test_a_reply_in_the_thread_is_a_comment(chat: Chat, bot: Bot) -> None:
    """A reply under the "ticket is open" message becomes a comment, whatever its words."""
    lines = await chat.say(ANN, "the badge reader at station 2 isnt reading my card")
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert [line.get("key") for line in lines if line["to"] == ANN] == ["tickets:HELP-1"]
    turn = Turn(channel="console", user_id=ANN, conversation_id=ANN, text="I forgot my password too",
                thread_key="tickets:HELP-1")
    turn.employee = await bot.identity.resolve("console", ANN, email=ANN, private_conversation=ANN)
    await bot.handle(turn)
    assert [c.body for c in _comments(bot)] == ["I forgot my password too"]
    assert "Added your comment to HELP-1" in texts(chat.lines)


async def test_a_very_long_message_keeps_everything(chat: Chat, bot: Bot) -> None:
    """A 10,000-character report: a one-line summary in the preview, the whole text in the ticket."""
    log = "\n".join(f"2026-11-23 09:{i % 60:02d} error 0x{i:04x} in module printing" for i in range(240))
    message = "the plotter in engineering keeps failing with the errors below\n" + log
    assert len(message) > 10_000
    lines = await chat.say(ANN, message)
    assert "Summary: the plotter in engineering keeps failing with the errors below" in texts(lines)
    await chat.click(ANN, button(lines, "Submit"))
    ticket = bot.db.call(lambda s: s.exec(select(Ticket)).one())
    assert ticket.summary == "the plotter in engineering keeps failing with the errors below"
    assert ticket.description == message


async def test_the_summary_skips_who_is_writing(chat: Chat, bot: Bot) -> None:
    """"Parks maintenance here. the pc in the mower shed ...": the summary is the first sentence that tells the
    problem, not the one that says who is writing; the description keeps both."""
    message = "Parks maintenance here. the pc in the mower shed wont turn on since the storm last night"
    lines = await chat.say(ANN, message)
    assert "Summary: the pc in the mower shed wont turn on since the storm last night" in texts(lines)
    await chat.click(ANN, button(lines, "Submit"))
    ticket = bot.db.call(lambda s: s.exec(select(Ticket)).one())
    assert ticket.summary.startswith("the pc in the mower shed") and ticket.description == message


async def test_unknown_ticket(chat: Chat) -> None:
    """A key that does not exist is said plainly."""
    assert "I can't find a ticket of yours called HELP-404" in texts(await chat.say(ANN, "any update on HELP-404?"))


async def test_more_words_under_the_preview_go_into_the_draft(chat: Chat, bot: Bot) -> None:
    """Context first, the problem second: the second message, which asks for nothing else, is added to the draft
    and the preview shown again; Submit files one ticket with both."""
    first = "the label printer at the evidence counter prints every barcode twice since the update last night"
    lines = await chat.say(ANN, first)
    assert "Here is the ticket" in texts(lines)
    more = "and now it also cuts the labels in half, we have a stack of property bags waiting on it"
    lines = await chat.say(ANN, more)
    assert "added that" in texts(lines) and "cuts the labels in half" in texts(lines)
    await chat.click(ANN, button(lines, "Submit"))
    ticket = bot.db.call(lambda s: s.exec(select(Ticket)).one())
    assert first in ticket.description and more in ticket.description


async def test_a_clear_wish_for_a_person_under_the_preview_is_a_hand_off(chat: Chat, bot: Bot) -> None:
    """Under a waiting preview, "and honestly i just want a person to call me" goes on from the message before, but
    is a clear wish for a person, not more of the draft: the technicians are told."""
    await chat.say(ANN, "the label printer at the evidence counter prints every barcode twice since last night")
    lines = await chat.say(ANN, "and honestly i just want a real person to call me about it")
    assert "added that" not in texts(lines)
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert bot.db.call(lambda s: s.exec(select(Ticket)).all()) == []


async def test_a_draft_grows_no_longer_than_the_longest_message(chat: Chat, bot: Bot) -> None:
    """More words that would make the draft longer than a message may be are read on their own, not added."""
    await chat.say(ANN, "the label printer at the evidence counter prints every barcode twice since last night")
    long_more = "and also " + "it jams again " * 1_424
    assert len(long_more) <= bot.settings.max_message_chars
    lines = await chat.say(ANN, long_more)
    assert "added that" not in texts(lines)
