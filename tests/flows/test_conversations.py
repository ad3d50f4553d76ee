"""Everyday conversations through the console channel: greeting, help, fallback, confirmation, robustness."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.app import Bot
from bot.core.messages import Turn
from bot.nlu import EmbeddedParser
from bot.store import AuditEntry, ConversationState
from tests.support import Chat, Clock, button, make_settings, running_bot, texts

ANN, TOM = "ann@city.example", "tom@city.example"


async def test_greeting_uses_the_name(chat: Chat) -> None:
    """A greeting is answered by name in the same conversation."""
    lines = await chat.say(ANN, "hi there")
    assert lines == [{"to": ANN, "text": lines[0]["text"], "buttons": [], "private": False}]
    assert lines[0]["text"].startswith("Hi ann!")


async def test_help_lists_only_what_this_person_may_do(chat: Chat, bot: Bot) -> None:
    """Help is drawn from the registered skills; announcements are listed for technicians only."""
    employee = texts(await chat.say(ANN, "what can you do"))
    for skill in bot.skills:
        assert skill.summary in employee
    assert "announce" not in employee.lower()
    technician = texts(await chat.say(TOM, "what can you do"))
    assert "Reset your password" in technician and "announce email maintenance" in technician


async def test_fallback_then_offer_of_a_human(chat: Chat, bot: Bot) -> None:
    """No dead end: out of scope is declined politely with a ticket and a person to click, and so is
    gibberish; the person button reaches the technicians with what was written."""
    first = await chat.say(ANN, "what time does the farmers market open on saturday")
    assert "isn't something I can help with" in texts(first)
    assert [b["label"] for b in first[0]["buttons"]][-2:] == ["Open a ticket", "Talk to a person"]
    second = await chat.say(ANN, "zxqv plorp wibble")
    labels = [b["label"] for b in second[0]["buttons"]]
    assert labels == ["Open a ticket", "Talk to a person"]
    lines = await chat.click(ANN, button(second, "Talk to a person"))
    assert "asked to talk to a person" in texts(lines, to="technicians")
    assert "zxqv plorp wibble" in texts(lines, to="technicians")
    assert "asked the IT technicians to get in touch" in texts(lines, to=ANN)


async def test_missed_then_ticket_keeps_what_was_written(chat: Chat) -> None:
    """After two misses, 'Open a ticket' previews a ticket with the employee's own words."""
    await chat.say(ANN, "the thing with the stuff")
    second = await chat.say(ANN, "the fnord zibbles the blorp")
    lines = await chat.click(ANN, button(second, "Open a ticket"))
    assert "Summary: the fnord zibbles the blorp" in texts(lines)
    lines = await chat.click(ANN, button(lines, "Submit"))
    assert "ticket HELP-1 is open" in texts(lines, to=ANN)


@pytest.fixture
def unsure_bot(database_url: str, parser: EmbeddedParser, clock: Clock) -> Iterator[Bot]:
    """A bot that asks to clarify whenever the top two intents are within 0.99 of each other."""
    with running_bot(make_settings(database_url, nlu_ambiguity_margin=0.99), nlu=parser, clock=clock) as instance:
        yield instance


async def test_close_call_asks_which_one(unsure_bot: Bot) -> None:
    """Where the top two intents are close, the bot asks with buttons and a click carries on."""
    chat = Chat(unsure_bot)
    lines = await chat.say(ANN, "my account is locked and i forgot my password")
    assert "Which did you mean?" in texts(lines)
    ids = [b["id"] for b in lines[0]["buttons"]]
    assert len(ids) == 3 and all(i.startswith("intent:") for i in ids) and ids[-1] == "intent:human_handoff"
    chosen = "intent:unlock_account" if "intent:unlock_account" in ids else ids[0]
    lines = await chat.click(ANN, chosen)
    assert "Do you want me to" in texts(lines)


async def test_confirmation_by_typing_yes_or_no(chat: Chat, bot: Bot) -> None:
    """A yes/no question takes typed answers as well as buttons."""
    await chat.say(ANN, "I'm locked out of my computer")
    lines = await chat.say(ANN, "no thanks")
    assert "I won't change anything" in texts(lines)
    await chat.say(ANN, "my account got locked")
    lines = await chat.say(ANN, "yes please")
    assert "Approval needed" in texts(lines, to="technicians")


async def test_stale_confirmation_button_does_nothing(chat: Chat, bot: Bot) -> None:
    """A Yes button from an earlier question does nothing once a new question replaced it."""
    first = await chat.say(ANN, "I forgot my password")
    await chat.say(ANN, "my account is locked out")
    lines = await chat.click(ANN, button(first, "Yes"))
    assert "no longer open" in texts(lines)
    assert texts(lines, to="technicians") == ""


async def test_yes_out_of_the_blue(chat: Chat) -> None:
    """A yes with nothing pending is answered politely."""
    lines = await chat.say(ANN, "yes")
    assert "nothing waiting for a yes or no" in texts(lines)


async def test_unknown_and_malformed_buttons(chat: Chat) -> None:
    """A click on a button id the bot never made is refused without a crash."""
    for bogus in ("nonsense", "approval:abc:approve", "skill:nope:x:y", "intent:not_an_intent", ""):
        lines = await chat.click(ANN, bogus)
        assert lines, bogus


async def test_very_long_and_hostile_messages(chat: Chat, bot: Bot) -> None:
    """A 10,000-character message is understood from its first line; a huge one is refused; nothing crashes."""
    log = "\n".join(f"08:{i % 60:02d}:11 WARN AuthService: login for jdoe returned 0xC000006A" for i in range(170))
    message = "I forgot my password and now I cannot get into anything. The log says:\n" + log
    assert len(message) > 10_000
    lines = await chat.say(ANN, message)
    assert "Do you want me to" in texts(lines)
    lines = await chat.say(ANN, "x" * 50_000)
    assert "very long" in texts(lines)
    lines = await chat.say(ANN, "@channel @everyone <!here> *)(uid=*))(|(uid=*")
    assert lines and all(line["to"] == ANN for line in lines)


async def test_duplicate_event_is_handled_once(chat: Chat, bot: Bot) -> None:
    """The same event id twice (a platform retry) gives one answer."""
    employee = await bot.identity.resolve("console", ANN, email=ANN)
    for _ in range(2):
        await bot.handle(Turn("console", ANN, ANN, text="hello", event_id="Ev123", employee=employee))
    assert len(chat.lines) == 1


async def test_technician_only_intent_is_refused_and_audited(chat: Chat, bot: Bot) -> None:
    """An employee who tries to announce is refused, and the refusal is audited."""
    lines = await chat.say(ANN, "announce email maintenance saturday 6am to 10am")
    assert "only technicians can do that" in texts(lines).lower()
    rows = bot.db.call(lambda s: s.exec(select(AuditEntry).where(AuditEntry.outcome == "refused")).all())
    assert [(r.actor, r.action) for r in rows] == [(ANN, "notices.announce")]


async def test_slot_question_can_be_cancelled(chat: Chat, bot: Bot) -> None:
    """A question for a missing detail can be answered, or dropped with a no."""
    lines = await chat.say(ANN, "I need to open a ticket")
    assert "what is the problem" in texts(lines).lower()
    lines = await chat.say(ANN, "never mind")
    assert "dropped that" in texts(lines)
    state = bot.db.call(lambda s: s.exec(select(ConversationState)).first())
    assert state is not None and state.pending == {}
